"""Page preparation before OCR (gongkai.pipeline.ocr.prepare) on drawn pages, no OCR models needed."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.pipeline.ocr.prepare import ink_mask, suppress_red

PAPER = 235
SEAL = np.array([40, 34, 214], np.float32) / 255.0  # BGR of seal ink


def _page_with_sealed_rule(rule_grey: int) -> np.ndarray:
    """A paper page with a horizontal rule of the given grey, stamped over by a red disc
    (multiply blending, as ink over toner)."""
    page = np.full((200, 400, 3), PAPER, np.float32)
    page[98:101, 20:380] = rule_grey  # a thin rule, anti-aliased grey on a scan
    yy, xx = np.mgrid[:200, :400]
    disc = (yy - 100) ** 2 + (xx - 200) ** 2 < 80**2
    page[disc] *= SEAL
    return page.clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("rule_grey", [0, 90, 130])
def test_seal_vanishes_and_the_rule_under_it_stays(rule_grey: int) -> None:
    grey, painted = suppress_red(_page_with_sealed_rule(rule_grey))
    assert painted > 10_000
    ink = ink_mask(grey) > 0
    # The rule is dark along its whole length, under the seal too.
    assert ink[97:102, 30:370].any(axis=0).mean() > 0.95
    # The seal itself leaves no ink away from the rule.
    assert ink[40:90, 150:250].mean() < 0.01 and ink[110:170, 150:250].mean() < 0.01
