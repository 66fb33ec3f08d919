"""The tiny corpus most evaluation tests share, and its report (built once for the folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gongkai.devtools.corpora.synthetic import render_docx, render_html, render_pdf
from gongkai.devtools.corpora.truth import InjectedError
from gongkai.devtools.evaluation import evaluate
from gongkai.devtools.evaluation.report import Report
from tests.devtools.evaluation.support import identities_of, report_spec, write_document


@pytest.fixture(scope="package")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pdf: clean; html: one injected error; docx: one cell printed blank."""
    folder = tmp_path_factory.mktemp("corpus")
    spec = report_spec()
    write_document(folder, "clean.pdf", "pdf", render_pdf, spec)
    injected = "requests.new.natural_person"
    write_document(
        folder,
        "injected.html",
        "html",
        render_html,
        spec.with_cell(injected, "6"),
        injected_errors=[InjectedError(cell=injected, printed=6, consistent=5)],
        expected_failing_checks=identities_of(injected),
    )
    write_document(folder, "blank.docx", "docx", render_docx, spec.with_cell("requests.new.commercial", ""))
    (folder / "manifest.json").write_text(json.dumps({"seed": 7, "n": 3, "split": "test"}), encoding="utf-8")
    return folder


@pytest.fixture(scope="package")
def report(corpus: Path) -> Report:
    return evaluate([corpus], workers=0)
