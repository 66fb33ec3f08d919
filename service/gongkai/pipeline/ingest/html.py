"""HTML backend: a government web page in, one geometry-less page of paragraphs and table grids out.

Published reports are usually article pages of a government portal, so most of the work is finding the
article between the portal's navigation, breadcrumbs, share buttons and footers, and recovering the
statutory tables (rowspan/colspan grids, sometimes wrapped in old-style layout tables).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from gongkai.errors import EmptyDocumentError
from gongkai.pipeline.datamodel import (
    Document,
    GridCell,
    SourceInfo,
    TableGrid,
    TextSource,
    flow_document,
)

# Never content: dropped before anything else is looked at.
_JUNK_TAGS = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head"}
)
# Page chrome by element name; dropped unless the element evidently wraps the article (see _is_chrome).
_CHROME_TAGS = frozenset({"nav", "header", "footer", "aside", "form"})
# Chrome keywords in id/class. "Strong" ones never name an article wrapper; "weak" ones (header, footer …)
# do appear in article markup such as "article-header", so an article-ish word alongside rescues them.
_STRONG_CHROME = ("nav", "menu", "breadcrumb", "crumb", "sidebar", "share", "copyright")
_WEAK_CHROME = ("header", "footer", "foot", "head", "banner")
_ARTICLE_WORDS = ("article", "detail", "zoom", "editor", "trs", "zhengwen", "zwnr", "post", "entry")
# Words naming the main content container, for choosing the article root.
_CONTENT_WORDS = ("content", "article", "trs_editor", "zoom", "detail", "zhengwen", "zwnr", "neirong")
_CONTENT_TOKENS = frozenset({"main", "zw", "nr", "con", "text", "body"})

# Short lines that are portal chrome even when the markup does not say so (class="bottom", bare <td>).
_CHROME_LINE = re.compile(
    r"版权所有|主办单位|承办单位|协办单位|ICP备|网站标识码|公网安备|网安备|当前位置|您现在的位置|"
    r"分享到|打印本页|关闭窗口|【打印】|【关闭】|字号[:：]|收藏本页|设为首页|加入收藏"
)
_CHROME_LINE_MAX = 120

# Elements that start a new block (flush the running line buffer).
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "html",
        "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
# Elements whose <br>-separated lines stay one block: a source paragraph is one block.
_PARA_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "caption"})

_GB_ALIASES = frozenset(
    {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "ms936", "windows-936", "euc-cn", "csgb2312"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\n\f]+")
# Source-formatting newlines between two CJK characters are not a word space (CSS drops them too).
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_CJK_BREAK = re.compile(rf"(?<={_CJK})[ \t\r\f]*\n[ \t\r\n\f]*(?={_CJK})")
_EDGE_SPACE = (
    "".join(chr(c) for c in range(0x21) if chr(c).isspace()) + "\u00a0\u3000\u200b\u2002\u2003\u2009\ufeff"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_MAX_SPAN = 1000  # a malicious colspan="99999999" must not allocate a huge grid


def read_html(data: bytes, source: SourceInfo) -> Document:
    """Read an HTML page into a one-page ``Document`` (paragraph blocks and table grids)."""
    text = decode_html(data)
    body = _parse_body(text)
    if body is None:
        raise EmptyDocumentError("the HTML page has no text")
    page_title = _page_title(body)
    _drop_junk(body)
    _drop_chrome(body)
    root = _main_content(body)

    emitter = _Emitter()
    title = _title_before(root) if root is not body else None
    if title is not None:
        emitter.walk(title)
    emitter.walk(root)
    emitter.flush()
    items = [it for it in emitter.items if isinstance(it, TableGrid) or not _is_chrome_line(it)]
    doc = flow_document(source, items, TextSource.HTML, "the HTML page")
    doc.page_title = page_title
    return doc


def _page_title(body: lxml.html.HtmlElement) -> str | None:
    """The page's own title for metadata: the CMS's ArticleTitle meta, else <title>. Government
    portals (TRS and the like) fill ArticleTitle with the article's title alone."""
    head = body.getroottree().getroot().find("head")
    if head is None:
        return None
    for meta in head.iter("meta"):
        content = _SPACES.sub(" ", meta.get("content") or "").strip()
        if (meta.get("name") or "").lower() in ("articletitle", "title") and content:
            return content
    title = _SPACES.sub(" ", head.findtext("title") or "").strip()
    return title or None


