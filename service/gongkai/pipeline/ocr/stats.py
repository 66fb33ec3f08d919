"""Exact percentiles of images from their histograms.

``np.percentile`` sorts (partitions) a copy of the whole image: ~10 ms for a 200 dpi page, and a
scanned page asks for its paper level several times. Pixel values are small integers, so counting
them (``np.bincount``) finds the same two order statistics, and numpy's own linear interpolation
between them gives the same float, bit for bit (``tests/pipeline/ocr/test_stats.py``).
"""

from __future__ import annotations

import numpy as np


def percentile(image: np.ndarray, q: float) -> float:
    """``np.percentile(image, q)`` (linear method) of an array of non-negative integers (a uint8
    page, an int16 channel); any other array goes to numpy itself."""
    if image.dtype.kind not in "iu" or image.size == 0:
        return float(np.percentile(image, q))
    flat = image.reshape(-1)
    if image.dtype.kind == "i" and flat.min() < 0:
        return float(np.percentile(image, q))
    counts = np.cumsum(np.bincount(flat))
    # numpy's "linear" method: the virtual index (n - 1) * q / 100 between two order statistics.
    index = (flat.size - 1) * np.true_divide(q, 100)
    below = int(np.floor(index))
    above = min(below + 1, flat.size - 1)
    a, b = np.searchsorted(counts, [below, above], side="right")
    gamma = index - below
    diff = float(b - a)
    # numpy's _lerp: from the upper value when gamma >= 0.5, which keeps the result monotonic.
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)
