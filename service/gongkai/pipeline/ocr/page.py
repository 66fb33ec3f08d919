"""One page image → a ``Page`` of the document model: LINE blocks and ``TableGrid``s in PDF points.

Steps: prepare (seal, resolution, orientation, deskew) → ruled tables from the image → text
detection outside the tables → one batched recognition of every line crop (page lines and the text
rows of every table cell) → cells and lines in PDF points (pixels × 72 / dpi).

A numeric cell is read from its own crop by the recogniser alone (the detector drops isolated single
digits); its digit-only top candidates are kept for the repair stage.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from gongkai.pipeline.confidence import (
    second_opinion_agreed,
    second_opinion_candidate,
    second_opinion_disagreed,
)
from gongkai.pipeline.datamodel import (
    BlockType,
    GridCell,
    Layout,
    Page,
    TableGrid,
    TextBlock,
    TextSource,
    text_block,
)
from gongkai.pipeline.layout import BOTTOM_BAND, TOP_BAND, is_furniture, is_page_number, repeated_margin_texts
from gongkai.pipeline.ocr.engine import (
    DIGIT_FOLDS,
    OcrEngine,
    PixelBox,
    Recognition,
    crop,
    fold_digits,
    looks_like_digits,
)
from gongkai.pipeline.ocr.prepare import Capture, ink_mask, prepare_page, rotate_quarter
from gongkai.pipeline.ocr.stats import percentile
from gongkai.pipeline.ocr.table_grid import ImageTable, find_tables, rule_masks, text_rows
from gongkai.settings import SecondEngineChoice

# Cell crops stay this far inside the rules (pixels at 200 dpi) so rule remnants are not read.
CELL_INSET = 4
LINE_PAD = 3
UPRIGHT_SAMPLE = 6
# Mean recogniser score of the sample lines above which a page is taken as upright without
# reading the lines turned over (upright pages score 0.99+, upside-down ones 0.2-0.45).
SURELY_UPRIGHT = 0.9
# Wide vs tall detector boxes decide 0/180 vs 90/270 as well at 640 px as at 960 (measured on
# generated scans: the same verdict on every page, turned or not), in half the time. PP-OCRv6's
# detector costs ~0.4 s of CPU at 640 px and ~0.1 s at 320, where small print is lost and some pages
# give too few boxes to tell; so 320 first, and 640 only when 320 is not decisive. On 42 scanned
# pages, each upright and turned both ways (126 cases), 320 px was decisive in 87 and right in all.
ORIENTATION_DET_SIDES = (320, 640)
# Decisive: at least this many wide-or-tall boxes, the majority at least this many times the rest.
DECISIVE_BOXES, DECISIVE_RATIO = 8, 4


@dataclass
class PageDiagnostics:
    dpi: float
    rotation: int
    skew_deg: float
    seal_pixels: int
    blank: bool
    n_lines: int = 0
    n_tables: int = 0
    second_opinions: int = 0  # doubtful numeric cells read again by the second engine
    second_agreed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    capture: Capture = field(default_factory=Capture)  # page finding, light, flattening (camera)
    # Set when the layout model's verdict on this page's band lines was left to the document
    # (``ocr_page(defer_layout=True)``, then ``settle_running_lines``).
    pending_layout: PendingLayout | None = None


@dataclass
class PendingLayout:
    """What the layout model needs to type a page's running-band lines later: its input made from
    the prepared page, the page's size in pixels, and the band lines with their pixel boxes."""

    model_input: np.ndarray
    size: tuple[int, int]  # width, height of the prepared page image
    pt: float  # PDF points per pixel
    band_lines: list[tuple[TextBlock, PixelBox]]


@dataclass
class _Crop:
    box: PixelBox
    kind: str  # "line" | "cell"
    table: int = -1
    cell: int = -1


