"""``gongkai evaluate``: exit codes, the printed table, the JSON, and the committed fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gongkai.cli import main
from tests.devtools.evaluation.support import committed_fixtures


def test_json_output_schema(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(corpus), "--json", str(out), "--workers", "0", "-q"]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "gongkai-eval/1"
    assert set(data) >= {"machine", "workers", "corpora", "kinds", "formats", "total", "documents", "options"}
    assert list(data["kinds"]) == ["pdf", "html", "docx"]
    assert data["corpora"][0]["manifest"] == {"seed": 7, "n": 3, "split": "test"}
    for summary in [*data["kinds"].values(), data["total"]]:
        assert {
            "cell_accuracy",
            "false_alarm_rate",
            "injected_caught_rate",
            "cer",
            "seconds_per_page",
        } <= set(summary)
        assert {"n", "macro_f1", "per_label"} <= set(summary["paragraphs"])
    assert data["total"]["cell_accuracy"] == 1.0
    doc = next(d for d in data["documents"] if d["kind"] == "html")
    assert {"document", "status", "wrong_cells", "injected", "false_alarms", "pages", "seconds"} <= set(doc)
    assert doc["injected"][0]["caught"] is True and doc["split"] == "test"
    assert isinstance(data["machine"]["cpus"], int)


def test_cli_exits_0_and_prints_the_table(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(corpus), "--workers", "1", "--kinds", "pdf,docx", "--no-warmup"]) == 0
    captured = capsys.readouterr()
    assert "| kind | docs | failed | cell accuracy |" in captured.out
    assert "| pdf | 1 | 0 | 100.0% |" in captured.out and "| docx | 1 |" in captured.out
    assert "| html |" not in captured.out
    assert "[2/2]" in captured.err  # progress


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "no such corpus folder" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no truth files" in capsys.readouterr().err
    (tmp_path / "x.truth.json").write_text("{}", encoding="utf-8")
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "not a valid truth file" in capsys.readouterr().err


# --------------------------------------------------------------------------- committed corpora


def test_committed_synthetic_fixtures_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    args = [
        "evaluate",
        str(committed_fixtures()),
        "--kinds",
        "pdf,html,docx",
        "--workers",
        "0",
        "--json",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "| **total** |" in text and "seed=" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total"]["documents"] >= 3 and set(data["kinds"]) <= {"pdf", "html", "docx"}
    assert all(d["status"] == "ok" for d in data["documents"])  # a failure would be a pipeline bug


@pytest.mark.slow  # about 30 s on 2 cores
def test_committed_scanned_fixtures_evaluate_with_ocr(tmp_path: Path) -> None:
    fixtures = committed_fixtures()
    from gongkai.pipeline.ocr import ocr_available

    if not ocr_available():
        pytest.skip("the ocr extra (ONNX Runtime and the PP-OCR models) is not installed")
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(fixtures), "--kinds", "scan_pdf,image", "--json", str(out), "-q"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    scanned = [d for d in data["documents"] if d["status"] == "ok"]
    assert scanned and all(d["ocr"] is not None and d["ocr"]["pages"] for d in scanned)
    assert data["total"]["cer"] is not None and data["total"]["ocr_pages"] >= len(scanned)
