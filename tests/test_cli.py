from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai.cli import main
from gongkai.pipeline.result import ExtractionResult
from tests.conftest import real_document
from tests.pdfs import image_only_pdf, text_pdf


def test_extract_json_validates_against_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["extract", str(real_document("huaian-hongze-2023.pdf")), "-o", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["contract_version"] == "1.1"
    result = ExtractionResult.model_validate(data)
    assert len([c for c in result.cells.values() if c.statutory]) == 200
    assert data["cells"]["active.fees.amount"]["value"] == 7730.28  # a JSON number, not a string


def test_extract_markdown_shows_tables_and_failing_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(real_document("huaian-hongze-2023.pdf")), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "| 一、本年新收政府信息公开申请数量 | 21 |" in text
    assert "**fail** `appeals_total:review`" in text
    assert "expected 11, printed 0" in text


def test_strict_exits_1_on_failing_identities() -> None:
    assert main(["extract", str(real_document("huaian-hongze-2023.pdf")), "--strict", "-o", "/dev/null"]) == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "empty"), (b"hello world", "not a PDF, HTML or DOCX"), (b"%PDF-1.4\ngarbage", "PDF")],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    p = tmp_path / "in.pdf"
    p.write_bytes(content)
    assert main(["extract", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gongkai: ") and err.count("\n") == 1 and needle in err


def test_no_ocr_flag_refuses_a_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "scan.pdf"
    p.write_bytes(image_only_pdf())
    assert main(["extract", str(p), "--no-ocr"]) == 2
    assert "it needs OCR, which is switched off" in capsys.readouterr().err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "/nonexistent/report.pdf"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    p = tmp_path / "locked.pdf"
    p.write_bytes(text_pdf(["年度报告"], encrypt="pw"))
    proc = subprocess.run(
        [sys.executable, "-m", "gongkai.cli", "extract", str(p)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "encrypted" in proc.stderr


def test_schema_command_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "ExtractionResult"
    assert {"cells", "checks", "sections", "format", "contract_version"} <= set(schema["properties"])


def test_cells_command_lists_200_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cells", "2021"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 200 and lines[0].startswith("active.regulations.issued\t规章")
