"""DOCX backend: the main document part read straight from its XML.

python-docx's ``row.cells`` repeats a merged cell once per grid column and row it covers, and its
``Document.paragraphs``/``tables`` lose the interleaving of paragraphs and tables, so the body is walked
as XML: w:p and w:tbl in order, w:gridSpan and w:vMerge for merges, w:sdt content controls unwrapped.
Headers, footers, footnotes and comments live in other parts and are not read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO

from lxml import etree

from gongkai.errors import CorruptDocumentError, TooLargeError
from gongkai.pipeline.datamodel import (
    Document,
    GridCell,
    SourceInfo,
    TableGrid,
    TextSource,
    flow_document,
)

W_TRANSITIONAL = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOC = "/officeDocument"  # suffix of the relationship type (transitional and strict)

_MAX_XML_BYTES = 512 * 1024 * 1024  # an uncompressed document.xml beyond this is a zip bomb, not a report
_MAX_SPAN = 1000
_EDGE_SPACE = (
    "".join(chr(c) for c in range(0x21) if chr(c).isspace()) + "\u00a0\u3000\u200b\u2002\u2003\u2009\ufeff"
)
_SPACES = re.compile(r"[ \t\r\f]+")

# A hardened parser: no entity expansion, no network.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def read_docx(data: bytes, source: SourceInfo) -> Document:
    """Read a Word document into a one-page ``Document`` (paragraph blocks and table grids)."""
    root = _load_main_part(data)
    reader = _Reader(etree.QName(root).namespace or W_TRANSITIONAL)
    body = root.find(reader.w("body"))
    if body is None:
        raise CorruptDocumentError("the Word document has no body (word/document.xml is broken)")
    return flow_document(source, list(reader.blocks(body)), TextSource.DOCX, "the Word document")


def _load_main_part(data: bytes) -> etree._Element:
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            name = _main_part_name(zf)
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise CorruptDocumentError(f"the Word document has no main part ({name})") from None
            if info.file_size > _MAX_XML_BYTES:
                raise TooLargeError(f"the Word document's text part is {info.file_size} bytes uncompressed")
            xml = zf.read(info)
    except CorruptDocumentError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise CorruptDocumentError(f"the Word document cannot be opened: {_one_line(exc)}") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted or exotic zip entries
        raise CorruptDocumentError(f"the Word document cannot be unpacked: {_one_line(exc)}") from exc
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CorruptDocumentError(f"word/document.xml is not well-formed XML: {_one_line(exc)}") from exc
    if root is None or etree.QName(root).localname != "document":
        raise CorruptDocumentError("word/document.xml is not a WordprocessingML document")
    return root


def _main_part_name(zf: zipfile.ZipFile) -> str:
    """The main document part named by the package relationships; word/document.xml by default."""
    try:
        rels = etree.fromstring(zf.read("_rels/.rels"), parser=_PARSER)
    except (KeyError, etree.XMLSyntaxError, ValueError):
        return "word/document.xml"
    for rel in rels.iter(f"{{{_REL_NS}}}Relationship"):
        if (rel.get("Type") or "").endswith(_OFFICE_DOC) and rel.get("TargetMode") != "External":
            target = (rel.get("Target") or "").lstrip("/")
            if target:
                return posixpath.normpath(target)
    return "word/document.xml"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _clean(text: str) -> list[str]:
    """Stripped, non-empty lines (NBSP and ideographic spaces count as whitespace)."""
    out = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip(_EDGE_SPACE)
        if line:
            out.append(line)
    return out


class _Reader:
    def __init__(self, ns: str) -> None:
        # Strict OOXML files use another namespace for the same vocabulary.
        self.ns = ns if ns in (W_TRANSITIONAL, W_STRICT) else W_TRANSITIONAL

    def w(self, local: str) -> str:
        return f"{{{self.ns}}}{local}"

    def wval(self, el: etree._Element | None) -> str | None:
        return None if el is None else el.get(self.w("val"))

    # --- block level ---

    def block_children(self, parent: etree._Element) -> Iterator[etree._Element]:
        """w:p and w:tbl in order, looking through content controls and custom XML wrappers."""
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            q = etree.QName(child)
            if q.namespace == self.ns and q.localname in ("p", "tbl"):
                yield child
            elif q.namespace == self.ns and q.localname in ("sdt", "customXml", "ins", "moveTo"):
                inner = child.find(self.w("sdtContent")) if q.localname == "sdt" else child
                if inner is not None:
                    yield from self.block_children(inner)
            elif q.namespace == MC and q.localname == "AlternateContent":
                chosen = _alternate(child)
                if chosen is not None:
                    yield from self.block_children(chosen)

    def blocks(self, parent: etree._Element) -> Iterator[str | TableGrid]:
        for el in self.block_children(parent):
            if etree.QName(el).localname == "tbl":
                grid = self.table(el)
                if grid is not None:
                    yield grid
                continue
            text, boxes = self.paragraph(el)
            if text:
                yield text
            # Text boxes anchored in the paragraph follow it in reading order.
            for box in boxes:
                yield from self.blocks(box)

    def paragraph(self, p: etree._Element) -> tuple[str, list[etree._Element]]:
        parts: list[str] = []
        boxes: list[etree._Element] = []
        self._runs(p, parts, boxes)
        return "\n".join(_clean("".join(parts))), boxes

    def _runs(self, el: etree._Element, parts: list[str], boxes: list[etree._Element]) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            q = etree.QName(child)
            local = q.localname
            if q.namespace == MC and local == "AlternateContent":
                chosen = _alternate(child)
                if chosen is not None:
                    self._runs(chosen, parts, boxes)
                continue
            if q.namespace != self.ns:
                self._runs(child, parts, boxes)  # drawing containers (wp:, a:, wps:) hold text boxes
                continue
            if local == "t":
                parts.append(child.text or "")
            elif local in ("tab", "ptab"):
                parts.append(" ")
            elif local in ("br", "cr"):
                parts.append("\n")
            elif local == "noBreakHyphen":
                parts.append("-")
            elif local == "txbxContent":
                boxes.append(child)
            elif local in ("del", "moveFrom", "pPr", "rPr", "instrText", "delText", "fldChar"):
                continue  # deleted revisions and field codes are not visible text
            elif local == "tbl":
                continue  # not valid inside a paragraph
            else:
                self._runs(child, parts, boxes)

    # --- tables ---

    def table(self, tbl: etree._Element) -> TableGrid | None:
        grid_cols = len(tbl.findall(f"{self.w('tblGrid')}/{self.w('gridCol')}"))
        cells: list[GridCell] = []
        # Start column -> anchor cell, for the previous row: a vMerge="continue" extends what is above it.
        above: dict[int, GridCell] = {}
        n_cols = grid_cols
        rows = list(self._rows(tbl))
        for r, tr in enumerate(rows):
            tr_pr = tr.find(self.w("trPr"))
            col = self._int(tr_pr, "gridBefore", 0)
            current: dict[int, GridCell] = {}
            for tc in self._cells(tr):
                tc_pr = tc.find(self.w("tcPr"))
                span = min(max(self._int(tc_pr, "gridSpan", 1), 1), _MAX_SPAN)
                text = self.cell_text(tc)
                v_merge = tc_pr.find(self.w("vMerge")) if tc_pr is not None else None
                # vMerge without a val means "continue"; only val="restart" opens a merge.
                continues = v_merge is not None and self.wval(v_merge) in (None, "continue")
                anchor = above.get(col) if continues else None
                if anchor is not None:
                    anchor.row_span = r - anchor.row + 1
                    if text:  # Word leaves continuation cells empty; keep stray text rather than lose it
                        anchor.text = f"{anchor.text}\n{text}" if anchor.text else text
                    current[col] = anchor
                else:
                    cell = GridCell(row=r, col=col, text=text, row_span=1, col_span=span)
                    cells.append(cell)
                    current[col] = cell
                col += span
            n_cols = max(n_cols, col + self._int(tr_pr, "gridAfter", 0))
            above = current
        if not cells or not any(c.text for c in cells):
            return None
        return TableGrid(n_rows=len(rows), n_cols=n_cols, cells=cells, source=TextSource.DOCX, page=1)

    def _rows(self, tbl: etree._Element) -> Iterator[etree._Element]:
        yield from self._wrapped(tbl, "tr")

    def _cells(self, tr: etree._Element) -> Iterator[etree._Element]:
        yield from self._wrapped(tr, "tc")

    def _wrapped(self, parent: etree._Element, local: str) -> Iterator[etree._Element]:
        """Children named ``local``, also inside row/cell-level content controls and custom XML."""
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            q = etree.QName(child)
            if q.namespace == self.ns and q.localname == local:
                yield child
            elif q.namespace == self.ns and q.localname in ("sdt", "customXml"):
                inner = child.find(self.w("sdtContent")) if q.localname == "sdt" else child
                if inner is not None:
                    yield from self._wrapped(inner, local)

    def _int(self, pr: etree._Element | None, local: str, default: int) -> int:
        if pr is None:
            return default
        val = self.wval(pr.find(self.w(local)))
        try:
            return int(val) if val is not None else default
        except ValueError:
            return default

    def cell_text(self, tc: etree._Element) -> str:
        """The cell's paragraphs joined with newlines; a nested table contributes its cells' text."""
        lines: list[str] = []
        for item in self.blocks(tc):
            if isinstance(item, TableGrid):
                lines += [line for cell in item.cells for line in cell.text.split("\n") if line]
            else:
                lines += item.split("\n")
        return "\n".join(lines)


def _alternate(el: etree._Element) -> etree._Element | None:
    """The first mc:Choice of an mc:AlternateContent, else its mc:Fallback (both carry the same text)."""
    choice = el.find(f"{{{MC}}}Choice")
    return choice if choice is not None else el.find(f"{{{MC}}}Fallback")
