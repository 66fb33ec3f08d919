"""Photographed pages: find the page in the frame and undo the perspective.

Two kinds of evidence, both measured on a downscaled image so a flatbed scan pays a few
milliseconds and is left untouched:

- **the page edge** (``find_page``): a large bright quadrilateral on a darker or busier surround.
  The page is the largest bright region left once strong edges cut it from touching bright objects;
  its outline gives four corners, refined by fitting a line to each side. It must differ from the
  surround by ``MIN_EDGE_CONTRAST`` grey levels and not simply be the whole frame (a flatbed scan).
  The page is then warped to a rectangle of its measured aspect ratio (snapped to A4 when close) at
  the working dpi, and the surround is cropped.
- **the rules** (``rule_geometry``): when no edge can be seen (a white surround, or a page filling
  the frame), long table rules that are not parallel to each other or not perpendicular to the
  column rules betray a perspective; the outermost four define a homography. Skew alone (all rules
  turned by the same angle) is left to deskew.

The same rule fit measures flatness: a rule that is not straight after the perspective is undone
(``RuleGeometry.bend_px``) says the page is curved (see ``unwarp.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gongkai.pipeline.ocr.stats import percentile

# The page is found on an image with this long side (pixels): enough for ±0.3 % corner accuracy
# once each side is fitted as a line, cheap enough for every page.
FIND_SIDE = 512
# A page must be at least this much brighter (grey levels, median) than what is around it.
MIN_EDGE_CONTRAST = 28.0
# ... and cover this share of the frame (smaller: not a page photo; larger: a scan, or the page fills it).
MIN_AREA, MAX_AREA = 0.2, 0.97
# Corners all this close to the frame corners (share of the side) are a scan's own border.
FRAME_CORNER = 0.02
A4_RATIO = 2**0.5
A4_SHORT_IN = 8.27
# Rules that disagree in angle by more than this (degrees) are not a plain skew (flat scans measure
# up to 0.35° at the third-resolution fit; 1 % corner moves give 1° and more).
PERSPECTIVE_DEG = 0.6
# A long rule bowing more than this (pixels at 200 dpi) from its straight fit: the page is curved.
BEND_PX = 3.0


@dataclass(frozen=True)
class PageQuad:
    corners: np.ndarray  # (4, 2) float32, TL TR BR BL, in the pixels of the image searched
    contrast: float  # median grey inside the page edge minus outside
    area_share: float  # page area / frame area
    bend: float  # largest bow of a side from its fitted line, share of the side's length

    @property
    def size(self) -> tuple[float, float]:
        """Width and height of the page in the image's pixels (means of opposite sides)."""
        tl, tr, br, bl = self.corners
        w = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
        h = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
        return float(w), float(h)


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _order(pts: np.ndarray) -> np.ndarray:
    """TL, TR, BR, BL of four points (by sums and differences of coordinates)."""
    s, d = pts.sum(axis=1), pts[:, 0] - pts[:, 1]
    return np.array([pts[np.argmin(s)], pts[np.argmax(d)], pts[np.argmax(s)], pts[np.argmin(d)]], np.float32)


