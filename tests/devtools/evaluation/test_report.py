"""The printed report: one row per input kind, dashes where a number does not apply, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.devtools.evaluation import evaluate
from gongkai.devtools.evaluation.report import Report, render_tables


def test_table_has_a_row_per_kind_and_dashes_for_what_does_not_apply(report: Report) -> None:
    text = render_tables(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    kinds = [r.split("|")[1].strip() for r in rows]
    assert kinds[:5] == ["kind", "pdf", "html", "docx", "**total**"]
    pdf_row = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert pdf_row[3] == "100.0%" and pdf_row[10] != "—"
    assert pdf_row[9] == "—"  # no OCR page: no character error rate
    total_row = [c.strip() for c in rows[4].split("|")[1:-1]]
    assert total_row[5] == "0/2 (0%)" and total_row[6] == "1/1 (100%)"
    assert "seed=7" in text and "split=test" in text  # the held-out rule: what the run was made from


def test_settings_line_names_the_ocr_settings_chosen_for_parallel_workers(report: Report) -> None:
    # In this process nothing is overridden; the line still says how the run was warmed up.
    assert render_tables(report).splitlines()[-1] == "settings: one untimed warm-up extraction per worker"
    shown = Report([], [], 2, 1.0, False, {"GONGKAI_OCR_WORKERS": "1", "GONGKAI_OCR_THREADS": "1"})
    assert render_tables(shown).splitlines()[-1] == (
        "settings: GONGKAI_OCR_WORKERS=1; GONGKAI_OCR_THREADS=1; no warm-up"
    )


def test_parallel_run_reports_the_ocr_settings_the_user_did_not_choose(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_OCR_WORKERS", "2")
    monkeypatch.delenv("GONGKAI_OCR_THREADS", raising=False)
    rep = evaluate([corpus], kinds=["html"], workers=2, warm=False)
    assert rep.worker_settings == {"GONGKAI_OCR_THREADS": "1"}
    assert rep.to_json()["worker_env"] == {"GONGKAI_OCR_THREADS": "1"}