def ocr_page(
    image: np.ndarray,
    number: int,
    engine: OcrEngine,
    *,
    dpi: float | None = None,
    second_engine: SecondEngineChoice = "auto",
    layout_model: bool = True,
    defer_layout: bool = False,
) -> tuple[Page, PageDiagnostics]:
    """OCR one page image (BGR or grey, uint8). ``dpi`` as scanned or rendered, if known;
    ``second_engine`` and ``layout_model`` as in ``PipelineOptions``. With ``defer_layout`` a page
    that needs the layout model gets ``diag.pending_layout`` instead, and its band lines stay LINE
    until ``settle_running_lines`` has seen the document's other pages."""
    t0 = time.perf_counter()
    prep = prepare_page(image, dpi, horizontal=lambda g: _text_runs_horizontally(engine, g))
    grey = prep.image
    diag = PageDiagnostics(prep.dpi, prep.rotation, prep.skew_deg, prep.seal_pixels, prep.blank)
    diag.capture = prep.capture
    pt = 72.0 / prep.dpi
    h, w = grey.shape[:2]
    diag.seconds["prepare"] = time.perf_counter() - t0
    if prep.blank:
        page = Page(number, w * pt, h * pt, TextSource.OCR, [], [], ocr_dpi=prep.dpi)
        return page, diag

    t = time.perf_counter()
    ink = ink_mask(grey)
    tables = find_tables(ink)
    boxes = _detect_outside(engine, grey, tables, ink)
    diag.seconds["tables+detect"] = time.perf_counter() - t

    # 0° vs 180°: upside-down text reads with clearly lower recogniser scores.
    t = time.perf_counter()
    flipped, known = _upside_down(engine, grey, boxes, ink, tables)
    if flipped:
        known = {}
        grey = rotate_quarter(grey, 180)
        diag.rotation = (diag.rotation + 180) % 360
        ink = ink_mask(grey)
        tables = find_tables(ink)
        boxes = [(w - b[2], h - b[3], w - b[0], h - b[1]) for b in boxes]
    diag.seconds["orientation"] = time.perf_counter() - t

    t = time.perf_counter()
    crops = [_Crop(b, "line") for b in boxes]
    clean = _ink_without_rules(ink)
    for ti, table in enumerate(tables):
        for ci, cell in enumerate(table.cells):
            for box in _cell_rows(clean, cell.bbox):
                crops.append(_Crop(box, "cell", ti, ci))
    recs = _recognize_crops(engine, grey, crops, known)
    diag.seconds["recognize"] = time.perf_counter() - t

    # Table cells
    cell_lines: dict[tuple[int, int], list[tuple[str, float, object]]] = {}
    lines: list[tuple[PixelBox, str, float]] = []
    for c, r in zip(crops, recs, strict=True):
        if c.kind == "line":
            if r.text.strip() and not _is_noise(r.text, r.score):
                lines.append((c.box, r.text.strip(), r.score))
        else:
            cell_lines.setdefault((c.table, c.cell), []).append((r.text.strip(), r.score, r))
    lines = _without_blobs(lines)
    grids = [_grid(table, ti, cell_lines, engine, number, pt) for ti, table in enumerate(tables)]
    t = time.perf_counter()
    diag.second_opinions, diag.second_agreed = _second_opinion(grids, crops, grey, engine.name, second_engine)
    diag.seconds["second_opinion"] = time.perf_counter() - t
    joined = _join_visual_lines(lines)
    t = time.perf_counter()
    needs_model = layout_model and _needs_layout_model(joined, h)
    regions = _layout_regions(grey, needs_model and not defer_layout)
    diag.seconds["layout"] = time.perf_counter() - t
    blocks: list[tuple[float, TextBlock]] = []
    band_lines: list[tuple[TextBlock, PixelBox]] = []
    for box, text, score in joined:
        bbox = (box[0] * pt, box[1] * pt, box[2] * pt, box[3] * pt)
        block = text_block(text, bbox, _running_kind(box, regions, h), score=round(score, 4))
        # The detector's box is about 1.3x the glyph height; the layout stage reads font sizes.
        block.font_size = (box[3] - box[1]) * pt / 1.3
        blocks.append((bbox[1], block))
        if _in_running_band(box, h):
            band_lines.append((block, box))
    if needs_model and defer_layout:
        from gongkai.pipeline.ocr.layout_model import model_input

        diag.pending_layout = PendingLayout(model_input(grey), (w, h), pt, band_lines)
    for i, grid in enumerate(grids):
        if grid.bbox is None:  # _grid always places a table; a grid without a box cannot be placed
            raise ValueError(f"page {number}: OCR table {i} has no bounding box")
        blocks.append((grid.bbox[1], text_block("", grid.bbox, BlockType.TABLE, block_id=i)))
    blocks.sort(key=lambda it: it[0])
    diag.n_lines, diag.n_tables = len(lines), len(grids)
    page = Page(
        number,
        w * pt,
        h * pt,
        TextSource.OCR,
        [b for _, b in blocks],
        grids,
        ocr_dpi=prep.dpi,
        regions=[r.scale((pt, pt)) for r in regions],
    )
    diag.seconds["total"] = time.perf_counter() - t0
    return page, diag


