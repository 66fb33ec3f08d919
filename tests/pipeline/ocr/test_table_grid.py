"""Ruling-line grids from page images (pipeline.ocr.table_grid) on drawn rules, no OCR models needed."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.pipeline.ocr.table_grid import find_tables  # noqa: E402

W, H = 1400, 900
XS = [100, 300, 500, 700, 900, 1100]
YS = [100, 160, 220, 280, 340]


def _ink() -> np.ndarray:
    return np.zeros((H, W), np.uint8)


def _hline(ink: np.ndarray, y: int, x0: int, x1: int) -> None:
    cv2.line(ink, (x0, y), (x1, y), 255, 3)


def _vline(ink: np.ndarray, x: int, y0: int, y1: int) -> None:
    cv2.line(ink, (x, y0), (x, y1), 255, 3)


def _spans(ink: np.ndarray) -> dict[tuple[int, int], tuple[int, int]]:
    tables = find_tables(ink)
    assert len(tables) == 1
    return {(c.row, c.col): (c.row_span, c.col_span) for c in tables[0].cells}


def _table_with_merged_header(ink: np.ndarray, overshoot: int) -> None:
    """Header row: one cell over columns 0-2, one over 3-4. Rules of the rows below reach
    ``overshoot`` pixels into the header, as a neighbouring rule does after residual skew."""
    for y in YS:
        _hline(ink, y, XS[0], XS[-1])
    for x in XS:
        top = YS[0] if x in (XS[0], XS[3], XS[-1]) else YS[1] - overshoot
        _vline(ink, x, top, YS[-1])


@pytest.mark.parametrize("overshoot", [0, 4, 8])
def test_a_rule_leaning_into_a_merged_cell_does_not_split_it(overshoot: int) -> None:
    ink = _ink()
    _table_with_merged_header(ink, overshoot)
    spans = _spans(ink)
    assert spans[(0, 0)] == (1, 3)
    assert spans[(0, 3)] == (1, 2)
    assert spans[(1, 1)] == (1, 1) and len(spans) == 2 + 3 * 5


def _grid_with_long_columns(past_last_rule: int) -> np.ndarray:
    ink = _ink()
    for y in YS:
        _hline(ink, y, XS[0], XS[-1])
    for x in XS:
        _vline(ink, x, YS[0], YS[-1] + past_last_rule)
    return ink


@pytest.mark.parametrize(
    ("past_last_rule", "rows"),
    [
        (9, len(YS) - 1),  # dilation and skew leave rules a little long: no extra row
        (50, len(YS)),  # the table runs on to the next page: its open last row is kept
    ],
)
def test_where_the_column_rules_end(past_last_rule: int, rows: int) -> None:
    assert find_tables(_grid_with_long_columns(past_last_rule))[0].n_rows == rows


def test_a_cell_line_ignores_specks_and_rule_remnants() -> None:
    from gongkai.pipeline.ocr.table_grid import text_rows

    rng = np.random.default_rng(0)
    cell = np.zeros((40, 800), np.uint8)
    cell[8:32, 10:150] = (rng.random((24, 140)) < 0.45) * 255  # dense strokes: the label
    cell[10:30, 10:150:7] = 255  # thick enough to read as one line
    specks = rng.integers(0, 40, 60), rng.integers(160, 780, 60)
    cell[specks] = 255  # scanner noise over the blank rest of a wide merged cell
    cell[6:34, 796:798] = 255  # the stub of a rule left inside the cell by residual skew
    ((x0, _, x1, _),) = text_rows(cell)
    assert x0 == 10 and 148 <= x1 <= 152


def test_a_rule_broken_into_short_pieces_still_separates_its_cells() -> None:
    """A seal ring or a scanner gap cuts one row's stretch of a column rule into pieces shorter
    than the morphology keeps; the cells on either side stay two cells."""
    ink = _ink()
    for y in YS:
        _hline(ink, y, XS[0], XS[-1])
    for x in XS:
        _vline(ink, x, YS[0], YS[-1])
    x = XS[2]
    for y in (YS[2] + 15, YS[2] + 30, YS[2] + 45):
        ink[y : y + 2, x - 2 : x + 3] = 0  # three gaps leave pieces shorter than the kernel
    spans = _spans(ink)
    assert spans[(2, 1)] == (1, 1) and spans[(2, 2)] == (1, 1)


def test_text_crossing_a_merged_cell_does_not_split_it() -> None:
    ink = _ink()
    _table_with_merged_header(ink, 0)
    # A heading's glyphs sit across the column line under the merged header cell.
    for gx in range(XS[1] - 40, XS[1] + 40, 26):
        ink[YS[0] + 15 : YS[0] + 45, gx : gx + 20] = 255
    spans = _spans(ink)
    assert spans[(0, 0)] == (1, 3)
