"""What a cold `gongkai extract` loads: a born-digital PDF needs no OCR, no spaCy, no torch, no
pandas (the speed itself is measured in benchmarks/bench_cold.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gongkai.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "synthetic" / "s2025-0000-2021-pdf.pdf"
HEAVY = ("spacy", "thinc", "torch", "pandas", "layoutparser", "onnxruntime", "cv2", "pdfminer.high_level")

PROBE = """
import json, sys
from gongkai.cli import main
code = main(["extract", sys.argv[1], "-o", sys.argv[2]])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_a_born_digital_extraction_loads_no_heavy_module(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(FIXTURE), str(out)], capture_output=True, text=True, check=True
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    loaded = [m for m in HEAVY if m in report["modules"]]
    assert loaded == [], f"a text-layer PDF loaded {loaded}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["facts"] and any(p["label"] for s in result["sections"] for p in s["paragraphs"])


def test_a_scanned_extraction_loads_only_what_ocr_needs(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime", reason="the ocr extra is not installed")
    scan = REPO / "tests" / "fixtures" / "synthetic" / "s2025-0003-2021-scan_pdf.pdf"
    out = tmp_path / "r.json"
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(scan), str(out)], capture_output=True, text=True, check=True
    )
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and "onnxruntime" in report["modules"]
    # layoutparser's Layout pulled in pandas (and pyarrow): 0.3 s of a cold scan and ~50 MB.
    unneeded = ("spacy", "thinc", "torch", "pandas", "pyarrow", "layoutparser")
    loaded = [m for m in unneeded if m in report["modules"]]
    assert loaded == [], f"a scanned PDF loaded {loaded}"
    assert json.loads(out.read_text(encoding="utf-8"))["source"]["pages"] >= 1


def test_the_cli_parses_one_command_without_importing_the_others() -> None:
    only = build_parser("extract")
    args = only.parse_args(["extract", "r.pdf", "--format", "markdown"])
    assert args.command == "extract" and args.format == "markdown"
    every = build_parser()
    assert {"extract", "evaluate", "schema"} <= set(every._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
