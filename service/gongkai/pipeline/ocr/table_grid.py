"""Ruled tables in a page image: ruling lines by OpenCV morphology, the grid, and merged cells.

Works on a deskewed page. Horizontal and vertical rules are isolated with long thin opening
kernels; each connected group of rules is one table. Grid lines are the clustered rule positions;
two neighbouring grid positions belong to one merged cell when no rule separates them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PixelBox = tuple[float, float, float, float]

# Share of a cell boundary that must be covered by a rule for the two cells to be separate.
RULED_FRACTION = 0.6
# A lost vertical rule is taken back when this share of the pixel rows along it shows a thin mark.
BROKEN_RULE_FRACTION = 0.85
# Vertical rules running this far (pixels at 200 dpi, about 7 pt) past the last horizontal rule
# mean an open table end; a report row is at least 16 pt tall.
OPEN_END_MIN = 20


@dataclass
class ImageCell:
    row: int
    col: int
    row_span: int
    col_span: int
    bbox: PixelBox  # inside the rules, pixels


@dataclass
class ImageTable:
    bbox: PixelBox
    xs: list[float]
    ys: list[float]
    cells: list[ImageCell]

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1


def rule_masks(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical rules from an ink mask (255 = dark)."""
    h, w = ink.shape
    # Longer than any glyph stroke at report sizes, shorter than the narrowest table cell.
    hk = max(25, w // 40)
    vk = max(25, h // 60)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (hk, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, vk)))
    # Bridge one-pixel breaks left by noise or JPEG.
    horiz = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3)))
    vert = cv2.dilate(vert, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 5)))
    return horiz, vert


def _cluster(values: list[float], tol: float) -> list[float]:
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [float(np.mean(g)) for g in groups]


def _segments(mask: np.ndarray, horizontal: bool, min_len: int) -> list[tuple[float, float, float]]:
    """(position, start, end) of each rule segment: y, x0, x1 for horizontal rules."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if horizontal and w >= min_len:
            out.append((y + h / 2, float(x), float(x + w)))
        elif not horizontal and h >= min_len:
            out.append((x + w / 2, float(y), float(y + h)))
    return out


def find_tables(ink: np.ndarray, *, min_width_frac: float = 0.25) -> list[ImageTable]:
    """Every ruled table on the page, top to bottom."""
    w = ink.shape[1]
    horiz, vert = rule_masks(ink)
    both = cv2.bitwise_or(horiz, vert)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    tables: list[ImageTable] = []
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        if bw < min_width_frac * w or bh < 20:
            continue
        region = labels[y : y + bh, x : x + bw] == i
        table = _table_from_rules(
            horiz[y : y + bh, x : x + bw] * region,
            vert[y : y + bh, x : x + bw] * region,
            x,
            y,
            ink[y : y + bh, x : x + bw],
        )
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: t.bbox[1])
    return tables


def _table_from_rules(
    horiz: np.ndarray, vert: np.ndarray, ox: int, oy: int, ink: np.ndarray | None = None
) -> ImageTable | None:
    bw = horiz.shape[1]
    hs = _segments(horiz.astype(np.uint8), True, max(20, bw // 20))
    vs = _segments(vert.astype(np.uint8), False, 15)
    if len(hs) < 1 or len(vs) < 3:
        return None
    ys = _cluster([s[0] for s in hs], 6)
    xs = _cluster([s[0] for s in vs], 6)
    # A table cut by a page break may have no closing rule: the vertical rules' ends close it.
    # Rules that only overshoot the last horizontal rule (dilation, residual skew) do not.
    top_v, bottom_v = min(s[1] for s in vs), max(s[2] for s in vs)
    if top_v < ys[0] - OPEN_END_MIN:
        ys.insert(0, top_v)
    if bottom_v > ys[-1] + OPEN_END_MIN:
        ys.append(bottom_v)
    if len(xs) < 3 or len(ys) < 2:
        return None
    n_rows, n_cols = len(ys) - 1, len(xs) - 1

    def v_coverage(col_line: int, r: int) -> float:
        x = round(xs[col_line])
        y0, y1 = round(ys[r]) + 4, round(ys[r + 1]) - 4
        if y1 <= y0:
            return 1.0
        band = vert[y0:y1, max(0, x - 4) : x + 5] > 0
        return float(band.max(axis=1).mean()) if band.size else 0.0

    def v_rule(col_line: int, r: int) -> bool:
        """A vertical rule at xs[col_line] between ys[r] and ys[r+1]."""
        # Most of the boundary must be ruled: a neighbouring rule that leans in through residual
        # skew touches only a few pixel rows of it.
        if v_coverage(col_line, r) > RULED_FRACTION:
            return True
        ruled_next_to_it = any(
            0 <= k < n_rows and v_coverage(col_line, k) > RULED_FRACTION for k in (r - 1, r + 1)
        )
        return ruled_next_to_it and ink is not None and _broken_rule(ink, xs[col_line], ys[r], ys[r + 1])

    def h_rule(row_line: int, c: int) -> bool:
        y = round(ys[row_line])
        x0, x1 = round(xs[c]) + 4, round(xs[c + 1]) - 4
        if x1 <= x0:
            return True
        band = horiz[max(0, y - 4) : y + 5, x0:x1] > 0
        return bool(band.size) and float(band.max(axis=0).mean()) > RULED_FRACTION

    # Union-find over grid positions: no rule between two neighbours = one merged cell.
    parent = list(range(n_rows * n_cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not v_rule(c + 1, r):
                parent[find(r * n_cols + c)] = find(r * n_cols + c + 1)
            if r + 1 < n_rows and not h_rule(r + 1, c):
                parent[find(r * n_cols + c)] = find((r + 1) * n_cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(n_rows):
        for c in range(n_cols):
            groups.setdefault(find(r * n_cols + c), []).append((r, c))
    cells = []
    for members in groups.values():
        r0, r1 = min(m[0] for m in members), max(m[0] for m in members) + 1
        c0, c1 = min(m[1] for m in members), max(m[1] for m in members) + 1
        cells.append(
            ImageCell(r0, c0, r1 - r0, c1 - c0, (ox + xs[c0], oy + ys[r0], ox + xs[c1], oy + ys[r1]))
        )
    if len(cells) < 2:
        return None
    cells.sort(key=lambda c: (c.row, c.col))
    return ImageTable(
        (ox + xs[0], oy + ys[0], ox + xs[-1], oy + ys[-1]),
        [ox + x for x in xs],
        [oy + y for y in ys],
        cells,
    )


def _broken_rule(ink: np.ndarray, x: float, y_top: float, y_bottom: float) -> bool:
    """A vertical rule the morphology lost: a seal ring or a scanner gap cut it into pieces shorter
    than the opening kernel, yet nearly every pixel row along it still has a thin mark on the line.

    Called only where the same line is ruled in a neighbouring row. A pixel row counts when it has
    ink within 4 px of the line but not on both sides 6-10 px away: a glyph crossing a merged cell
    is wide there and covers only a glyph's height, a rule is thin and runs the whole row."""
    xi = round(x)
    y0, y1 = round(y_top) + 4, round(y_bottom) - 4
    if y1 - y0 < 8 or xi - 10 < 0 or xi + 11 > ink.shape[1]:
        return False
    rows = ink[y0:y1] > 0
    on_line = rows[:, xi - 4 : xi + 5].any(axis=1)
    wide = rows[:, xi - 10 : xi - 5].any(axis=1) & rows[:, xi + 6 : xi + 11].any(axis=1)
    return float((on_line & ~wide).mean()) >= BROKEN_RULE_FRACTION