def _text_runs_horizontally(engine: OcrEngine, grey: np.ndarray) -> bool | None:
    """Wide detector boxes outnumber tall ones on an upright (or upside-down) page; on a page
    turned by 90° it is the other way round. Square boxes (single digits) say nothing."""
    for side in ORIENTATION_DET_SIDES:
        boxes = [b for b, _ in engine.detect(grey, max_side=side)]
        wide = sum(1 for b in boxes if b[2] - b[0] > 1.8 * (b[3] - b[1]))
        tall = sum(1 for b in boxes if b[3] - b[1] > 1.8 * (b[2] - b[0]))
        if wide + tall >= DECISIVE_BOXES and max(wide, tall) >= DECISIVE_RATIO * max(1, min(wide, tall)):
            return wide > tall
    if wide + tall < 3:
        return None  # too little text to tell: fall back to projection profiles
    return wide >= tall


def _detect_outside(
    engine: OcrEngine, grey: np.ndarray, tables: list[ImageTable], ink: np.ndarray
) -> list[PixelBox]:
    """Text lines outside the tables. The detector costs in proportion to the area it reads, so
    it reads only the bands of the page that hold ink outside the tables, at the page's scale."""
    masked, text_ink = grey, ink
    if tables:
        masked, text_ink = grey.copy(), ink.copy()
        paper = int(percentile(grey, 90))
        for t in tables:
            x0, y0, x1, y1 = (int(v) for v in t.bbox)
            masked[max(0, y0 - 3) : y1 + 4, max(0, x0 - 3) : x1 + 4] = paper
            text_ink[max(0, y0 - 3) : y1 + 4, max(0, x0 - 3) : x1 + 4] = 0
    h, w = grey.shape[:2]
    scale = min(1.0, engine.det_max_side / max(h, w))
    boxes: list[PixelBox] = []
    for x0, y0, x1, y1 in ink_bands(text_ink):
        for b, _ in engine.detect(masked[y0:y1, x0:x1], scale=scale):
            boxes.append((b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0))
    return boxes


# Bands of ink closer than this (pixels at 200 dpi) are read together; each band keeps a margin
# so that the detector sees the paper around its lines.
BAND_GAP, BAND_MARGIN = 60, 24


