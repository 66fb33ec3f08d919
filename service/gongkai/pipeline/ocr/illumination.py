"""Even the light of a photographed page: estimate the paper's brightness everywhere, divide by it.

Each colour channel is divided by its own background, so a warm cast (paper darker in blue than in
red) and a light falloff across the page both become white paper. The background is the page with
its ink removed: a maximum filter wider than a character on a 1/8-size image, smoothed and scaled
back. Red seal ink stays red (a red pixel keeps its share of the paper's red), so seal suppression
works on the result as on a scan.
"""

from __future__ import annotations

import cv2
import numpy as np

PAPER = 245.0  # the paper's grey after division (scans' paper sits at 230-250)
_DOWN = 8
# Background brightest / darkest (5th / 95th percentiles) above which a page's light is uneven.
UNEVEN = 1.3


def background(image: np.ndarray) -> np.ndarray:
    """The paper brightness under every pixel (same shape and type as ``image``)."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // _DOWN), max(1, h // _DOWN)), interpolation=cv2.INTER_AREA)
    # 9 px at 1/8 size = 72 px at full size: wider than a character or a rule, so only paper is left
    paper = cv2.dilate(small, np.ones((9, 9), np.uint8))
    paper = cv2.medianBlur(paper, 5)
    paper = cv2.GaussianBlur(paper, (0, 0), 2.0)
    return cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)


def unevenness(image: np.ndarray) -> float:
    """How uneven the paper's light is: ratio of the brighter to the darker background (1 = even)."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, w // 16), max(1, h // 16)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((5, 5), np.uint8)).astype(np.float32)
    lo, hi = np.percentile(paper, [5, 95])
    return float(hi / max(lo, 1.0))


def even_light(image: np.ndarray) -> np.ndarray:
    """``image`` (grey or BGR uint8) divided by its background, paper at ``PAPER``."""
    bg = np.clip(background(image), 1.0, 255.0).astype(np.uint8)
    return cv2.divide(image, bg, scale=PAPER)  # saturating uint8 arithmetic: fast on a full page