def _intersect(l1: tuple[np.ndarray, np.ndarray], l2: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    (p, u), (q, v) = l1, l2
    den = u[0] * v[1] - u[1] * v[0]
    if abs(den) < 1e-9:
        return None
    t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / den
    return np.asarray(p + t * u, np.float32)


def _refine(contour: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, float]:
    """Corners as intersections of lines fitted to each side's outline, and the largest bow."""
    pts = contour.reshape(-1, 2).astype(np.float32)
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    bend = 0.0
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        ab = b - a
        length = float(np.linalg.norm(ab))
        if length < 4:
            return corners, 0.0
        u = ab / length
        rel = pts - a
        along = rel @ u
        across = rel[:, 0] * u[1] - rel[:, 1] * u[0]
        # the middle 80 % of the side, near the chord: leaves out rounded corners and the next side
        near = (along > 0.1 * length) & (along < 0.9 * length) & (np.abs(across) < 0.05 * length)
        side = pts[near]
        if len(side) < 5:
            lines.append((a, u))
            continue
        vx, vy, x0, y0 = cv2.fitLine(side, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        d = np.array([vx, vy], np.float32)
        p0 = np.array([x0, y0], np.float32)
        lines.append((p0, d))
        dev = np.abs((side[:, 0] - x0) * vy - (side[:, 1] - y0) * vx)
        bend = max(bend, float(np.percentile(dev, 98)) / length)
    out = []
    for i in range(4):
        p = _intersect(lines[i - 1], lines[i])
        if p is None:
            return corners, bend
        out.append(p)
    refined = np.array(out, np.float32)
    # a refit that moved a corner far is a fit gone wrong (a side lost under a shadow): keep the hull's
    if float(np.abs(refined - corners).max()) > 0.05 * max(np.ptp(corners[:, 0]), np.ptp(corners[:, 1])):
        return corners, bend
    return refined, bend


def _quad_of(hull: np.ndarray) -> np.ndarray | None:
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return _order(approx.reshape(4, 2).astype(np.float32))
    return None


def find_page(image: np.ndarray) -> PageQuad | None:
    """The page of a photo as a quadrilateral, or None when the image shows no page edge."""
    grey = _grey(image)
    h, w = grey.shape
    scale = FIND_SIDE / max(h, w)
    small = cv2.resize(
        grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    # Paper is bright at any light: threshold between the paper and the surround (Otsu), after
    # cutting the bright region along strong edges so a white object touching the page stays apart.
    _level, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    edges = cv2.Canny(blur, 30, 90)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    body = cv2.bitwise_and(bright, cv2.bitwise_not(edges))
    # text and rules are dark holes in the page; closing joins the page across them
    body = cv2.morphologyEx(body, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    body = cv2.morphologyEx(body, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(body, connectivity=4)
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    # the page is the large region that is a quadrilateral: a region that took in a sheet of paper
    # beside the page, or a page cut in two by a shadow, is not
    for i in 1 + np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:3]:
        if stats[i, cv2.CC_STAT_AREA] < MIN_AREA * sh * sw:
            break
        region = np.where(labels == i, 255, 0).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        contour = max(contours, key=cv2.contourArea)
        hull = cv2.convexHull(contour)
        hull_area = float(cv2.contourArea(hull))
        if not MIN_AREA <= hull_area / (sh * sw) <= MAX_AREA:
            continue
        if cv2.contourArea(contour) < 0.9 * hull_area:
            continue
        quad = _quad_of(hull)
        if quad is None or not 0.95 <= cv2.contourArea(quad) / hull_area <= 1.05:
            continue
        best = (contour, quad, hull_area / (sh * sw))
        break
    if best is None:
        return None
    contour, quad, share = best
    frame = np.array([[0, 0], [sw - 1, 0], [sw - 1, sh - 1], [0, sh - 1]], np.float32)
    if float(np.abs(quad - frame).max()) < FRAME_CORNER * max(sw, sh):
        return None
    quad, bend = _refine(contour, quad)
    # contrast across the outline: a band just inside the page against a band just outside
    filled = np.zeros_like(small)
    cv2.fillConvexPoly(filled, np.rint(quad).astype(np.int32), 255)
    k = np.ones((9, 9), np.uint8)
    inside = cv2.subtract(filled, cv2.erode(filled, k))
    outside = cv2.subtract(cv2.dilate(filled, k), filled)
    if not inside.any() or not outside.any():
        return None
    contrast = float(np.median(blur[inside > 0])) - float(np.median(blur[outside > 0]))
    if contrast < MIN_EDGE_CONTRAST:
        return None
    return PageQuad(quad / scale, contrast, share, bend)


def page_shape(width: float, height: float) -> tuple[float, float]:
    """Page width and height in inches from measured sides: A4 when close, else that aspect."""
    short, long_ = min(width, height), max(width, height)
    ratio = long_ / max(short, 1.0)
    if abs(ratio / A4_RATIO - 1) < 0.07:
        ratio = A4_RATIO
    s_in, l_in = A4_SHORT_IN, A4_SHORT_IN * ratio
    return (s_in, l_in) if width <= height else (l_in, s_in)


def warp_page(image: np.ndarray, quad: PageQuad, dpi: float) -> np.ndarray:
    """The page cut out of the photo and flattened to a rectangle at ``dpi``."""
    w_in, h_in = page_shape(*quad.size)
    out_w, out_h = round(w_in * dpi), round(h_in * dpi)
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    hom = cv2.getPerspectiveTransform(quad.corners.astype(np.float32), dst)
    # areas shrink when the photo has more pixels than the target: INTER_AREA is not available for
    # perspective warps, so pre-blur would cost more than the aliasing it saves at these ratios
    return cv2.warpPerspective(
        image, hom, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


# ---------------------------------------------------------------- the rules as evidence


@dataclass(frozen=True)
class RuleGeometry:
    """Long rules of a page fitted as lines: horizontal ones y = a·x + b, vertical ones x = c·y + d."""

    horizontal: list[tuple[float, float, float, float]]  # (a, b, x0, x1) in full-page pixels
    vertical: list[tuple[float, float, float, float]]  # (c, d, y0, y1)
    bend_px: float  # largest bow of a long rule from its straight fit, pixels of the page

    @property
    def angle_spread(self) -> float:
        """Degrees: how far the rules are from one common rotation (0 for a flat, skewed page)."""
        spreads = []
        if len(self.horizontal) >= 2:
            a = np.degrees(np.arctan([r[0] for r in self.horizontal]))
            spreads.append(float(np.ptp(a)))
        if len(self.vertical) >= 2:
            c = np.degrees(np.arctan([r[0] for r in self.vertical]))
            spreads.append(float(np.ptp(c)))
        if self.horizontal and self.vertical:
            # a rotation turns rows by +θ and columns by -θ (x = -tanθ·y): their sum is the shear
            ha = float(np.degrees(np.arctan(np.median([r[0] for r in self.horizontal]))))
            vc = float(np.degrees(np.arctan(np.median([r[0] for r in self.vertical]))))
            spreads.append(abs(ha + vc))
        return max(spreads, default=0.0)


def _fit_rules(
    mask: np.ndarray, horizontal: bool, min_len: float, scale: float
) -> tuple[list[tuple[float, float, float, float]], float]:
    """Line fits of the long thin components of a rule mask (in full-page pixels) and their bow."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[tuple[float, float, float, float]] = []
    bend = 0.0
    for i in range(1, n):
        x, y, bw, bh = stats[i, :4]
        length, thick = (bw, bh) if horizontal else (bh, bw)
        if length < min_len or thick > 0.08 * length + 6:
            continue
        ys, xs = np.nonzero(labels[y : y + bh, x : x + bw] == i)
        along, across = (xs + x, ys + y) if horizontal else (ys + y, xs + x)
        along = along.astype(np.float64) / scale
        across = across.astype(np.float64) / scale
        slope, icpt = np.polyfit(along, across, 1)
        # bow: medians of the rule's centre in 16 stretches against the straight fit
        edges = np.linspace(along.min(), along.max(), 17)
        idx = np.clip(np.searchsorted(edges, along, side="right") - 1, 0, 15)
        centres = [
            (float(np.median(along[idx == k])), float(np.median(across[idx == k])))
            for k in range(16)
            if np.any(idx == k)
        ]
        if len(centres) >= 8:
            bend = max(bend, max(abs(c - (slope * a + icpt)) for a, c in centres))
        out.append((float(slope), float(icpt), float(along.min()), float(along.max())))
    return out, bend


def rule_geometry(ink: np.ndarray) -> RuleGeometry:
    """Long rules of a page's ink mask (255 = ink), measured at a third of the resolution (cheap on
    every page; a 2-3 px rule at 200 dpi still shows, and a 500 px rule fixes its angle to ~0.1°)."""
    h, w = ink.shape
    scale = 1 / 3
    small = cv2.resize(
        ink, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    small = np.where(small > 80, 255, 0).astype(np.uint8)
    sh, sw = small.shape
    # short kernels: a rule turned by a few degrees still survives in overlapping pieces
    hmask = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (20, 1)))
    vmask = cv2.morphologyEx(small, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 20)))
    hor, hb = _fit_rules(hmask, True, 0.3 * sw, scale)
    ver, vb = _fit_rules(vmask, False, 0.12 * sh, scale)
    return RuleGeometry(hor, ver, max(hb, vb))


def rules_homography(geo: RuleGeometry) -> np.ndarray | None:
    """A homography that makes the outermost rules a rectangle, when they show a perspective.

    None when the rules are too few or too close together to tell, or agree with a plain rotation.
    """
    if len(geo.horizontal) < 2 or len(geo.vertical) < 2 or geo.angle_spread < PERSPECTIVE_DEG:
        return None

    def at_mid(r: tuple[float, float, float, float]) -> float:
        return r[0] * (r[2] + r[3]) / 2 + r[1]

    top = min(geo.horizontal, key=at_mid)
    bottom = max(geo.horizontal, key=at_mid)
    left = min(geo.vertical, key=at_mid)
    right = max(geo.vertical, key=at_mid)
    if at_mid(bottom) - at_mid(top) < 200 or at_mid(right) - at_mid(left) < 300:
        return None

    def line_h(r: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        return np.array([0.0, r[1]], np.float32), np.array([1.0, r[0]], np.float32)

    def line_v(r: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
        return np.array([r[1], 0.0], np.float32), np.array([r[0], 1.0], np.float32)

    pts = [
        _intersect(line_h(top), line_v(left)),
        _intersect(line_h(top), line_v(right)),
        _intersect(line_h(bottom), line_v(right)),
        _intersect(line_h(bottom), line_v(left)),
    ]
    if any(p is None for p in pts):
        return None
    src = np.array(pts, np.float32)
    tl, tr, br, bl = src
    rw = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    rh = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    c = src.mean(axis=0)
    dst = np.array(
        [
            [c[0] - rw / 2, c[1] - rh / 2],
            [c[0] + rw / 2, c[1] - rh / 2],
            [c[0] + rw / 2, c[1] + rh / 2],
            [c[0] - rw / 2, c[1] + rh / 2],
        ],
        np.float32,
    )
    return cv2.getPerspectiveTransform(src, dst)


def apply_homography(grey: np.ndarray, hom: np.ndarray) -> np.ndarray:
    """The page through ``hom`` on a canvas of the same size, new borders in paper colour."""
    h, w = grey.shape[:2]
    paper = int(percentile(grey, 90))
    return cv2.warpPerspective(grey, hom, (w, h), flags=cv2.INTER_LINEAR, borderValue=paper)
