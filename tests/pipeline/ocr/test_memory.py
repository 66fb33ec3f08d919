"""Memory of OCR (issue 15): a reading keeps only the digit columns it is decoded from later, with
the same decoding as from the whole softmax; glibc is asked for fewer arenas and to give back what
was freed."""

from __future__ import annotations

import numpy as np
import pytest

from gongkai.pipeline.ocr import memory, ocr_available
from gongkai.settings import PipelineOptions

needs_ocr = pytest.mark.skipif(not ocr_available(PipelineOptions()), reason="the ocr extra is not installed")


def _softmax(rng: np.random.Generator, frames: int, classes: int, digit_rows: list[int]) -> np.ndarray:
    logits = rng.normal(0, 1, (frames, classes)).astype(np.float32)
    for t in range(frames):  # a digit string: blank or one digit class strongly preferred per frame
        logits[t, digit_rows[t % len(digit_rows)] if t % 2 else 0] += 9.0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _full_share(engine: object, probs: np.ndarray) -> float:
    # The decoding before the change, on the whole softmax (engine._digit_index: digit -> classes).
    emitting = probs[:, 0] < 0.5
    p = probs[emitting]
    digit_mass = sum(p[:, idx].sum(axis=1) for idx in engine._digit_index.values())  # type: ignore[attr-defined]
    return float(np.min(digit_mass / np.maximum(1.0 - p[:, 0], 1e-6)))


@needs_ocr
def test_digit_columns_decode_as_the_whole_softmax() -> None:
    from gongkai.pipeline.ocr.engine import get_engine

    engine = get_engine(PipelineOptions().ocr_engine, threads=1)
    classes = len(engine.chars)
    digit_rows = [engine._digit_index[d][0] for d in "3141592"] + engine._amount_index["."][:1]
    rng = np.random.default_rng(15)
    for _ in range(20):
        full = _softmax(rng, 40, classes, digit_rows)
        small = engine.digit_columns(full)
        assert small.shape == (40, 2 + len(engine._digit_index))
        assert small.nbytes * 100 < full.nbytes
        assert engine.digit_share(small) == pytest.approx(_full_share(engine, full), rel=1e-6)
        for point in (False, True):
            got = engine.digit_candidates(small, 5, point=point)
            assert got and all(set(text) <= set("0123456789.") for text, _ in got)
            # The same candidates as the old code's decoding of the whole softmax, column by column.
            index = engine._amount_index if point else engine._digit_index
            cols = np.stack([full[:, index[d]].sum(axis=1) for d in sorted(index)], axis=1)
            assert np.allclose(small[:, [engine._column[d] for d in sorted(index)]], cols)


@needs_ocr
def test_a_reading_does_not_hold_its_batch_output() -> None:
    from gongkai.pipeline.ocr.engine import get_engine

    engine = get_engine(PipelineOptions().ocr_engine, threads=1)
    crops = [np.full((48, 48 * k, 3), 255, np.uint8) for k in (2, 3, 4)]
    for r in engine.recognize(crops):
        # Its own small array, not a view keeping the (batch, frames, 6 625) output alive.
        assert r.probs.base is None and r.probs.shape[1] == 2 + len(engine._digit_index)


def test_glibc_calls_are_safe_to_repeat() -> None:
    first = memory.cap_arenas()
    assert memory.cap_arenas() == first  # once per process: the second call changes nothing
    assert isinstance(memory.release_memory(), bool)
    if memory._glibc() is None:
        assert first is False  # not glibc: nothing was called


@needs_ocr
def test_a_wide_batch_runs_in_parts_with_the_same_output(monkeypatch: pytest.MonkeyPatch) -> None:
    from gongkai.pipeline.ocr import engine as enginelib

    engine = enginelib.get_engine(PipelineOptions().ocr_engine, threads=1)
    rng = np.random.default_rng(3)
    batch = rng.uniform(-1, 1, (5, 3, enginelib.REC_HEIGHT, 900)).astype(np.float32)
    runs: list[int] = []
    session = engine.rec

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(session, name)

        def run(self, out: object, feed: dict[str, np.ndarray]) -> object:
            runs.append(len(next(iter(feed.values()))))
            return session.run(out, feed)

    chunks = list(engine._run_rec(Counting(), batch))
    assert runs == [2, 2, 1] and [start for start, _ in chunks] == [0, 2, 4]  # 2 048 columns a run at most
    parts = np.concatenate([out for _, out in chunks])
    monkeypatch.setattr(enginelib, "REC_COLUMNS_PER_RUN", 10**9)
    ((_, whole),) = list(engine._run_rec(Counting(), batch))
    assert runs[-1] == 5 and parts.shape == whole.shape
    assert np.allclose(parts, whole, atol=1e-5) and (parts.argmax(axis=2) == whole.argmax(axis=2)).all()
