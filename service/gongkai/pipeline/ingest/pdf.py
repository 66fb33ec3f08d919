"""PDF backend: the text layer through pypdfium2 (PDFium, Apache-2.0/BSD) — characters with boxes
and the ruling lines of tables; pdfplumber's (MIT) edge→cell functions rebuild the table grids.

PDFium is used instead of pdfminer because it reads a page about ten times faster. Pages without a
usable text layer are marked ``needs_ocr`` for the OCR stage; their text is not guessed here.
"""

from __future__ import annotations

import ctypes
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from gongkai.errors import CorruptDocumentError, EmptyDocumentError, EncryptedDocumentError
from gongkai.pipeline.datamodel import (
    BBox,
    BlockType,
    Document,
    GridCell,
    Page,
    SourceInfo,
    TableGrid,
    TextBlock,
    TextSource,
    text_block,
)
from gongkai.pipeline.geometry import SNAP, snap_positions
from gongkai.settings import PipelineOptions

# Rulings shorter than this are glyph strokes or bullets, not table lines.
MIN_EDGE = 3.0
# A path this thin in one direction is a line, whatever way it was drawn (stroke or thin fill).
LINE_THICKNESS = 2.0
# Characters a real text layer is made of; a page whose characters are mostly outside these
# (private-use glyph codes) has a broken ToUnicode map and must go to OCR.
_READABLE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef0-9A-Za-z.,:;()%\-—/“”、。，：；（）《》]")
MIN_READABLE_CHARS = 12
MIN_READABLE_RATIO = 0.6


@dataclass(frozen=True, slots=True)
class Char:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    # Vertical middle of the loose box (font ascent to descent): the same for every glyph of a
    # line, unlike the ink box of 一 or “.
    middle: float
    # The point that places a glyph in a line and a table cell: horizontally where the glyph starts,
    # not its middle, because CJK punctuation that hangs past a cell's right edge (、，。 at a line
    # end) belongs to the cell it starts in.
    cx: float = field(init=False)
    cy: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cx", min((self.x0 + self.x1) / 2, self.x0 + 0.5))
        object.__setattr__(self, "cy", self.middle)


@dataclass(slots=True)
class TextLine:
    text: str
    bbox: BBox
    size: float


def open_pdf(data: bytes | Path, password: str | None = None) -> pdfium.PdfDocument:
    """PDFium's document, or the input error that says why it cannot be opened. From a path PDFium
    reads the file as it needs it (the upload check), instead of holding it all in memory."""
    try:
        return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocumentError("the PDF is encrypted with a password") from exc
        raise CorruptDocumentError(f"the PDF cannot be parsed ({exc})") from exc


def read_pdf(
    data: bytes,
    source: SourceInfo,
    *,
    password: str | None = None,
    options: PipelineOptions | None = None,
) -> Document:
    pdf = open_pdf(data, password)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise EmptyDocumentError("the PDF has no pages")
        pages = []
        for index in range(n_pages):
            try:
                pages.append(_read_page(pdf[index], index + 1))
            except pdfium.PdfiumError as exc:
                raise CorruptDocumentError(f"page {index + 1} of the PDF cannot be read ({exc})") from exc
        warnings = _ocr_pages(pdf, pages, options or PipelineOptions())
    finally:
        pdf.close()
    return Document(source=source, pages=pages, warnings=warnings)


OCR_DPI = 200.0


