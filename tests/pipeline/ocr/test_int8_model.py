"""The int8 PP-OCRv6 recogniser we ship in models/ocr (issue 15), used by the opt-in engine
``ppocr-v6-int8``: where it is loaded from, that it is the build its record describes from the wheel's
float model, that numbers stay in float, and that doubtful int8 readings are read again in float."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the OCR extra (gongkai[ocr]) is not installed")
pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.pipeline.ocr.engine import OnnxPpOcr, get_engine, second_engine
from gongkai.pipeline.ocr.models import (
    OcrUnavailableError,
    engine_installed,
    models_dir,
    ocr_model_files,
)
from gongkai.settings import PipelineOptions
from training.ocr.quantize import sha256

INT8, FLOAT = "ppocr-v6-int8", "ppocr-v6"
needs_both = pytest.mark.skipif(
    not (engine_installed(INT8) and engine_installed(FLOAT)),
    reason="rapidocr (the ocr extra) or models/ocr is missing",
)


def test_the_int8_engine_is_opt_in() -> None:
    # Faster, but not accuracy-neutral on degraded pages (BENCHMARKS.md, issue 15 third part).
    assert PipelineOptions().ocr_engine == FLOAT
    assert PipelineOptions(ocr_engine=INT8).ocr_engine == INT8


@needs_both
def test_int8_recogniser_comes_from_models_and_the_rest_from_the_wheel() -> None:
    files, float_files = ocr_model_files(INT8), ocr_model_files(FLOAT)
    assert files.rec_wide == models_dir() / "ocr" / "ppocr-v6-rec-int8.onnx"
    # The detector and the recogniser of narrow crops (numbers) are the wheel's, unchanged.
    assert (files.det, files.rec) == (float_files.det, float_files.rec)


@needs_both
def test_shipped_model_is_the_recorded_build_of_the_installed_float_model() -> None:
    record = json.loads((models_dir() / "ocr" / "build.json").read_text())
    model = models_dir() / "ocr" / record["file"]
    assert sha256(model) == record["sha256"]
    # A new rapidocr wheel with another recogniser must fail here until the model is rebuilt.
    assert sha256(ocr_model_files(FLOAT).rec) == record["source"]["sha256"]
    assert (models_dir() / "ocr" / "MODEL_CARD.md").is_file()


@needs_both
def test_int8_model_carries_the_float_models_character_list() -> None:
    from gongkai.pipeline.ocr.models import onnx_session

    files = ocr_model_files(INT8)
    assert files.rec_wide is not None
    int8_chars = onnx_session(files.rec_wide, 1).get_modelmeta().custom_metadata_map["character"]
    float_chars = onnx_session(files.rec, 1).get_modelmeta().custom_metadata_map["character"]
    assert int8_chars == float_chars and len(int8_chars.splitlines()) > 18_000


def test_missing_models_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_MODELS_DIR", str(tmp_path))
    assert not engine_installed(INT8)
    with pytest.raises(OcrUnavailableError, match="GONGKAI_MODELS_DIR"):
        ocr_model_files(INT8)


@needs_both
def test_second_opinion_comes_from_another_generation() -> None:
    other = second_engine(INT8)
    if not engine_installed("ppocr-v4"):
        assert other is None
    else:
        assert other is not None and other.name == "ppocr-v4"  # not the float twin of the same model


def _crops(n: int, *, words: bool) -> tuple[list[np.ndarray], list[str]]:
    """Grey crops of numbers (as a table cell shows them) or of text lines, drawn with the corpus
    generator's CJK font."""
    from PIL import Image, ImageDraw

    from gongkai.devtools.corpora.synthetic.fonts import pil_font

    rng = random.Random(15)
    font = pil_font(None, 34)
    phrases = [
        "政府信息公开工作年度报告",
        "主动公开政府信息情况",
        "收到和处理政府信息公开申请情况",
        "行政复议",
    ]
    crops, truth = [], []
    for _ in range(n):
        if words:
            text = rng.choice(phrases) + str(rng.randint(1, 99)) + "件"
        else:
            text = str(rng.choice([rng.randint(0, 9), rng.randint(10, 999), rng.randint(1000, 99999)]))
        image = Image.new("L", (30 + (36 if words else 22) * len(text), 52), 250)
        ImageDraw.Draw(image).text((14, 6), text, fill=rng.randint(0, 60), font=font)
        crops.append(np.asarray(image))
        truth.append(text)
    return crops, truth


@needs_both
def test_numbers_are_read_by_the_float_model_exactly() -> None:
    pytest.importorskip("PIL")
    crops, truth = _crops(40, words=False)
    float_recs = get_engine(FLOAT, threads=1).recognize(crops)
    int8_recs = get_engine(INT8, threads=1).recognize(crops)
    assert [r.text for r in float_recs] == truth  # the crops are readable at all
    for a, b in zip(float_recs, int8_recs, strict=True):  # narrow batches never reach int8
        assert (a.text, a.score) == (b.text, b.score) and np.array_equal(a.probs, b.probs)


@needs_both
def test_text_lines_are_read_in_int8_and_doubtful_ones_again_in_float(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("PIL")
    from gongkai.pipeline.ocr import engine as engine_mod

    crops, truth = _crops(24, words=True)
    assert min(48 * c.shape[1] / c.shape[0] for c in crops) >= engine_mod.INT8_FROM_COLUMNS
    int8 = OnnxPpOcr(ocr_model_files(INT8), threads=1)
    float_recs = get_engine(FLOAT, threads=1).recognize(crops)
    assert sum(r.text == t for r, t in zip(float_recs, truth, strict=True)) >= 22
    int8_recs = int8.recognize(crops)
    assert int8._rec_wide is not None  # the wide batches went to the int8 session
    assert sum(r.text == t for r, t in zip(int8_recs, truth, strict=True)) >= 22
    # Nothing is sure enough: every line is read again in float, from the same padded rows, and so
    # reads exactly as the float engine reads it.
    monkeypatch.setattr(engine_mod, "INT8_SURE", 1.01)
    again = int8.recognize(crops)
    for a, b in zip(float_recs, again, strict=True):
        assert (a.text, a.score) == (b.text, b.score)


def test_a_scan_without_the_int8_model_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongkai.errors import NeedsOcrError
    from gongkai.pipeline.extract import extract_path

    scan = Path(__file__).parents[2] / "fixtures" / "synthetic" / "s2025-0003-2021-scan_pdf.pdf"
    if not scan.is_file():
        pytest.skip("the committed scan fixture is missing")
    monkeypatch.setenv("GONGKAI_MODELS_DIR", str(tmp_path))
    with pytest.raises(NeedsOcrError, match="GONGKAI_MODELS_DIR"):
        extract_path(scan, options=PipelineOptions(ocr_engine=INT8))
