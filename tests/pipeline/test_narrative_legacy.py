"""Legacy (2008–2018) reports: section headings as they print them, problems and improvements found
under them or under no heading at the end, and both labelled at sentence level in one paragraph."""

from __future__ import annotations

import pytest

pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")
pytest.importorskip("onnxruntime", reason="the nlp extra (onnxruntime) is not installed")

from gongkai.pipeline.extract import extract_bytes, extract_path
from gongkai.pipeline.layout import match_section_heading
from gongkai.pipeline.result import ExtractionResult
from tests.conftest import real_document

# A legacy report written for this test (not from a real one): 一 to 四, then problems and plans.
_BODY = [
    "某县人民政府2012年政府信息公开工作年度报告",
    "一、概述",
    "2012年，某县人民政府办公室认真贯彻《条例》，不断完善政府信息公开工作机制。",
    "二、主动公开政府信息情况",
    "2012年共主动公开政府信息320条，其中通过政府网站公开290条。",
    "三、依申请公开政府信息情况",
    "2012年共收到政府信息公开申请5件，均已按时答复。",
    "四、因政府信息公开申请行政复议、提起行政诉讼的情况",
    "2012年未发生因政府信息公开申请行政复议、提起行政诉讼的情况。",
]
_PROBLEMS = (
    "我县政府信息公开工作虽然取得了一定成效，但仍存在一些不足，部分单位公开内容不够全面，更新不够及时。"
)
_PLANS = "下一步，我们将进一步加强业务培训，完善考核机制，及时更新公开内容。"


def _html(paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>".encode()


def _labels(result: ExtractionResult, key: str) -> list[tuple[str | None, list[str]]]:
    return [
        (p.label, [str(s.label) for s in p.sentences])
        for s in result.sections
        if s.key == key
        for p in s.paragraphs
    ]


@pytest.mark.parametrize(
    "heading",
    [
        "五、存在的问题及改进措施",
        "五、工作中存在的不足和改进措施",
        "五、下一步工作打算",
        "五、存在问题及下一步工作打算",
    ],
)
def test_legacy_narrative_problem_headings(heading: str) -> None:
    assert match_section_heading(heading) == "problems_improvements"
    result = extract_bytes(_html([*_BODY, heading, _PROBLEMS, _PLANS]), "legacy.html")
    assert result.format == "legacy"
    assert _labels(result, "problems_improvements") == [
        ("problems", ["problems"]),
        ("improvements", ["improvements"]),
    ]


def test_legacy_narrative_without_a_heading_at_the_end() -> None:
    result = extract_bytes(_html([*_BODY, _PROBLEMS, _PLANS]), "legacy.html")
    pi = [s for s in result.sections if s.key == "problems_improvements"]
    assert len(pi) == 1 and pi[0].heading is None
    assert _labels(result, "problems_improvements") == [
        ("problems", ["problems"]),
        ("improvements", ["improvements"]),
    ]
    # the section they followed keeps its own paragraph
    assert _labels(result, "appeals") == [("overview", ["overview"])]


def test_legacy_narrative_mixed_paragraph_gets_both_labels() -> None:
    result = extract_bytes(_html([*_BODY, _PROBLEMS + _PLANS]), "legacy.html")
    ((label, sentences),) = _labels(result, "problems_improvements")
    assert sentences == ["problems", "improvements"] and label == "problems"


def test_legacy_narrative_no_problems_invented() -> None:
    # a report that ends on its figures gets no section 五
    result = extract_bytes(_html(_BODY), "legacy.html")
    assert not any(s.key == "problems_improvements" for s in result.sections)
    assert {p.label for s in result.sections for p in s.paragraphs} == {"overview"}


def test_legacy_narrative_pingtan_2011() -> None:
    result = extract_path(real_document("pingtan-2011.html"))
    assert [s.key for s in result.sections] == [
        "preamble", "overview", "active", "requests", "problems_improvements"
    ]  # fmt: skip
    pi = _labels(result, "problems_improvements")
    # the first paragraph of 四 names four problems, then leads into the improvements
    assert pi[0] == ("problems", ["problems"] * 5 + ["improvements"])
    assert [label for label, _ in pi[2:8]] == ["improvements"] * 6


def test_legacy_narrative_pingtan_tax_bureau_2013() -> None:
    # The tax bureau's report has no problems or plans at all (read in full): its headings 三 and 五
    # are found, and nothing is labelled problems or improvements.
    result = extract_path(real_document("pingtan-dishuiju-2013.html"))
    assert [s.key for s in result.sections] == ["preamble", "overview", "active", "requests", "appeals"]
    assert sum(len(s.paragraphs) for s in result.sections) == 42
    assert {p.label for s in result.sections for p in s.paragraphs} == {"overview"}


def test_narrative_pingtan_2023_problems_then_improvements() -> None:
    result = extract_path(real_document("pingtan-2023.html"))
    assert [label for label, _ in _labels(result, "problems_improvements")] == [
        "problems",
        "improvements",
        "improvements",
    ]
    assert _labels(result, "other_matters") == [("other_matters", ["other_matters"])]