# --- decoding ---------------------------------------------------------------------------------------


def decode_html(data: bytes) -> str:
    """Decode by BOM, then the declared charset, then UTF-8, then GB18030 (lenient)."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the same bytes
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
    candidates: list[str] = []
    declared = _declared_charset(data)
    if declared == "gb18030":
        # GB18030 decodes almost any bytes, so a UTF-8 page mislabelled gb2312 (common after CMS
        # migrations) would silently turn into mojibake. Valid non-ASCII UTF-8 is not GBK by accident.
        candidates.append("utf-8")
    if declared:
        candidates.append(declared)
    candidates += ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            # Pages often declare gb2312 but are UTF-8 (or the reverse): fall through to the next guess.
            continue
    return data.decode("gb18030", errors="replace")


def _declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:8192])
    if not m:
        return None
    name = m.group(1).decode("ascii", errors="ignore").strip().lower()
    if name in _GB_ALIASES:
        return "gb18030"  # a superset of GB2312 and GBK; publishers mislabel GBK text as gb2312
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


# --- parsing and cleaning ---------------------------------------------------------------------------


def _parse_body(text: str) -> lxml.html.HtmlElement | None:
    text = _CONTROL.sub("", text)
    if not text.strip():
        return None
    # Hand libxml2 UTF-8 bytes with a fixed encoding so a <meta charset> inside cannot re-decode them.
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    body = doc.find("body")
    return body if body is not None else doc


def _drop_junk(body: lxml.html.HtmlElement) -> None:
    for el in list(body.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.tag.lower() in _JUNK_TAGS and el.getparent() is not None:
            el.drop_tree()


def _drop_chrome(body: lxml.html.HtmlElement) -> None:
    total = _text_len(body)
    for el in list(body.iter()):
        if el is body or not isinstance(el.tag, str) or el.getparent() is None:
            continue
        if not _is_chrome(el) and not _is_hidden(el):
            continue
        # A chrome-looking element that holds most of the page and is not a list of links wraps the
        # article (ASP.NET pages put everything in <form>); keep it and judge its children instead.
        n = _text_len(el)
        if total and n >= 0.5 * total and _link_len(el) < 0.5 * n:
            continue
        if _is_attached(el, body):
            el.drop_tree()


def _is_attached(el: lxml.html.HtmlElement, body: lxml.html.HtmlElement) -> bool:
    """False once an ancestor was dropped (``iter`` snapshots the tree before removals)."""
    return any(anc is body for anc in el.iterancestors())


def _is_hidden(el: lxml.html.HtmlElement) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style or el.get("hidden") is not None


def _tokens(el: lxml.html.HtmlElement) -> list[str]:
    raw = f"{el.get('id') or ''} {el.get('class') or ''}"
    return [t for t in _TOKEN_SPLIT.split(_CAMEL.sub(" ", raw).lower()) if t]


def _is_chrome(el: lxml.html.HtmlElement) -> bool:
    tag = el.tag.lower()
    if tag in ("header", "footer") and any(a.tag in ("article", "main") for a in el.iterancestors()):
        return False  # <article><header><h1> carries the report title
    if tag in _CHROME_TAGS:
        return True
    tokens = _tokens(el)
    if not tokens:
        return False
    joined = " ".join(tokens)
    for tok in tokens:
        # "nav" only as a token or compound edge (navbar, topnav), so "unavailable" is safe.
        if (tok.startswith("nav") and tok != "navy") or tok.endswith("nav"):
            return True
        if any(kw in tok for kw in _STRONG_CHROME if kw != "nav"):
            return True
    weak = any(
        tok == kw or (len(kw) > 4 and kw in tok and "footnote" not in tok)
        for tok in tokens
        for kw in _WEAK_CHROME
    )
    return weak and not any(w in joined for w in _ARTICLE_WORDS)


def _is_content_container(el: lxml.html.HtmlElement) -> bool:
    tokens = _tokens(el)
    return any(t in _CONTENT_TOKENS for t in tokens) or any(w in t for t in tokens for w in _CONTENT_WORDS)


def _main_content(body: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The content container holding the most text, if it holds a fair share of the page; else body."""
    total = _text_len(body)
    best: lxml.html.HtmlElement | None = None
    best_len = 0
    for el in body.iter():
        if el is body or not isinstance(el.tag, str) or not _is_content_container(el):
            continue
        n = _text_len(el)
        if n > best_len:  # strict: on a tie the outer element (seen first) wins and keeps the title
            best, best_len = el, n
    # A small "content" box (a sidebar widget) must not replace a page whose text is elsewhere.
    if best is not None and best_len >= 0.3 * total:
        return best
    return body


