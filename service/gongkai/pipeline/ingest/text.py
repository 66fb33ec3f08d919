"""Plain-text backend: a report crawled from a site as text, one geometry-less page out.

Crawled text keeps the narrative and the metadata, but a table survives only as tab-separated lines
(a copy from a browser), as ``|``-separated lines, or as ``label：number`` statistics. Those become
table grids; everything else is a paragraph. Whether a statutory table was recovered is for the
caller to say once the tables are classified: this module only reports what it found.

Not registered in ``sniff_media_type``: any bytes can pass for text, so ``gongkai extract`` keeps
refusing it; a caller that knows it holds a text report (``gongkai batch``) calls ``read_text``.
"""

from __future__ import annotations

import codecs
import re

from gongkai.errors import EmptyDocumentError
from gongkai.pipeline.datamodel import Document, GridCell, SourceInfo, TableGrid, TextSource, flow_document

TEXT = "text/plain"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RULE_LINE = re.compile(r"^[\s\-=_—|+:]+$")  # ---\t--- or +----+ separators between table rows
# Two or more spaces between columns (a text-mode table): only trusted with a number among the cells.
_WIDE_GAP = re.compile(r"\s{2,}|\u3000+")
_NUMBER = re.compile(r"^[-+]?\d[\d,，]*(?:\.\d+)?$")
# "本年新收政府信息公开申请数量：3件" / "行政许可 0": a label and one count.
_KEY_VALUE = re.compile(
    r"^(?P<label>[^\d：:]{2,60}?)\s*[：:]?\s*(?P<value>\d[\d,，]*(?:\.\d+)?)\s*(?:件|条|个|次|万元|元)?$"
)
_REQUEST_WORDS = re.compile(r"申请|予以公开|部分公开|不予公开|无法提供|不予处理|结转")
_SENTENCE_END = "。；！？：;!?:）)」』”"
_HEADING_START = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[.、．])")
_WRAP_MIN = 20  # a hard-wrapped line is at least this long before it continues on the next one


def decode_text(data: bytes) -> str:
    """By BOM, then strict UTF-8, then strict GB18030 (GBK and GB2312 are subsets), then lenient."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace")


def read_text(data: bytes, source: SourceInfo) -> Document:
    """Read a plain-text report into a one-page ``Document`` (paragraphs and recovered table grids)."""
    text = _CONTROL.sub("", decode_text(data).replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise EmptyDocumentError("the text file is empty")
    items = _items(text.split("\n"))
    doc = flow_document(source, items, TextSource.TEXT, "the text file")
    n_tables = sum(isinstance(i, TableGrid) for i in items)
    doc.warnings.append(
        f"plain text: {n_tables} table(s) recovered from tab, '|' or label/number lines"
        if n_tables
        else "plain text: no table could be recovered (no tab, '|' or label/number lines)"
    )
    return doc


def _cells(line: str) -> list[str] | None:
    """The cells of a table line, or None for a line of prose."""
    if "\t" in line:
        return [c.strip() for c in line.split("\t")]
    if line.count("|") >= 2:
        return [c.strip() for c in line.strip().strip("|").split("|")]
    parts = [p for p in _WIDE_GAP.split(line.strip()) if p]
    if len(parts) >= 3 and any(_NUMBER.match(p) for p in parts[1:]):
        return parts
    m = _KEY_VALUE.match(line.strip())
    if m and not m.group("label").rstrip().endswith(tuple(_SENTENCE_END)):
        return [m.group("label").strip(), m.group("value")]
    return None


def _items(lines: list[str]) -> list[str | TableGrid]:
    items: list[str | TableGrid] = []
    rows: list[list[str]] = []
    para: list[str] = []

    def flush_para() -> None:
        if para:
            items.append("".join(para))
            para.clear()

    def flush_table() -> None:
        grid = _grid(rows)
        if grid is not None:
            items.append(grid)
        rows.clear()

    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            flush_para()  # a blank line ends a paragraph but not a table (copies space out rows)
            continue
        if rows and _RULE_LINE.match(line):
            continue
        cells = _cells(line)
        if cells is not None and sum(1 for c in cells if c) >= 1 and len(cells) >= 2:
            flush_para()
            rows.append(cells)
            continue
        if rows:
            flush_table()
        stripped = line.strip()
        # A hard-wrapped paragraph continues on the next line; a heading or a finished sentence does not.
        if para and (
            len(para[-1]) < _WRAP_MIN or para[-1][-1] in _SENTENCE_END or _HEADING_START.match(stripped)
        ):
            flush_para()
        para.append(stripped)
    flush_para()
    if rows:
        flush_table()
    return items


def _grid(rows: list[list[str]]) -> TableGrid | None:
    # A lone label/number line is a sentence, not a table.
    if len(rows) < 2 and all(len(r) <= 2 for r in rows):
        return None
    if all(len(r) == 2 for r in rows) and any(_REQUEST_WORDS.search(r[0]) for r in rows):
        # label：number lines about requests state the 总计 column only; say so in a header row so the
        # mapping puts them there (the applicant columns stay missing, as they were never printed).
        rows = [["项目", "总计"], *rows]
    n_cols = max(len(r) for r in rows)
    cells = [
        GridCell(row=r, col=c, text=text) for r, row in enumerate(rows) for c, text in enumerate(row) if text
    ]
    if not cells:
        return None
    return TableGrid(n_rows=len(rows), n_cols=n_cols, cells=cells, source=TextSource.TEXT, page=1)
