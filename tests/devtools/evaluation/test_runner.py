"""Running documents: failures, time limits, crashed workers, and the options every worker gets."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import gongkai.pipeline.extract
from gongkai.devtools.corpora.synthetic import render_html
from gongkai.devtools.evaluation import evaluate
from gongkai.devtools.evaluation.discovery import discover
from gongkai.devtools.evaluation.runner import Outcome, ocr_overrides, run_items, run_one, worker_options
from gongkai.settings import PipelineOptions
from tests.devtools.evaluation.support import report_spec, truth_of


def test_a_corrupt_document_is_counted_failed_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage that is not a PDF body")
    truth_of(report_spec(), "broken.pdf", "pdf").save(tmp_path / "broken.truth.json")
    (tmp_path / "fine.html").write_bytes(render_html(report_spec(), None))
    truth_of(report_spec(), "fine.html", "html").save(tmp_path / "fine.truth.json")
    rep = evaluate([tmp_path], workers=0)
    broken = next(d for d in rep.documents if d.document == "broken.pdf")
    assert broken.status == "failed" and broken.error_type and broken.error
    assert broken.cells_right == 0 and broken.cells_scored == 200
    assert rep.total.failed == 1 and rep.total.cells_right == 200 and rep.total.cells_scored == 400
    assert rep.by_kind["html"].all_right == 1


def test_a_document_over_the_time_limit_fails_with_timeout(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(path: str, **_: object) -> None:
        time.sleep(5)

    monkeypatch.setattr(gongkai.pipeline.extract, "extract_path", slow)
    out = run_one(str(corpus / "clean.pdf"), timeout=0.2)
    assert out.result is None and out.error_type == "Timeout"


def _crash_on_marked(path: str, timeout: float | None, options: PipelineOptions | None) -> Outcome:
    """A worker entry point that dies the way a segfault would for documents named crash*, and
    stands in for the pipeline (which the pool logic under test does not need) for the others."""
    if Path(path).name.startswith("crash"):
        os._exit(3)
    return Outcome(None, f"ran in {os.getpid()}", "Marker", None, 0.0, None)


def test_a_document_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    names = ("a.html", "crash.html", "b.html", "c.html", "d.html")
    for name in names:
        (tmp_path / name).write_text("<html></html>", encoding="utf-8")
        truth_of(report_spec(), name, "html").save(tmp_path / f"{name[:-5]}.truth.json")
    items, _ = discover([tmp_path])
    outcomes = run_items(items, workers=2, runner=_crash_on_marked, warm=False)
    by_name = {it.name: out for it, out in zip(items, outcomes, strict=True)}
    assert by_name.pop("crash.html").error_type == "WorkerCrash"
    assert {out.error_type for out in by_name.values()} == {"Marker"}  # every other one ran


# --------------------------------------------------------------------------- options


def _echo_options(path: str, timeout: float | None, options: PipelineOptions | None) -> Outcome:
    """A worker entry point that reports the options it was handed (through the error field)."""
    assert options is not None
    return Outcome(None, f"{options.ocr_workers},{options.ocr_threads}", "Echo", None, 0.0, None)


def test_parallel_runs_use_one_ocr_worker_and_thread_unless_the_user_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GONGKAI_OCR_WORKERS", raising=False)
    monkeypatch.delenv("GONGKAI_OCR_THREADS", raising=False)
    unset = PipelineOptions()
    assert ocr_overrides(2, unset) == {"ocr_workers": 1, "ocr_threads": 1}
    assert ocr_overrides(1, unset) == {} and ocr_overrides(0, unset) == {}
    chosen = PipelineOptions(ocr_workers=3)
    assert ocr_overrides(2, chosen) == {"ocr_threads": 1}
    used = worker_options(2, chosen)
    assert (used.ocr_workers, used.ocr_threads) == (3, 1) and chosen.ocr_threads is None
    monkeypatch.setenv("GONGKAI_OCR_THREADS", "2")
    assert (worker_options(2).ocr_workers, worker_options(2).ocr_threads) == (1, 2)


def test_workers_get_the_options_built_in_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGKAI_OCR_WORKERS", raising=False)
    monkeypatch.setenv("GONGKAI_OCR_THREADS", "2")
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text("<html></html>", encoding="utf-8")
        truth_of(report_spec(), name, "html").save(tmp_path / f"{name[:-5]}.truth.json")
    items, _ = discover([tmp_path])
    outcomes = run_items(items, workers=2, runner=_echo_options, warm=False)
    assert [out.error for out in outcomes] == ["1,2", "1,2"]
    # In this process (no parallel documents) nothing is overridden.
    outcomes = run_items(items, workers=0, runner=_echo_options, warm=False)
    assert [out.error for out in outcomes] == ["None,2", "None,2"]


def test_run_one_passes_the_options_to_the_pipeline(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[PipelineOptions | None] = []

    def record(path: str, *, options: PipelineOptions | None = None) -> None:
        seen.append(options)
        raise RuntimeError("recorded")

    monkeypatch.setattr(gongkai.pipeline.extract, "extract_path", record)
    options = PipelineOptions(ocr_threads=1)
    out = run_one(str(corpus / "clean.pdf"), options=options)
    assert out.error_type == "RuntimeError" and seen == [options]