def _title_before(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The article title when the content box starts below it (``<h1>`` then ``<div id="zoom">``).

    Only headings close to the box count: preceding elements under its parent or grandparent.
    """
    if any(True for _ in root.iter("h1")):
        return None
    scope = root.getparent()
    for _ in range(2):
        if scope is None:
            return None
        found: lxml.html.HtmlElement | None = None
        for el in scope.iter():
            if el is root:
                break
            if not isinstance(el.tag, str):
                continue
            is_title = el.tag in ("h1", "h2") or any(t in ("title", "biaoti", "bt") for t in _tokens(el))
            if is_title and 4 <= _text_len(el) <= 150 and _link_len(el) == 0:
                found = el
        if found is not None:
            return found
        scope = scope.getparent()
    return None


def _text_len(el: lxml.html.HtmlElement) -> int:
    return len(_SPACES.sub("", el.text_content()).strip(_EDGE_SPACE))


def _link_len(el: lxml.html.HtmlElement) -> int:
    return sum(_text_len(a) for a in el.iter("a"))


def _is_chrome_line(text: str) -> bool:
    return len(text) <= _CHROME_LINE_MAX and _CHROME_LINE.search(text) is not None


# --- text and tables --------------------------------------------------------------------------------


def _clean_lines(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        line = _SPACES.sub(" ", line).strip(_EDGE_SPACE)
        if line:
            out.append(line)
    return out


@dataclass
class _Emitter:
    """Walks a subtree in document order, producing paragraph strings and table grids."""

    in_cell: bool = False  # extracting a data cell's text: every nested table there is cell text
    items: list[str | TableGrid] = field(default_factory=list)
    _lines: list[str] = field(default_factory=lambda: [""])

    def add(self, text: str | None, pre: bool = False) -> None:
        if not text:
            return
        if pre:
            parts = text.split("\n")
            self._lines[-1] += parts[0]
            self._lines.extend(parts[1:])
        else:
            self._lines[-1] += _CJK_BREAK.sub("", text)

    def newline(self) -> None:
        self._lines.append("")

    def flush(self) -> None:
        lines = _clean_lines(self._lines)
        if lines:
            self.items.append("\n".join(lines))
        self._lines = [""]

    def walk(self, el: lxml.html.HtmlElement, in_para: bool = False, pre: bool = False) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag:
            return
        if tag == "table":
            self.flush()
            self._table(el)
            return
        if tag == "br":
            # Inside a paragraph a <br> is a line break; in a bare container it separates paragraphs.
            if in_para:
                self.newline()
            else:
                self.flush()
            return
        block = tag in _BLOCK_TAGS
        if block:
            self.flush()
        in_para = in_para or tag in _PARA_TAGS
        pre = pre or tag == "pre"
        self.add(el.text, pre)
        for child in el:
            self.walk(child, in_para, pre)
            self.add(child.tail, pre)
        if block:
            self.flush()

    def _table(self, table: lxml.html.HtmlElement) -> None:
        for cap in table.findall("caption"):
            self.walk(cap)
            self.flush()
        rows = list(_table_rows(table))
        if not self.in_cell and _is_layout_table(rows):
            # Transparent: its cells are just containers of paragraphs and (data) tables.
            for row in rows:
                for cell in row:
                    self.walk(cell)
                    self.flush()
            return
        grid = _build_grid(rows)
        if grid is not None and any(c.text for c in grid.cells):
            self.items.append(grid)


def _table_rows(table: lxml.html.HtmlElement) -> Iterator[list[lxml.html.HtmlElement]]:
    """The table's own rows as lists of td/th, ignoring rows of nested tables.

    Stray cells directly under <table>/<tbody> (broken markup) form an implicit row.
    """
    stray: list[lxml.html.HtmlElement] = []
    for child in _row_containers(table):
        tag = child.tag.lower()
        if tag in ("td", "th"):
            stray.append(child)
            continue
        if stray:
            yield stray
            stray = []
        if tag == "tr":
            yield [c for c in child if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
    if stray:
        yield stray


def _row_containers(table: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    for child in table:
        if not isinstance(child.tag, str):
            continue
        if child.tag.lower() in ("thead", "tbody", "tfoot"):
            yield from (c for c in child if isinstance(c.tag, str))
        else:
            yield child


def _span(cell: lxml.html.HtmlElement, attr: str) -> int:
    m = re.match(r"\s*(\d+)", cell.get(attr) or "")
    return int(m.group(1)) if m else 1


def _build_grid(rows: list[list[lxml.html.HtmlElement]]) -> TableGrid | None:
    """Place anchor cells with an occupancy map: rowspans push later cells of lower rows to the right."""
    n_rows = len(rows)
    occupied: set[tuple[int, int]] = set()
    cells: list[GridCell] = []
    n_cols = 0
    for r, row in enumerate(rows):
        c = 0
        for td in row:
            while (r, c) in occupied:
                c += 1
            # colspan="0" is not a thing in HTML5 (treated as 1); rowspan="0" means "to the last row".
            col_span = min(max(_span(td, "colspan"), 1), _MAX_SPAN)
            row_span = _span(td, "rowspan")
            row_span = n_rows - r if row_span == 0 else min(row_span, n_rows - r)
            for rr in range(r, r + row_span):
                for cc in range(c, c + col_span):
                    occupied.add((rr, cc))
            cells.append(GridCell(row=r, col=c, text=_cell_text(td), row_span=row_span, col_span=col_span))
            c += col_span
            n_cols = max(n_cols, c)
    if not cells:
        return None
    return TableGrid(n_rows=n_rows, n_cols=n_cols, cells=cells, source=TextSource.HTML, page=1)


def _cell_text(td: lxml.html.HtmlElement) -> str:
    """The cell's paragraphs and lines joined with newlines; nested tables contribute their cell text."""
    sub = _Emitter(in_cell=True)
    sub.walk(td)
    sub.flush()
    lines: list[str] = []
    for item in sub.items:
        if isinstance(item, TableGrid):
            lines += [line for cell in item.cells for line in cell.text.split("\n") if line]
        else:
            lines += item.split("\n")
    return "\n".join(lines)


def _is_layout_table(rows: list[list[lxml.html.HtmlElement]]) -> bool:
    """True for tables that position page content rather than hold data."""
    cells = [td for row in rows for td in row]
    if not cells:
        return True
    n_cols = max(sum(min(max(_span(td, "colspan"), 1), _MAX_SPAN) for td in row) for row in rows)
    if n_cols <= 1:
        return True  # a one-column "table" is a stack of boxes
    if any(_holds_prose(td) for td in cells):
        return True
    inner = [
        t for td in cells for t in td.iter("table") if not any(a.tag == "table" for a in _between(t, td))
    ]
    if not inner:
        return False
    # A skeleton around inner tables (few columns, or most of its text inside them): the inner ones are
    # the data. A real data table with a small table in one cell keeps that as cell text.
    return n_cols <= 3 or sum(_text_len(t) for t in inner) >= 0.5 * sum(_text_len(td) for td in cells)


def _between(el: lxml.html.HtmlElement, top: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    """Ancestors of ``el`` strictly below ``top``."""
    for anc in el.iterancestors():
        if anc is top:
            return
        yield anc


def _holds_prose(td: lxml.html.HtmlElement) -> bool:
    """A cell of running text (the article itself), unlike the short labels and numbers of data cells."""
    n = _text_len(td)
    if n > 300:
        return True
    paras = sum(1 for el in td.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li") if _text_len(el) > 0)
    return paras >= 3 and n >= 120
