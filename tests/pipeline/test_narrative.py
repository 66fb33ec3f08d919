"""Narrative labels, facts, metadata and fact soft checks on the real reports, end to end."""

from __future__ import annotations

import pytest

pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")
pytest.importorskip("spacy", reason="the nlp extra (spacy) is not installed")
pytest.importorskip("onnxruntime", reason="the nlp extra (onnxruntime) is not installed")

from gongkai.devtools.corpora.real.haizhou import haizhou_spec_and_options
from gongkai.devtools.corpora.synthetic import render_pdf
from gongkai.pipeline.extract import extract_bytes, extract_path
from gongkai.pipeline.result import ExtractionResult
from tests.conftest import real_document


def _facts(result: ExtractionResult) -> list[tuple[str, object]]:
    return [(f.kind, f.value) for f in result.facts]


def _text_checks(result: ExtractionResult) -> dict[str, str]:
    return {c.id: c.status for c in result.checks if c.id.startswith("text.")}


@pytest.fixture(scope="module")
def hongze() -> ExtractionResult:
    return extract_path(real_document("huaian-hongze-2023.pdf"))


@pytest.fixture(scope="module")
def haizhou_pdf() -> bytes:
    spec, options = haizhou_spec_and_options(real_document("haizhou-2022.txt"))
    return render_pdf(spec, options)


def test_hongze_labels_sections_and_sentences(hongze: ExtractionResult) -> None:
    by_key = {s.key: s for s in hongze.sections}
    assert {p.label for p in by_key["overview"].paragraphs} == {"overview"}
    assert [p.label for p in by_key["other_matters"].paragraphs] == ["other_matters"]
    (mixed,) = by_key["problems_improvements"].paragraphs
    # One paragraph of 五 that admits problems, then lists improvements after 下一步.
    labels = [s.label for s in mixed.sentences]
    assert labels[0] == "problems" and labels[-1] == "improvements"
    assert labels.index("improvements") >= 2
    assert mixed.label == "improvements"
    assert "".join(s.text for s in mixed.sentences) == mixed.text
    assert not any("classifier unavailable" in w for w in hongze.warnings)


def test_hongze_facts_and_checks(hongze: ExtractionResult) -> None:
    facts = _facts(hongze)
    assert ("requests_received", 21) in facts
    assert ("active_published", 1136) in facts
    assert ("fees_collected", 0) in facts
    received = next(f for f in hongze.facts if f.kind == "requests_received")
    assert "受理政府信息公开申请21件" in received.text and received.page == 1
    assert hongze.cells["requests.new.total"].value == 21
    assert _text_checks(hongze) == {"text.requests_received": "pass", "text.fees_collected": "pass"}


def test_hongze_metadata(hongze: ExtractionResult) -> None:
    md = hongze.metadata
    assert (md.agency, md.region, md.year) == ("洪泽区人民政府", "淮安市洪泽区", 2023)
    assert md.title == "洪泽区人民政府2023年政府信息公开工作年度报告"


def test_haizhou_facts_and_checks_pass(haizhou_pdf: bytes) -> None:
    result = extract_bytes(haizhou_pdf, "haizhou.pdf")
    facts = _facts(result)
    for fact in [
        ("requests_received", 3),
        ("review_cases", 0),
        ("lawsuit_cases", 0),
        ("fees_collected", 0),
        ("npc_proposals", 2),
        ("cppcc_proposals", 5),
        ("active_published", 3585),
    ]:
        assert fact in facts
    assert _text_checks(result) == {
        "text.requests_received": "pass",
        "text.review_cases": "pass",
        "text.lawsuit_cases": "pass",
        "text.fees_collected": "pass",
    }
    assert result.metadata.region == "海州区" and result.metadata.year == 2022
    pi = next(s for s in result.sections if s.key == "problems_improvements")
    assert [p.label for p in pi.paragraphs] == ["problems", "improvements"]


def test_text_and_table_disagree(haizhou_pdf: bytes) -> None:
    spec, options = haizhou_spec_and_options(real_document("haizhou-2022.txt"))
    # The table now says 5 new applications (natural persons and total); the text still says 3.
    changed = spec.with_cell("requests.new.total", "5").with_cell("requests.new.natural_person", "5")
    result = extract_bytes(render_pdf(changed, options), "haizhou-changed.pdf")
    check = next(c for c in result.checks if c.id == "text.requests_received")
    assert (check.kind, check.status, check.expected, check.actual) == ("soft", "warn", 5, 3)
    assert check.cells == ["requests.new.total"]
    # A review case in the table against 未发生行政复议 in the text.
    reviewed = spec.with_cell("appeals.review.total", "1").with_cell("appeals.review.upheld", "1")
    result = extract_bytes(render_pdf(reviewed, options), "haizhou-review.pdf")
    check = next(c for c in result.checks if c.id == "text.review_cases")
    assert (check.status, check.expected, check.actual) == ("warn", 1, 0)
