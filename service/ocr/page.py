"""One page image → a ``Page`` of the document model: LINE blocks and ``TableGrid``s in PDF points.

Steps: prepare (seal, resolution, orientation, deskew) → ruled tables from the image → text
detection outside the tables → one batched recognition of every line crop (page lines and the text
rows of every table cell) → cells and lines in PDF points (pixels × 72 / dpi).

A numeric cell is read from its own crop by the recogniser alone (the detector drops isolated single
digits); its digit-only top candidates are kept for the repair stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import layoutparser as lp
import numpy as np

from service.datamodel import BlockType, GridCell, Page, TableGrid, TextSource, text_block
from service.ocr.engine import OnnxPpOcr, PixelBox, crop, fold_digits, looks_like_digits
from service.ocr.prepare import ink_mask, prepare_page, rotate_quarter
from service.ocr.table_grid import ImageTable, find_tables, rule_masks, text_rows

# Cell crops stay this far inside the rules (pixels at 200 dpi) so rule remnants are not read.
CELL_INSET = 4
LINE_PAD = 3
UPRIGHT_SAMPLE = 6


@dataclass
class PageDiagnostics:
    dpi: float
    rotation: int
    skew_deg: float
    seal_pixels: int
    blank: bool
    n_lines: int = 0
    n_tables: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Crop:
    box: PixelBox
    kind: str  # "line" | "cell"
    table: int = -1
    cell: int = -1


def ocr_page(
    image: np.ndarray, number: int, engine: OnnxPpOcr, *, dpi: float | None = None
) -> tuple[Page, PageDiagnostics]:
    """OCR one page image (BGR or grey, uint8). ``dpi`` as scanned or rendered, if known."""
    t0 = time.perf_counter()
    prep = prepare_page(image, dpi, horizontal=lambda g: _text_runs_horizontally(engine, g))
    grey = prep.image
    diag = PageDiagnostics(prep.dpi, prep.rotation, prep.skew_deg, prep.seal_pixels, prep.blank)
    pt = 72.0 / prep.dpi
    h, w = grey.shape[:2]
    diag.seconds["prepare"] = time.perf_counter() - t0
    if prep.blank:
        page = Page(number, w * pt, h * pt, TextSource.OCR, lp.Layout([]), [], ocr_dpi=prep.dpi)
        return page, diag

    t = time.perf_counter()
    ink = ink_mask(grey)
    tables = find_tables(ink)
    boxes = _detect_outside(engine, grey, tables)
    diag.seconds["tables+detect"] = time.perf_counter() - t

    # 0° vs 180°: upside-down text reads with clearly lower recogniser scores.
    t = time.perf_counter()
    if _upside_down(engine, grey, boxes, ink, tables):
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
    recs = engine.recognize([crop(grey, c.box, LINE_PAD) for c in crops])
    diag.seconds["recognize"] = time.perf_counter() - t

    # Table cells
    cell_lines: dict[tuple[int, int], list[tuple[str, float, object]]] = {}
    lines: list[tuple[PixelBox, str, float]] = []
    for c, r in zip(crops, recs, strict=True):
        if c.kind == "line":
            if r.text.strip():
                lines.append((c.box, r.text.strip(), r.score))
        else:
            cell_lines.setdefault((c.table, c.cell), []).append((r.text.strip(), r.score, r))
    grids = [_grid(table, ti, cell_lines, engine, number, pt) for ti, table in enumerate(tables)]
    blocks: list[tuple[float, lp.TextBlock]] = []
    for box, text, score in _join_visual_lines(lines):
        bbox = (box[0] * pt, box[1] * pt, box[2] * pt, box[3] * pt)
        block = text_block(text, bbox, BlockType.LINE, score=round(score, 4))
        # The detector's box is about 1.3x the glyph height; the layout stage reads font sizes.
        block.font_size = (box[3] - box[1]) * pt / 1.3
        blocks.append((bbox[1], block))
    for i, grid in enumerate(grids):
        assert grid.bbox is not None
        blocks.append((grid.bbox[1], text_block("", grid.bbox, BlockType.TABLE, block_id=i)))
    blocks.sort(key=lambda it: it[0])
    diag.n_lines, diag.n_tables = len(lines), len(grids)
    page = Page(
        number, w * pt, h * pt, TextSource.OCR, lp.Layout([b for _, b in blocks]), grids, ocr_dpi=prep.dpi
    )
    diag.seconds["total"] = time.perf_counter() - t0
    return page, diag


def _text_runs_horizontally(engine: OnnxPpOcr, grey: np.ndarray) -> bool | None:
    """Wide detector boxes outnumber tall ones on an upright (or upside-down) page; on a page
    turned by 90° it is the other way round. Square boxes (single digits) say nothing."""
    boxes = [b for b, _ in engine.detect(grey, max_side=960)]
    wide = sum(1 for b in boxes if b[2] - b[0] > 1.8 * (b[3] - b[1]))
    tall = sum(1 for b in boxes if b[3] - b[1] > 1.8 * (b[2] - b[0]))
    if wide + tall < 3:
        return None  # too little text to tell: fall back to projection profiles
    return wide >= tall


def _detect_outside(engine: OnnxPpOcr, grey: np.ndarray, tables: list[ImageTable]) -> list[PixelBox]:
    masked = grey
    if tables:
        masked = grey.copy()
        paper = int(np.percentile(grey, 90))
        for t in tables:
            x0, y0, x1, y1 = (int(v) for v in t.bbox)
            masked[max(0, y0 - 3) : y1 + 4, max(0, x0 - 3) : x1 + 4] = paper
    return [b for b, _ in engine.detect(masked)]


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


def _upside_down(
    engine: OnnxPpOcr,
    grey: np.ndarray,
    boxes: list[PixelBox],
    ink: np.ndarray,
    tables: list[ImageTable],
) -> bool:
    # Short lines (a few characters) are cheap to recognise and decide as well as long ones.
    def ratio(b: PixelBox) -> float:
        return (b[2] - b[0]) / max(1.0, b[3] - b[1])

    sample = sorted((b for b in boxes if ratio(b) >= 1.5), key=lambda b: abs(ratio(b) - 6))[:UPRIGHT_SAMPLE]
    if len(sample) < 3 and tables:
        clean = _ink_without_rules(ink)
        for cell in sorted(tables[0].cells, key=lambda c: -(c.bbox[2] - c.bbox[0]))[:UPRIGHT_SAMPLE]:
            sample += _cell_rows(clean, cell.bbox)[:1]
    if not sample:
        return False
    crops = [crop(grey, b, LINE_PAD) for b in sample]
    upright = engine.recognize(crops)
    flipped = engine.recognize([np.ascontiguousarray(np.rot90(c, 2)) for c in crops])
    up = float(np.mean([r.score * min(1.0, len(r.text) / 3) for r in upright]))
    down = float(np.mean([r.score * min(1.0, len(r.text) / 3) for r in flipped]))
    return down > up + 0.05


def _grid(
    table: ImageTable,
    ti: int,
    cell_lines: dict[tuple[int, int], list[tuple[str, float, object]]],
    engine: OnnxPpOcr,
    number: int,
    pt: float,
) -> TableGrid:
    cells: list[GridCell] = []
    for ci, c in enumerate(table.cells):
        parts = cell_lines.get((ti, ci), [])
        texts = [p[0] for p in parts if p[0]]
        text = "\n".join(texts)
        confidence = min((p[1] for p in parts if p[0]), default=1.0)
        candidates: list[tuple[str, float]] = []
        if len(parts) == 1 and looks_like_digits(text):
            rec = parts[0][2]
            cands = engine.digit_candidates(rec.probs, 5)  # type: ignore[attr-defined]
            if cands:
                candidates = cands
                text = cands[0][0] if fold_digits(text).replace(",", "") == cands[0][0] else fold_digits(text)
                confidence = cands[0][1] if cands[0][0] == text else confidence
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
            if overlap >= 0.5 * min(bottom - top, box[3] - box[1]):
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
