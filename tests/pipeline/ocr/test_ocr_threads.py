"""Pages read on threads of one process give the readings of pages read one after another with
single-threaded sessions (what the worker processes do), and a second-opinion engine builds no
detector it does not use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gongkai.pipeline.ocr import ocr_available
from gongkai.settings import PipelineOptions

pytestmark = pytest.mark.skipif(not ocr_available(PipelineOptions()), reason="the ocr extra is not installed")
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "synthetic" / "s2025-0003-2021-scan_pdf.pdf"


def _pages(n: int) -> list[Any]:
    import numpy as np
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(FIXTURE))
    try:
        out = []
        for i in range(min(n, len(doc))):
            rgb = np.asarray(doc[i].render(scale=200 / 72).to_pil().convert("RGB"))
            out.append(np.ascontiguousarray(rgb[:, :, ::-1]))
        return out
    finally:
        doc.close()


def _readings(results: list[tuple[object, object]]) -> list[object]:
    out = []
    for page, _ in results:
        cells = [
            (c.row, c.col, c.text, round(c.confidence, 6), c.candidates) for t in page.tables for c in t.cells
        ]  # type: ignore[attr-defined]
        out.append(([(b.text, b.type, b.coordinates) for b in page.blocks], cells))  # type: ignore[attr-defined]
    return out


def test_threads_read_as_one_page_after_another() -> None:
    from gongkai.pipeline.ocr import ocr_images

    images = _pages(2)
    numbers, dpis = list(range(1, len(images) + 1)), [200.0] * len(images)
    threaded = ocr_images(images, numbers, dpis, PipelineOptions(ocr_workers=2, ocr_pool="threads"))
    serial = ocr_images(images, numbers, dpis, PipelineOptions(ocr_workers=1, ocr_threads=1))
    assert _readings(threaded) == _readings(serial)


def test_the_second_engine_loads_its_detector_only_when_asked() -> None:
    import numpy as np

    from gongkai.pipeline.ocr.engine import OnnxPpOcr
    from gongkai.pipeline.ocr.models import ENGINE_IDS, engine_installed, ocr_model_files

    name = next(e for e in ENGINE_IDS if engine_installed(e))
    engine = OnnxPpOcr(ocr_model_files(name), threads=1)
    assert engine._det is None
    engine.recognize([np.full((48, 96, 3), 255, np.uint8)])
    assert engine._det is None
    engine.detect(np.full((64, 64, 3), 255, np.uint8))
    assert engine._det is not None
