"""Page preparation before OCR: camera captures, red seal suppression, resolution, orientation, deskew.

A photographed page (``pagefind.py``: a page edge on a surround, or rules not parallel) is cut out and
flattened, curved ones through UVDoc (``unwarp.py``), and its light evened (``illumination.py``)
first; a flatbed scan shows none of that evidence and goes on unchanged.

All steps work on a grey page image (uint8, white paper) and report what they did, so a result can
say which rotation and skew were corrected and which dpi the coordinates were measured at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from gongkai.pipeline.ocr import pagefind
from gongkai.pipeline.ocr.illumination import UNEVEN, even_light, unevenness
from gongkai.pipeline.ocr.stats import percentile

# The working resolution: PP-OCR reads 10.5–16 pt report text well at 200 dpi and is slower above.
TARGET_DPI = 200.0
A4_WIDTH_IN, A4_HEIGHT_IN = 8.27, 11.69
MAX_SKEW_DEG = 6.0
# Red pixels at least this bright in the red channel, relative to the paper, are seal ink alone.
SEAL_RED_FLOOR = 0.7


@dataclass
class Capture:
    """What was done to a photographed page (all False for a flatbed scan)."""

    page_found: bool = False  # page edge found, surround cropped, perspective undone
    light_evened: bool = False  # divided by its background (falloff, colour cast)
    rules_perspective: bool = False  # perspective undone from non-parallel rules
    curved: bool = False  # rules bow after the perspective was undone
    unwarped: bool = False  # flattened by UVDoc (only when curved, kept only when straighter)
    bend_px: float = 0.0  # largest bow of a long rule in the page handed on
    curve_px: float = 0.0  # the same before UVDoc (perspective undone)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Prepared:
    image: np.ndarray  # grey, uint8, upright and deskewed, at ``dpi``
    dpi: float
    rotation: int  # degrees counter-clockwise that were undone (0/90/180/270)
    skew_deg: float  # small skew that was undone
    seal_pixels: int  # pixels recoloured as paper by the red-seal filter
    blank: bool
    capture: Capture = field(default_factory=Capture)


def suppress_red(bgr: np.ndarray) -> tuple[np.ndarray, int]:
    """Grey image with red ink (official seals, red headers) replaced by paper colour.

    Black text under a seal stays: only pixels clearly redder than they are green or blue are
    painted, so the strokes of table rules and digits underneath survive.
    """
    if bgr.ndim == 2:
        return bgr, 0
    # Red dominance (R well above G and B) rather than an HSV hue band: seal ink on scans is often
    # pale or pink, with low saturation, yet still clearly redder than black text or grey paper.
    b, g, r = (bgr[..., i].astype(np.int16) for i in range(3))
    red = (r - np.maximum(g, b)) > 30
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    n = int(red.sum())
    if n:
        paper = int(percentile(grey, 90))
        grey = grey.copy()
        # Read red pixels through the red channel: seal ink on paper is bright there and vanishes,
        # while a thin rule or a digit under the seal (dark red after the stamp) stays dark.
        # Seal ink keeps well over SEAL_RED_FLOOR of the paper's red; anything darker is ink
        # under the seal, stretched so that the floor maps to paper.
        floor = SEAL_RED_FLOOR * max(1.0, percentile(r, 90))
        grey[red] = np.clip(r[red] * (paper / floor), 0, paper).astype(np.uint8)
    return grey, n


def normalise_resolution(grey: np.ndarray, dpi: float | None) -> tuple[np.ndarray, float]:
    """Scale to about ``TARGET_DPI``. Without a recorded dpi the page is taken to be A4 (or Letter)."""
    h, w = grey.shape[:2]
    if dpi is None or dpi < 50 or dpi > 1200:
        short_in, long_in = A4_WIDTH_IN, A4_HEIGHT_IN
        dpi = max(min(h, w) / short_in, max(h, w) / long_in)
    if 0.8 * TARGET_DPI <= dpi <= 1.25 * TARGET_DPI:
        return grey, float(dpi)
    scale = TARGET_DPI / dpi
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
    return out, TARGET_DPI


def ink_mask(grey: np.ndarray) -> np.ndarray:
    """Dark pixels (text, rules) as 255, robust to grey paper and uneven lighting."""
    blur = cv2.GaussianBlur(grey, (3, 3), 0)
    return cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)


def is_blank(mask: np.ndarray) -> bool:
    # Fewer dark pixels than a single short line of text: nothing to read.
    return int(np.count_nonzero(mask)) < 0.0004 * mask.size


def _profile_score(small: np.ndarray, angle: float) -> float:
    h, w = small.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rot = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    rows = rot.sum(axis=1, dtype=np.float64)
    return float(np.var(np.diff(rows)))


def estimate_skew(mask: np.ndarray) -> float:
    """Skew in degrees (counter-clockwise positive) by projection profiles, coarse then fine."""
    h, w = mask.shape
    scale = min(1.0, 900 / max(h, w))
    small = cv2.resize(mask, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    best = max(np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 0.01, 0.5), key=lambda a: _profile_score(small, a))
    fine = max(np.arange(best - 0.5, best + 0.51, 0.1), key=lambda a: _profile_score(small, a))
    return -float(round(fine, 2))


def rotate_small(grey: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by a small angle (degrees, counter-clockwise) keeping the page size, filling with paper."""
    if abs(angle) < 0.05:
        return grey
    h, w = grey.shape[:2]
    paper = int(percentile(grey, 90))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=paper)


