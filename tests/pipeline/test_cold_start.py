"""What a cold `gongkai extract` loads: a born-digital PDF needs no OCR, no spaCy, no torch, no
pandas (the speed itself is measured in benchmarks/bench_cold.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_the_cli_parses_one_command_without_importing_the_others() -> None:
    only = build_parser("extract")
    args = only.parse_args(["extract", "r.pdf", "--format", "markdown"])
    assert args.command == "extract" and args.format == "markdown"
    every = build_parser()
    assert {"extract", "evaluate", "schema"} <= set(every._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