def _ocr_pages(pdf: pdfium.PdfDocument, pages: list[Page], options: PipelineOptions) -> list[str]:
    """Pages without a usable text layer (scans, broken ToUnicode maps) are rendered and OCR'd when
    the OCR extra is installed and ``options.ocr`` is on; otherwise they stay ``needs_ocr``. Mixed
    PDFs keep their text pages."""
    todo = [p for p in pages if p.needs_ocr]
    if not todo:
        return []
    from gongkai.pipeline.ocr import ocr_available, ocr_images

    if not ocr_available(options):
        return []
    import numpy as np

    images = []
    for p in todo:
        bitmap = pdf[p.number - 1].render(scale=OCR_DPI / 72)
        if bitmap.mode == "BGR":  # PDFium's own layout is what OpenCV reads: no PIL round trip
            images.append(np.array(bitmap.to_numpy()))  # a copy: the bitmap's memory is PDFium's
        else:
            rgb = np.asarray(bitmap.to_pil().convert("RGB"))
            images.append(np.ascontiguousarray(rgb[:, :, ::-1]))
    warnings = []
    results = ocr_images(images, [p.number for p in todo], [OCR_DPI] * len(todo), options)
    for (page, diag), old in zip(results, todo, strict=True):
        pages[old.number - 1] = page
        if diag.rotation:
            warnings.append(f"page {page.number} was turned by {diag.rotation}° before OCR")
    return warnings


def _read_page(pdf_page: pdfium.PdfPage, number: int) -> Page:
    width, height = (float(v) for v in pdf_page.get_size())
    chars = _chars(pdf_page, height)
    if not _text_layer_usable(chars):
        return Page(number, width, height, TextSource.OCR, [], [], needs_ocr=True)
    edges = _edges(pdf_page, height)
    tables = _tables(edges, chars, number)
    table_boxes = [t.bbox for t in tables if t.bbox is not None]

    items: list[tuple[float, TextBlock]] = []
    outside = [c for c in chars if not _inside_any(c, table_boxes)]
    for line in assemble_lines(outside):
        block = text_block(line.text, line.bbox, BlockType.LINE)
        block.font_size = line.size  # the layout stage reads it for titles
        items.append((line.bbox[1], block))
    for i, grid in enumerate(tables):
        if grid.bbox is None:  # _grid_from_cells always sets it; a grid without a box cannot be placed
            raise ValueError(f"page {number}: table {i} has no bounding box")
        items.append((grid.bbox[1], text_block("", grid.bbox, BlockType.TABLE, block_id=i)))
    items.sort(key=lambda it: it[0])
    return Page(number, width, height, TextSource.TEXT_LAYER, [b for _, b in items], tables)