def rotate_quarter(img: np.ndarray, ccw: int) -> np.ndarray:
    k = (ccw // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def lines_horizontal(mask: np.ndarray) -> bool:
    """True when text runs horizontally: row profiles of text lines are far more structured."""
    h, w = mask.shape
    scale = min(1.0, 700 / max(h, w))
    small = cv2.resize(mask, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    rows = float(np.var(np.diff(small.sum(axis=1, dtype=np.float64))))
    cols = float(np.var(np.diff(small.sum(axis=0, dtype=np.float64))))
    return rows >= cols


def _without_long_rules(mask: np.ndarray) -> np.ndarray:
    """Table rules dominate a page's profiles; text lines decide its orientation."""
    h, w = mask.shape
    long_h = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (w // 8, 1)))
    long_v = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, h // 8)))
    return cv2.bitwise_and(mask, cv2.bitwise_not(cv2.bitwise_or(long_h, long_v)))


def _flatten(
    grey: np.ndarray,
    mask: np.ndarray,
    source: np.ndarray,
    quad: pagefind.PageQuad | None,
    cap: Capture,
) -> tuple[np.ndarray, np.ndarray]:
    """Undo a perspective the rules show, then a curve they show (UVDoc), each only on evidence."""
    grey, mask, geo, cap.rules_perspective = _square_by_rules(grey, mask)
    cap.bend_px = cap.curve_px = round(geo.bend_px, 2)
    cap.curved = geo.bend_px > pagefind.BEND_PX
    if not (cap.curved and quad is not None and unwarp_available()):
        return grey, mask
    # UVDoc reads a page on its surround (on a page cropped to its edge it bends flat pages too)
    flat = _uvdoc_page(source, quad, grey.shape[1], grey.shape[0])
    flat, fmask, fgeo, _ = _square_by_rules(flat, ink_mask(flat))
    # kept only when measurably straighter, and with as many rules found (none lost to the warp)
    if fgeo.bend_px < 0.7 * geo.bend_px and len(fgeo.horizontal) >= len(geo.horizontal) - 1:
        cap.unwarped = True
        cap.bend_px = round(fgeo.bend_px, 2)
        return flat, fmask
    return grey, mask


def _square_by_rules(
    grey: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pagefind.RuleGeometry, bool]:
    """The page with the perspective its rules show undone (and its ink and rules measured again),
    or as it is when they show none; the last value says whether it was undone."""
    geo = pagefind.rule_geometry(mask)
    hom = pagefind.rules_homography(geo)
    if hom is None:
        return grey, mask, geo, False
    grey = pagefind.apply_homography(grey, hom)
    mask = ink_mask(grey)
    return grey, mask, pagefind.rule_geometry(mask), True


def _uvdoc_page(source: np.ndarray, quad: pagefind.PageQuad, width: int, height: int) -> np.ndarray:
    """The page flattened by UVDoc from the photo (page plus 4 % of surround), grey, ``width``×``height``."""
    from gongkai.pipeline.ocr.unwarp import get_unwarper

    h, w = source.shape[:2]
    pw, ph = quad.size
    x0, y0 = np.maximum(quad.corners.min(axis=0) - 0.04 * np.array([pw, ph]), 0).astype(int)
    x1, y1 = np.minimum(quad.corners.max(axis=0) + 0.04 * np.array([pw, ph]), [w, h]).astype(int)
    flat = get_unwarper().unwarp(source[y0:y1, x0:x1])
    flat = cv2.resize(flat, (width, height), interpolation=cv2.INTER_AREA)
    grey, _ = suppress_red(even_light(flat))
    return grey


def unwarp_available() -> bool:
    from gongkai.pipeline.ocr.unwarp import unwarp_available as available

    return available()


# Scores how well upright a grey page reads (mean recogniser score on a sample of its lines).
UprightScorer = Callable[[np.ndarray], float]


def prepare_page(
    image: np.ndarray,
    dpi: float | None,
    upright_score: UprightScorer | None = None,
    horizontal: Callable[[np.ndarray], bool | None] | None = None,
) -> Prepared:
    """Grey, seal-free, upright, deskewed page at about 200 dpi."""
    cap = Capture()
    t = time.perf_counter()
    source, quad = image, pagefind.find_page(image)
    if quad is not None:
        image, dpi = pagefind.warp_page(image, quad, TARGET_DPI), TARGET_DPI
        cap.page_found = True
    cap.seconds["find_page"] = time.perf_counter() - t
    t = time.perf_counter()
    if cap.page_found or unevenness(image) > UNEVEN:
        image = even_light(image)
        cap.light_evened = True
    cap.seconds["light"] = time.perf_counter() - t
    grey, seal_pixels = suppress_red(image)
    grey, dpi_used = normalise_resolution(grey, dpi)
    mask = ink_mask(grey)
    if is_blank(mask):
        return Prepared(grey, dpi_used, 0, 0.0, seal_pixels, True, cap)
    t = time.perf_counter()
    grey, mask = _flatten(grey, mask, source, quad, cap)
    cap.seconds["flatten"] = time.perf_counter() - t
    rotation = 0
    verdict = horizontal(grey) if horizontal is not None else None
    if verdict is None:
        verdict = lines_horizontal(_without_long_rules(mask))
    if not verdict:
        rotation = 90
        grey, mask = rotate_quarter(grey, -90), rotate_quarter(mask, -90)
    skew = estimate_skew(mask)
    grey = rotate_small(grey, -skew)
    if upright_score is not None:
        # 0 vs 180 (and 90 vs 270): the recogniser reads upside-down text with much lower scores.
        flipped = rotate_quarter(grey, 180)
        if upright_score(flipped) > upright_score(grey) + 0.05:
            grey = flipped
            rotation = (rotation + 180) % 360
    return Prepared(grey, dpi_used, rotation, skew, seal_pixels, False, cap)