def ink_bands(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Regions (x0, y0, x1, y1) holding ink, as horizontal bands separated by blank rows; the
    whole page when the bands would cover most of it anyway."""
    h, w = ink.shape
    solid = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # scanner specks out
    rows = np.nonzero(np.count_nonzero(solid, axis=1) >= 3)[0]
    if rows.size == 0:
        return []
    bands: list[list[int]] = [[int(rows[0]), int(rows[0]) + 1]]
    for y in rows[1:]:
        if y - bands[-1][1] > BAND_GAP:
            bands.append([int(y), int(y) + 1])
        else:
            bands[-1][1] = int(y) + 1
    out = []
    for y0, y1 in bands:
        cols = np.nonzero(np.count_nonzero(solid[y0:y1], axis=0))[0]
        ya, yb = max(0, y0 - BAND_MARGIN), min(h, y1 + BAND_MARGIN)
        xa, xb = max(0, int(cols[0]) - BAND_MARGIN), min(w, int(cols[-1]) + 1 + BAND_MARGIN)
        if yb - ya >= 16 and xb - xa >= 16:
            out.append((xa, ya, xb, yb))
    if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in out) > 0.85 * h * w:
        return [(0, 0, w, h)]
    return out


def _ink_without_rules(ink: np.ndarray) -> np.ndarray:
    horiz, vert = rule_masks(ink)
    return cv2.bitwise_and(ink, cv2.bitwise_not(cv2.bitwise_or(horiz, vert)))


def _cell_rows(clean: np.ndarray, bbox: PixelBox) -> list[PixelBox]:
    x0, y0, x1, y1 = (round(v) for v in bbox)
    xa, ya, xb, yb = x0 + CELL_INSET, y0 + CELL_INSET, x1 - CELL_INSET, y1 - CELL_INSET
    if xb - xa < 4 or yb - ya < 4:
        return []
    rows = text_rows(clean[ya:yb, xa:xb])
    return [(xa + a, ya + b, xa + c, ya + d) for a, b, c, d in rows]


def _recognize_crops(
    engine: OcrEngine, grey: np.ndarray, crops: list[_Crop], known: dict[PixelBox, Recognition]
) -> list[Recognition]:
    """One batched recognition of every crop of the page, except those already read."""
    todo = [c for c in crops if c.box not in known]
    fresh = dict(
        zip((c.box for c in todo), engine.recognize([crop(grey, c.box, LINE_PAD) for c in todo]), strict=True)
    )
    return [known[c.box] if c.box in known else fresh[c.box] for c in crops]


def _upside_down(
    engine: OcrEngine,
    grey: np.ndarray,
    boxes: list[PixelBox],
    ink: np.ndarray,
    tables: list[ImageTable],
) -> tuple[bool, dict[PixelBox, Recognition]]:
    """Whether the page is upside down, and the upright readings of the sample lines."""

    # Short lines (a few characters) are cheap to recognise and decide as well as long ones.
    def ratio(b: PixelBox) -> float:
        return (b[2] - b[0]) / max(1.0, b[3] - b[1])

    sample = sorted((b for b in boxes if ratio(b) >= 1.5), key=lambda b: abs(ratio(b) - 6))[:UPRIGHT_SAMPLE]
    if len(sample) < 3 and tables:
        clean = _ink_without_rules(ink)
        for cell in sorted(tables[0].cells, key=lambda c: -(c.bbox[2] - c.bbox[0]))[:UPRIGHT_SAMPLE]:
            sample += _cell_rows(clean, cell.bbox)[:1]
    if not sample:
        return False, {}
    crops = [crop(grey, b, LINE_PAD) for b in sample]
    upright = engine.recognize(crops)
    known = dict(zip(sample, upright, strict=True))  # read once: the page's own pass reuses them
    up = float(np.mean([r.score * min(1.0, len(r.text) / 3) for r in upright]))
    if up >= SURELY_UPRIGHT:
        return False, known  # upside-down lines score below 0.5 on our scans: no need to read them flipped
    flipped = engine.recognize([np.ascontiguousarray(np.rot90(c, 2)) for c in crops])
    down = float(np.mean([r.score * min(1.0, len(r.text) / 3) for r in flipped]))
    return down > up + 0.05, known


def _grid(
    table: ImageTable,
    ti: int,
    cell_lines: dict[tuple[int, int], list[tuple[str, float, object]]],
    engine: OcrEngine,
    number: int,
    pt: float,
) -> TableGrid:
    cells: list[GridCell] = []
    numeric_cols, numeric_rows = _value_columns_and_rows(table, cell_lines, ti)
    for ci, c in enumerate(table.cells):
        parts = cell_lines.get((ti, ci), [])
        texts = [p[0] for p in parts if p[0]]
        text = "\n".join(texts)
        confidence = min((p[1] for p in parts if p[0]), default=1.0)
        candidates: list[tuple[str, float]] = []
        if len(parts) == 1 and looks_like_digits(text):
            rec = parts[0][2]
            # Amounts keep their decimal point among the candidates (318.87 vs 3188.87).
            cands = engine.digit_candidates(rec.probs, 5, point="." in text)  # type: ignore[attr-defined]
            if cands:
                candidates = cands
                text = cands[0][0] if fold_digits(text).replace(",", "") == cands[0][0] else fold_digits(text)
                confidence = cands[0][1] if cands[0][0] == text else confidence
        elif (
            len(parts) == 1
            and c.col in numeric_cols
            and (_digits_among_noise(text) or (c.row in numeric_rows and 0 < len(text.strip()) <= 2))
        ):
            # A value cell read with a stray mark (seal ink, a rule remnant: 领44, Xo), or a blurred
            # digit read as a letter or a character (S for 5) among the numbers of a data row: read
            # it again as digits, but only as sure as the recogniser was that it saw digits only.
            rec = parts[0][2]
            cands = engine.digit_candidates(rec.probs, 5)  # type: ignore[attr-defined]
            if cands:
                share = engine.digit_share(rec.probs)  # type: ignore[attr-defined]
                candidates = [(t, p * share) for t, p in cands]
                text, confidence = candidates[0]
        x0, y0, x1, y1 = c.bbox
        cells.append(
            GridCell(
                row=c.row,
                col=c.col,
                text=text,
                row_span=c.row_span,
                col_span=c.col_span,
                bbox=(x0 * pt, y0 * pt, x1 * pt, y1 * pt),
                page=number,
                confidence=float(round(confidence, 4)),
                candidates=candidates,
            )
        )
    x0, y0, x1, y1 = table.bbox
    return TableGrid(
        table.n_rows,
        table.n_cols,
        cells,
        TextSource.OCR,
        page=number,
        bbox=(x0 * pt, y0 * pt, x1 * pt, y1 * pt),
        pages=[number],
    )


def _layout_regions(grey: np.ndarray, enabled: bool = True) -> Layout:
    """CDLA layout regions of the page (pixels), or none when the model is switched off."""
    from gongkai.pipeline.ocr.layout_model import get_layout_model

    if not enabled:
        return []
    return get_layout_model().predict(grey)


# A running header or footer sits in the top or bottom band of the page: the model's label alone
# is not enough (it sometimes calls a short centred heading a header), the position must agree.
RUNNING_BAND = 0.12


def settle_running_lines(
    results: Sequence[tuple[Page, PageDiagnostics]],
    run: Callable[[list[PendingLayout]], Iterable[Layout]] | None = None,
) -> int:
    """Type the band lines of the pages whose layout model was deferred (``ocr_page(defer_layout=
    True)``), reading only the pages where the model can change something. A band line that
    recurs in the margins of other pages, or is a page number there, is page furniture for the
    layout stage whatever type it has (``layout.is_furniture``), so a page whose every band line
    is such a line is left as it is: a report with a running head on every page needs no layout
    model at all. The other pages get the model's verdict, as if it had run on the page itself.
    ``run`` gives the regions of those pages (``pending_regions`` over a pool, say; by default one
    after another here). Returns how many pages the model read."""
    if all(diag.pending_layout is None for _, diag in results):
        return 0
    repeated = repeated_margin_texts([page for page, _ in results])
    todo: list[tuple[Page, PendingLayout]] = []
    for page, diag in results:
        wait, diag.pending_layout = diag.pending_layout, None  # the model input is not kept
        if wait is not None and not all(is_furniture(b, page, repeated) for b, _ in wait.band_lines):
            todo.append((page, wait))
    if not todo:
        return 0
    waiting = [w for _, w in todo]
    found = run(waiting) if run is not None else map(pending_regions, waiting)
    for (page, wait), regions in zip(todo, found, strict=True):
        for block, box in wait.band_lines:
            block.type = str(_running_kind(box, regions, wait.size[1]))
        page.regions = [r.scale((wait.pt, wait.pt)) for r in regions]
    return len(todo)


def pending_regions(wait: PendingLayout) -> Layout:
    """The layout model's regions of a page left for later, in the page image's pixels."""
    from gongkai.pipeline.ocr.layout_model import get_layout_model

    return get_layout_model().predict_input(wait.model_input, wait.size)


def _needs_layout_model(lines: list[tuple[PixelBox, str, float]], page_height: int) -> bool:
    """Whether the layout model can change how this page's lines are read (~0.2 s of CPU a page). It
    only tells running headers and footers among the lines in the top and bottom bands
    (``_running_kind``); and a page number in the layout stage's margin bands is dropped by that
    stage whatever its type. So a page whose band lines are all such page numbers does not need it."""
    for box, text, _ in lines:
        if not _in_running_band(box, page_height):
            continue
        in_margin = box[1] < TOP_BAND * page_height or box[3] > (1 - BOTTOM_BAND) * page_height
        if not (in_margin and is_page_number(text)):
            return True
    return False


def _in_running_band(box: PixelBox, page_height: int) -> bool:
    cy = (box[1] + box[3]) / 2
    return cy < RUNNING_BAND * page_height or cy > (1 - RUNNING_BAND) * page_height


def _running_kind(box: PixelBox, regions: Layout, page_height: int) -> BlockType:
    """HEADER/FOOTER for a line inside a header/footer region in the page's margin band, else LINE.
    Repetition across pages finds running heads too, but not on a single page image."""
    if not _in_running_band(box, page_height):
        return BlockType.LINE
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for r in regions:
        x0, y0, x1, y1 = r.coordinates
        if not (x0 <= cx <= x1 and y0 <= cy <= y1):
            continue
        if r.type == "header" and cy < RUNNING_BAND * page_height:
            return BlockType.HEADER
        if r.type == "footer" and cy > (1 - RUNNING_BAND) * page_height:
            return BlockType.FOOTER
    return BlockType.LINE


def _without_blobs(lines: list[tuple[PixelBox, str, float]]) -> list[tuple[PixelBox, str, float]]:
    """Drop doubtful readings of boxes much taller than the page's text lines: the ghost of a
    seal or a smudge, which would otherwise swallow the real lines beside it."""
    sure = sorted(b[3] - b[1] for b, _, score in lines if score >= 0.8)
    if not sure:
        return lines
    line_height = sure[len(sure) // 2]
    return [it for it in lines if it[2] >= 0.5 or it[0][3] - it[0][1] <= 1.6 * line_height]


def _is_noise(text: str, score: float) -> bool:
    """A doubtful reading made of symbols only (■, ——, ·) is a smudge, a shape or a rule end."""
    return score < 0.5 and not any(ch.isalnum() for ch in text)


# Numeric cells read with less confidence than this are read again by a second engine.
SECOND_OPINION_BELOW = 0.95


def _second_opinion(
    grids: list[TableGrid],
    crops: list[_Crop],
    grey: np.ndarray,
    first: str,
    choice: SecondEngineChoice = "auto",
) -> tuple[int, int]:
    """A second engine (PP-OCRv4 beside PP-OCRv6) reads the doubtful numeric cells again.
    Agreement raises a cell's confidence (to the geometric mean of the two readers' confidences),
    disagreement lowers it by how sure the second reader is of something else, and its reading
    joins the candidates that the repair stage may choose from. Returns (consulted, agreed)."""
    from gongkai.pipeline.ocr.engine import second_engine

    doubtful: list[tuple[GridCell, PixelBox]] = []
    boxes = {(c.table, c.cell): c.box for c in crops if c.kind == "cell"}
    for ti, grid in enumerate(grids):
        for ci, cell in enumerate(grid.cells):
            if cell.candidates and cell.confidence < SECOND_OPINION_BELOW and (ti, ci) in boxes:
                doubtful.append((cell, boxes[(ti, ci)]))
    if not doubtful:
        return 0, 0
    other = second_engine(first, choice)
    if other is None:
        return 0, 0
    agreed = 0
    recs = other.recognize([crop(grey, box, LINE_PAD) for _, box in doubtful])
    for (cell, _), rec in zip(doubtful, recs, strict=True):
        theirs = other.digit_candidates(rec.probs, 3, point="." in cell.text)
        if not theirs:
            continue
        text2, p2 = theirs[0]
        p1 = cell.confidence
        if text2 == cell.text:
            agreed += 1
            cell.confidence = second_opinion_agreed(p1, p2)
        else:
            cell.confidence = second_opinion_disagreed(p1, p2)
            if text2 not in (t for t, _ in cell.candidates):
                cell.candidates = [*cell.candidates, (text2, second_opinion_candidate(p1, p2))]
    return len(doubtful), agreed


def _value_columns_and_rows(
    table: ImageTable, cell_lines: dict[tuple[int, int], list[tuple[str, float, object]]], ti: int
) -> tuple[set[int], set[int]]:
    """The value columns (most non-empty single-column cells read as numbers) and the data rows
    (at least three single-row cells read as numbers; header rows have none)."""
    in_column: dict[int, list[bool]] = {}
    in_row: dict[int, int] = {}
    for ci, c in enumerate(table.cells):
        text = "".join(p[0] for p in cell_lines.get((ti, ci), []))
        if not text:
            continue
        digits = looks_like_digits(text)
        if c.col_span == 1:
            in_column.setdefault(c.col, []).append(digits)
        if c.row_span == 1 and digits:
            in_row[c.row] = in_row.get(c.row, 0) + 1
    columns = {col for col, flags in in_column.items() if len(flags) >= 3 and sum(flags) > 0.6 * len(flags)}
    return columns, {row for row, n in in_row.items() if n >= 3}


def _digits_among_noise(text: str) -> bool:
    """A short reading that holds at least one digit (or a zero look-alike) among other marks."""
    t = text.strip()
    # One run of digits only: 20-10 is two values in one cell (a lost rule), not one with a mark.
    one_number = len(re.findall(r"\d+", fold_digits(t))) <= 1
    return (
        0 < len(t) <= 6
        and "\n" not in t
        and one_number
        and any(ch.isdigit() or ch in DIGIT_FOLDS for ch in t)
    )


def _join_visual_lines(lines: list[tuple[PixelBox, str, float]]) -> list[tuple[PixelBox, str, float]]:
    """Detector boxes on one visual line (vertical overlap) → one line, left to right."""
    groups: list[list[tuple[PixelBox, str, float]]] = []
    for item in sorted(lines, key=lambda it: ((it[0][1] + it[0][3]) / 2, it[0][0])):
        box = item[0]
        if groups:
            last = groups[-1]
            top = min(b[0][1] for b in last)
            bottom = max(b[0][3] for b in last)
            overlap = min(bottom, box[3]) - max(top, box[1])
            similar = max(bottom - top, box[3] - box[1]) <= 2.2 * min(bottom - top, box[3] - box[1])
            if similar and overlap >= 0.5 * min(bottom - top, box[3] - box[1]):
                last.append(item)
                continue
        groups.append([item])
    out = []
    for g in groups:
        g.sort(key=lambda it: it[0][0])
        parts: list[str] = []
        for k, (box, text, _) in enumerate(g):
            if k and box[0] - g[k - 1][0][2] > 0.6 * (box[3] - box[1]):
                parts.append(" ")
            parts.append(text)
        bbox = (
            min(it[0][0] for it in g),
            min(it[0][1] for it in g),
            max(it[0][2] for it in g),
            max(it[0][3] for it in g),
        )
        score = min(it[2] for it in g)
        out.append((bbox, "".join(parts), score))
    return out