def _chars(pdf_page: pdfium.PdfPage, height: float) -> list[Char]:
    textpage = pdf_page.get_textpage()
    try:
        raw = textpage.raw
        out: list[Char] = []
        # pypdfium2's get_charbox, without its per-call ctypes objects (a third of the page's time).
        rect = pdfium_c.FS_RECTF()
        tl, tr, tb, tt = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        rect_ref, tl_ref, tr_ref, tb_ref, tt_ref = (ctypes.byref(v) for v in (rect, tl, tr, tb, tt))
        loose_box, tight_box = pdfium_c.FPDFText_GetLooseCharBox, pdfium_c.FPDFText_GetCharBox
        for i in range(textpage.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
                continue  # PDFium's own line breaks and spaces: lines are rebuilt from geometry
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if code in (0, 0xFFFE, 0xFFFF) or code in (10, 13):
                continue
            # The loose box spans the font's ascent to descent: its height is the rendered font
            # size (FPDFText_GetFontSize ignores the text matrix). Vertically the tight box is used:
            # it does not overlap the next line in tightly set table cells.
            # Horizontally the loose box is the glyph's advance, so a full-width comma does not
            # look like a gap between words.
            if not loose_box(raw, i, rect_ref) or not tight_box(raw, i, tl_ref, tr_ref, tb_ref, tt_ref):
                raise pdfium.PdfiumError("Failed to get charbox.")
            left, loose_bottom, right, loose_top = rect.left, rect.bottom, rect.right, rect.top
            size = float(loose_top - loose_bottom)
            bottom, top = tb.value, tt.value
            middle = height - float(loose_top + loose_bottom) / 2
            out.append(
                Char(
                    chr(code),
                    float(left),
                    height - float(top),
                    float(right),
                    height - float(bottom),
                    size,
                    middle,
                )
            )
        return out
    finally:
        textpage.close()


def _is_white(rgba: tuple[int, int, int, int]) -> bool:
    r, g, b, _ = rgba
    return r >= 250 and g >= 250 and b >= 250


def _color(obj: Any, getter: Any) -> tuple[int, int, int, int] | None:
    r, g, b, a = (ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint())
    if not getter(obj, r, g, b, a):
        return None
    return (r.value, g.value, b.value, a.value)


def _path_objects(pdf_page: pdfium.PdfPage, max_depth: int = 3) -> Iterable[Any]:
    """The page's path objects (raw handles) in the order of pypdfium2's ``get_objects(filter=[path],
    max_depth=3)``, without a helper object for each of the page's objects (text objects too)."""

    def walk(count: Any, get: Any, parent: Any, level: int) -> Iterable[Any]:
        n = count(parent)
        if n < 0:
            raise pdfium.PdfiumError("Failed to get number of pageobjects.")
        for i in range(n):
            obj = get(parent, i)
            if not obj:
                raise pdfium.PdfiumError("Failed to get pageobject.")
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                yield obj
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and level < max_depth - 1:
                yield from walk(
                    pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, obj, level + 1
                )

    yield from walk(pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, pdf_page.raw, 0)


def _bounds(raw: Any) -> tuple[float, float, float, float]:
    """A page object's bounds (left, bottom, right, top), as pypdfium2's ``get_bounds``."""
    box = (ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float())
    if not pdfium_c.FPDFPageObj_GetBounds(raw, *(ctypes.byref(v) for v in box)):
        raise pdfium.PdfiumError("Failed to locate pageobject.")
    return (box[0].value, box[1].value, box[2].value, box[3].value)


def _edges(pdf_page: pdfium.PdfPage, height: float) -> list[dict[str, Any]]:
    """Horizontal and vertical rulings from the page's path objects, in top-left coordinates.

    Paths filled white with no stroke are skipped: WPS and Word paint them behind text lines.
    """
    edges: list[dict[str, Any]] = []
    matrix = pdfium_c.FS_MATRIX()
    x, y = ctypes.c_float(), ctypes.c_float()
    for raw in _path_objects(pdf_page):
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        if not pdfium_c.FPDFPath_GetDrawMode(raw, ctypes.byref(fill_mode), ctypes.byref(stroke)):
            continue
        stroked = bool(stroke.value)
        if stroked:
            color = _color(raw, pdfium_c.FPDFPageObj_GetStrokeColor)
            if color is not None and (_is_white(color) or color[3] == 0):
                stroked = False
        filled = fill_mode.value != 0
        if filled:
            color = _color(raw, pdfium_c.FPDFPageObj_GetFillColor)
            if color is not None and (_is_white(color) or color[3] == 0):
                filled = False
        if not stroked and not filled:
            continue
        if not pdfium_c.FPDFPageObj_GetMatrix(raw, ctypes.byref(matrix)):
            raise pdfium.PdfiumError("Failed to get matrix of pageobject.")
        a, b, c, d, e, f = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
        points: list[tuple[float, float]] = []
        start: tuple[float, float] | None = None
        for k in range(pdfium_c.FPDFPath_CountSegments(raw)):
            seg = pdfium_c.FPDFPath_GetPathSegment(raw, k)
            pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y))
            px, py = a * x.value + c * y.value + e, b * x.value + d * y.value + f
            kind = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not points:
                points = [(px, py)]
                start = (px, py)
            elif kind == pdfium_c.FPDF_SEGMENT_LINETO:
                _add_edge(edges, points[-1], (px, py), height, stroked, filled)
                points.append((px, py))
            else:  # a curve: not a ruling
                points.append((px, py))
            if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
                _add_edge(edges, points[-1], start, height, stroked, filled)
        if filled and not stroked:
            # A thin filled rectangle is a ruling drawn as a fill; a large one is cell shading
            # whose sides coincide with the grid anyway.
            left, bottom, right, top = _bounds(raw)
            w, h = right - left, top - bottom
            if h <= LINE_THICKNESS and w >= MIN_EDGE:
                _add_edge(edges, (left, (top + bottom) / 2), (right, (top + bottom) / 2), height, True, False)
            elif w <= LINE_THICKNESS and h >= MIN_EDGE:
                _add_edge(edges, ((left + right) / 2, bottom), ((left + right) / 2, top), height, True, False)
    return edges


