"""A second OCR engine's agreement raises or lowers a doubtful numeric cell's confidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.pipeline.datamodel import GridCell, TableGrid, TextSource
from gongkai.pipeline.ocr import engine as engine_mod
from gongkai.pipeline.ocr.page import SECOND_OPINION_BELOW, _Crop, _second_opinion
from gongkai.settings import PipelineOptions


@dataclass
class _Reading:
    probs: np.ndarray


class _FakeEngine:
    """Reads every crop as ``text`` with probability ``p`` and counts the crops it was given."""

    def __init__(self, text: str, p: float) -> None:
        self.text, self.p, self.seen = text, p, 0

    def recognize(self, crops: list[np.ndarray]) -> list[_Reading]:
        self.seen += len(crops)
        return [_Reading(np.zeros((4, 3))) for _ in crops]

    def digit_candidates(
        self, probs: np.ndarray, top_k: int = 5, *, point: bool = False
    ) -> list[tuple[str, float]]:
        return [(self.text, self.p)]


def _grid(confidence: float, text: str = "5") -> tuple[list[TableGrid], list[_Crop]]:
    cell = GridCell(0, 0, text, confidence=confidence, candidates=[(text, confidence), ("6", 0.1)])
    grid = TableGrid(1, 1, [cell], TextSource.OCR)
    return [grid], [_Crop((10, 10, 40, 40), "cell", 0, 0)]


@pytest.fixture
def second(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(text: str, p: float) -> _FakeEngine:
        fake = _FakeEngine(text, p)
        monkeypatch.setattr(engine_mod, "second_engine", lambda first, choice="auto": fake)
        return fake

    return use


GREY = np.full((60, 60), 255, np.uint8)


def test_agreement_raises_confidence(second) -> None:  # type: ignore[no-untyped-def]
    second("5", 0.9)
    grids, crops = _grid(0.6)
    assert _second_opinion(grids, crops, GREY, "ppocr-v6") == (1, 1)
    assert grids[0].cells[0].confidence == pytest.approx((0.6 * 0.9) ** 0.5, abs=1e-4)


def test_disagreement_lowers_confidence_and_adds_a_candidate(second) -> None:  # type: ignore[no-untyped-def]
    second("8", 0.9)
    grids, crops = _grid(0.85)
    assert _second_opinion(grids, crops, GREY, "ppocr-v6") == (1, 0)
    cell = grids[0].cells[0]
    assert cell.text == "5" and cell.confidence == pytest.approx(0.85 * 0.1)
    assert ("8", pytest.approx(0.9 * 0.15)) in cell.candidates


def test_a_less_sure_second_reader_that_agrees_changes_nothing(second) -> None:  # type: ignore[no-untyped-def]
    second("5", 0.3)
    grids, crops = _grid(0.6)
    assert _second_opinion(grids, crops, GREY, "ppocr-v6") == (1, 1)
    assert grids[0].cells[0].confidence == pytest.approx(0.6)


def test_confident_cells_are_not_read_twice(second) -> None:  # type: ignore[no-untyped-def]
    fake = second("8", 0.9)
    grids, crops = _grid(SECOND_OPINION_BELOW + 0.01)
    assert _second_opinion(grids, crops, GREY, "ppocr-v6") == (0, 0)
    assert fake.seen == 0 and grids[0].cells[0].confidence == SECOND_OPINION_BELOW + 0.01


def test_the_second_engine_is_the_other_generation() -> None:
    from gongkai.pipeline.ocr.models import engine_installed

    if not engine_installed("ppocr-v4"):
        pytest.skip("rapidocr_onnxruntime (PP-OCRv4) is not installed")
    assert engine_mod.second_engine("ppocr-v6").name == "ppocr-v4"  # type: ignore[union-attr]
    assert engine_mod.second_engine("ppocr-v6", "ppocr-v4").name == "ppocr-v4"  # type: ignore[union-attr]
    assert engine_mod.second_engine("ppocr-v6", "off") is None
    assert engine_mod.second_engine("ppocr-v6", "ppocr-v6") is None  # not a second opinion
    # The options' spelling: GONGKAI_OCR_SECOND_ENGINE=none (as the docs say) is off.
    assert PipelineOptions(ocr_second_engine="none").ocr_second_engine == "off"


def test_switched_off_no_second_engine_reads_the_doubtful_cells() -> None:
    grids, crops = _grid(0.6)
    assert _second_opinion(grids, crops, GREY, "ppocr-v6", "off") == (0, 0)
    assert grids[0].cells[0].confidence == 0.6