def text_rows(ink: np.ndarray, min_height: int = 6, gap: int = 2) -> list[tuple[int, int, int, int]]:
    """Text lines inside a cell crop (ink without rules): (x0, y0, x1, y1) per line, top to bottom.

    Ink rows are split at blank rows, then thin runs are merged back while the merged run stays
    within a character height: the strokes of 三 or 二 are one line, two stacked characters are two.
    """
    rows = ink.max(axis=1) > 0
    runs: list[list[int]] = []
    start = None
    for y, on in enumerate(rows):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append([start, y])
            start = None
    if start is not None:
        runs.append([start, len(rows)])
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] <= gap:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    if not merged:
        return []
    char_h = max(r[1] - r[0] for r in merged)
    joined: list[list[int]] = [merged[0]]
    for run in merged[1:]:
        last = joined[-1]
        thin = min(run[1] - run[0], last[1] - last[0]) < 0.6 * char_h
        if thin and run[1] - last[0] <= 1.25 * char_h:
            last[1] = run[1]
        else:
            joined.append(run)
    out = []
    for y0, y1 in joined:
        if y1 - y0 < min_height:
            continue
        span = _text_span(ink[y0:y1])
        if span is not None:
            out.append((span[0], y0, span[1], y1))
    return out


# Ink share of a text group's box: strokes fill 10-60 % of it, scattered noise about 1 %.
MIN_TEXT_DENSITY = 0.04


def _text_span(row: np.ndarray) -> tuple[int, int] | None:
    """Left and right end of the text in one line of a cell, scanner specks left out.

    Ink columns are grouped at gaps wider than the line is tall; a group with less ink than a
    thin stroke (a speck, a JPEG artefact) is not text. A speck at the far end of a wide merged
    cell would otherwise stretch the crop over blank paper, where the recogniser invents
    characters. Scattered noise over a stretch of paper is sparse, text is dense."""
    height = row.shape[0]
    # Columns with a single ink pixel are specks (a stroke is at least two pixels thick here).
    cols = np.nonzero(np.count_nonzero(row, axis=0) >= 2)[0]
    if cols.size == 0:
        return None
    splits = np.nonzero(np.diff(cols) > max(8, height))[0]
    starts = [int(cols[0]), *(int(cols[i + 1]) for i in splits)]
    ends = [*(int(cols[i]) + 1 for i in splits), int(cols[-1]) + 1]
    min_ink = max(12, 0.05 * height * height)
    kept = [
        (a, b)
        for a, b in zip(starts, ends, strict=True)
        if (n := np.count_nonzero(row[:, a:b])) >= min_ink and n >= MIN_TEXT_DENSITY * (b - a) * height
    ]
    # A thin upright mark far from the rest at either end is a rule remnant left by residual skew.
    while (
        len(kept) >= 2
        and kept[-1][1] - kept[-1][0] <= 0.3 * height
        and kept[-1][0] - kept[-2][1] > 2 * height
    ):
        kept.pop()
    while len(kept) >= 2 and kept[0][1] - kept[0][0] <= 0.3 * height and kept[1][0] - kept[0][1] > 2 * height:
        kept.pop(0)
    if not kept:
        return None
    return kept[0][0], kept[-1][1]