def _add_edge(
    edges: list[dict[str, Any]],
    p: tuple[float, float],
    q: tuple[float, float],
    height: float,
    stroked: bool,
    filled: bool,
) -> None:
    if not stroked and not filled:
        return
    (x0, y0), (x1, y1) = p, q
    top, bottom = height - max(y0, y1), height - min(y0, y1)
    left, right = min(x0, x1), max(x0, x1)
    if abs(y1 - y0) <= 0.5 and right - left >= MIN_EDGE:
        y = height - (y0 + y1) / 2
        edges.append(
            {
                "x0": left,
                "x1": right,
                "top": y,
                "bottom": y,
                "width": right - left,
                "height": 0.0,
                "orientation": "h",
                "object_type": "line",
            }
        )
    elif abs(x1 - x0) <= 0.5 and bottom - top >= MIN_EDGE:
        x = (x0 + x1) / 2
        edges.append(
            {
                "x0": x,
                "x1": x,
                "top": top,
                "bottom": bottom,
                "width": 0.0,
                "height": bottom - top,
                "orientation": "v",
                "object_type": "line",
            }
        )


def _closing_edges(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Horizontal rulings where a table's vertical rulings stop without one.

    A table cut by a page break often has no bottom rule (and its continuation no top rule); without
    it, the last row and every merged cell reaching the break would not close into cells.
    """
    verticals = [e for e in edges if e["orientation"] == "v"]
    out: list[dict[str, Any]] = []
    for key in ("top", "bottom"):
        groups: list[list[dict[str, Any]]] = []
        for e in sorted(verticals, key=lambda e: float(e[key])):
            if groups and abs(float(groups[-1][-1][key]) - float(e[key])) <= SNAP:
                groups[-1].append(e)
            else:
                groups.append([e])
        for group in groups:
            if len(group) < 3:
                continue
            y = float(group[0][key])
            x0, x1 = min(float(e["x0"]) for e in group), max(float(e["x0"]) for e in group)
            out.append(
                {
                    "x0": x0,
                    "x1": x1,
                    "top": y,
                    "bottom": y,
                    "width": x1 - x0,
                    "height": 0.0,
                    "orientation": "h",
                    "object_type": "line",
                }
            )
    return out


def _tables(edges: list[dict[str, Any]], chars: list[Char], number: int) -> list[TableGrid]:
    if not edges:
        return []
    merged = merge_edges(edges + _closing_edges(edges), SNAP, SNAP, SNAP, SNAP)
    merged = [e for e in merged if max(e["width"], e["height"]) >= MIN_EDGE]
    cells = intersections_to_cells(edges_to_intersections(merged, SNAP, SNAP))
    out = []
    for table_cells in cells_to_tables(cells):
        grid = _grid_from_cells(table_cells, chars, number)
        if grid is not None:
            out.append(grid)
    out.sort(key=lambda g: g.bbox[1] if g.bbox else 0.0)
    return out


def _text_layer_usable(chars: list[Char]) -> bool:
    text = "".join(c.text for c in chars if c.text.strip())
    if len(text) < MIN_READABLE_CHARS:
        return False
    readable = len(_READABLE.findall(text))
    return readable / len(text) >= MIN_READABLE_RATIO


def _inside(c: Char, box: BBox) -> bool:
    x0, y0, x1, y1 = box
    return x0 - 1 <= c.cx <= x1 + 1 and y0 - 1 <= c.cy <= y1 + 1


def _inside_any(c: Char, boxes: Iterable[BBox]) -> bool:
    return any(_inside(c, b) for b in boxes)


def assemble_lines(chars: list[Char]) -> list[TextLine]:
    """Group characters into visual lines (vertical overlap), left to right."""
    lines: list[list[Char]] = []
    for ch in sorted(chars, key=lambda c: (c.cy, c.x0)):
        if not ch.text.strip() and not lines:
            continue
        # Glyphs of one line share the middle of their loose boxes; the next line is a line pitch
        # (about one font size) away.
        if lines and abs(ch.cy - lines[-1][0].cy) <= 0.4 * max(ch.size, lines[-1][0].size, 1.0):
            lines[-1].append(ch)
            continue
        lines.append([ch])
    out: list[TextLine] = []
    for group in lines:
        group.sort(key=lambda c: c.x0)
        parts: list[str] = []
        prev: Char | None = None
        for ch in group:
            if prev is not None and ch.x0 - prev.x1 > 0.6 * max(ch.size, prev.size, 1.0) and parts[-1] != " ":
                parts.append(" ")  # a visible gap between words (or between table-like columns)
            parts.append(ch.text)
            prev = ch
        text = re.sub(r"\s+", " ", "".join(parts)).strip()
        if not text:
            continue
        visible = [c for c in group if c.text.strip()]
        bbox = (
            min(c.x0 for c in visible),
            min(c.top for c in visible),
            max(c.x1 for c in visible),
            max(c.bottom for c in visible),
        )
        sizes = [c.size for c in visible]
        out.append(TextLine(text, bbox, max(sizes)))
    return out


def _index(lines: list[float], v: float) -> int:
    return min(range(len(lines)), key=lambda i: abs(lines[i] - v))


def _grid_from_cells(
    cells: list[tuple[float, float, float, float]], chars: list[Char], number: int
) -> TableGrid | None:
    """Cell rectangles (merged cells are one rectangle) → anchor cells with spans on a grid."""
    if len(cells) < 2:
        return None
    xs = snap_positions([c[0] for c in cells] + [c[2] for c in cells])
    ys = snap_positions([c[1] for c in cells] + [c[3] for c in cells])
    n_cols, n_rows = len(xs) - 1, len(ys) - 1
    # A one-column "table" is a boxed paragraph or a frame, not a statistics table.
    if n_cols < 2 or n_rows < 1:
        return None
    box = (xs[0], ys[0], xs[-1], ys[-1])
    grid_cells: list[GridCell] = []
    owner: dict[tuple[int, int], int] = {}  # grid position -> index of the anchor cell covering it
    for x0, top, x1, bottom in cells:
        c0, c1 = _index(xs, x0), _index(xs, x1)
        r0, r1 = _index(ys, top), _index(ys, bottom)
        if c1 <= c0 or r1 <= r0:
            continue
        for r in range(r0, r1):
            for c in range(c0, c1):
                owner[(r, c)] = len(grid_cells)
        grid_cells.append(
            GridCell(
                row=r0,
                col=c0,
                text="",
                row_span=r1 - r0,
                col_span=c1 - c0,
                bbox=(float(x0), float(top), float(x1), float(bottom)),
                page=number,
            )
        )
    # Each glyph goes to the cell whose grid position holds its anchor point: one lookup per glyph.
    inner: list[list[Char]] = [[] for _ in grid_cells]
    for ch in chars:
        if not _inside(ch, box):
            continue
        r, c = bisect_right(ys, ch.cy) - 1, bisect_right(xs, ch.cx) - 1
        k = owner.get((min(max(r, 0), n_rows - 1), min(max(c, 0), n_cols - 1)))
        if k is not None:
            inner[k].append(ch)
    for cell, glyphs in zip(grid_cells, inner, strict=True):
        cell.text = "\n".join(line.text for line in assemble_lines(glyphs))
    grid_cells.sort(key=lambda c: (c.row, c.col))
    return TableGrid(
        n_rows, n_cols, grid_cells, TextSource.TEXT_LAYER, page=number, bbox=box, pages=[number], col_edges=xs
    )
