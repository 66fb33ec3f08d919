"""``python -m training.ocr`` builds the int8 recogniser: a one-document build here, checked for what
the engine needs (the character list, the source's checksum) and for reading like the float model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("onnx") is None or importlib.util.find_spec("rapidocr") is None,
    reason="needs onnx (the training extra) and rapidocr (the ocr extra)",
)


@pytest.mark.slow
def test_one_document_build_reads_like_the_float_model(tmp_path: Path) -> None:
    from gongkai.pipeline.ocr.engine import OnnxPpOcr, get_engine
    from gongkai.pipeline.ocr.models import OcrModelFiles, ocr_model_files, onnx_session
    from training.ocr.__main__ import main
    from training.ocr.quantize import sha256

    assert main(["--out", str(tmp_path), "--docs", "1", "--seed", "4243"]) == 0
    record = json.loads((tmp_path / "build.json").read_text())
    model = tmp_path / record["file"]
    source = ocr_model_files("ppocr-v6").rec
    assert record["sha256"] == sha256(model) and record["source"]["sha256"] == sha256(source)
    assert record["calibration"]["recogniser_runs"] > 10
    assert model.stat().st_size < 0.4 * source.stat().st_size  # int8 weights
    meta = onnx_session(model, 1).get_modelmeta().custom_metadata_map
    assert meta["character"] == onnx_session(source, 1).get_modelmeta().custom_metadata_map["character"]
    assert meta["gongkai_source_sha256"] == record["source"]["sha256"]

    from tests.pipeline.ocr.test_int8_model import _crops

    crops, truth = _crops(16, words=True)
    files = ocr_model_files("ppocr-v6")
    engine = OnnxPpOcr(OcrModelFiles("built", files.package, files.det, files.rec, model), threads=1)
    built = [r.text for r in engine.recognize(crops)]
    float_read = [r.text for r in get_engine("ppocr-v6", threads=1).recognize(crops)]
    assert engine._rec_wide is not None
    assert sum(a == b for a, b in zip(built, float_read, strict=True)) >= 14
    assert sum(a == t for a, t in zip(built, truth, strict=True)) >= 14
