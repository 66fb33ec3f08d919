"""Which way text runs (0/180 against 90/270): a cheap 320 px detector pass decides a page with
plenty of text; the 640 px pass is run only when 320 px is not decisive."""

from __future__ import annotations

import numpy as np
import pytest

from gongkai.pipeline.ocr import ocr_available
from gongkai.settings import PipelineOptions

pytestmark = pytest.mark.skipif(not ocr_available(PipelineOptions()), reason="the ocr extra is not installed")


def _grey_text_page() -> np.ndarray:
    from gongkai.devtools.corpora.synthetic import RenderOptions, blank_spec, render_pdf
    from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, page_images
    from gongkai.pipeline.ingest.image import read_image_pages
    from gongkai.pipeline.ocr.prepare import suppress_red

    pdf = render_pdf(blank_spec("2021", 2023, "某某市某某区人民政府"), RenderOptions())
    png = page_images(pdf, ScanOptions(skew_deg=0.0), seed=1)[0]  # page 1: title and narrative
    image, _dpi = read_image_pages(png)[0]
    return suppress_red(image)[0]


class _Sides:
    """The engine, noting the detector side of each orientation pass."""

    def __init__(self, engine: object, boxes: int | None = None) -> None:
        self.engine, self.sides, self.boxes = engine, [], boxes

    def detect(self, image: np.ndarray, *, max_side: int | None = None, **kw: object) -> list[object]:
        self.sides.append(max_side)
        found = self.engine.detect(image, max_side=max_side, **kw)  # type: ignore[attr-defined]
        return found if self.boxes is None or max_side != 320 else found[: self.boxes]


def test_a_page_of_text_is_decided_by_the_cheap_pass_either_way_up() -> None:
    from gongkai.pipeline.ocr.engine import get_engine
    from gongkai.pipeline.ocr.page import _text_runs_horizontally
    from gongkai.pipeline.ocr.prepare import rotate_quarter

    grey = _grey_text_page()
    engine = _Sides(get_engine(PipelineOptions().ocr_engine, threads=1))
    assert _text_runs_horizontally(engine, grey) is True  # type: ignore[arg-type]
    assert _text_runs_horizontally(engine, rotate_quarter(grey, 90)) is False  # type: ignore[arg-type]
    assert engine.sides == [320, 320]


def test_too_few_boxes_at_320_px_ask_the_640_px_pass() -> None:
    from gongkai.pipeline.ocr.engine import get_engine
    from gongkai.pipeline.ocr.page import _text_runs_horizontally

    engine = _Sides(get_engine(PipelineOptions().ocr_engine, threads=1), boxes=3)  # 3 < 8: not decisive
    assert _text_runs_horizontally(engine, _grey_text_page()) is True  # type: ignore[arg-type]
    assert engine.sides == [320, 640]
