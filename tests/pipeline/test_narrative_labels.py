"""Section labelling rules in gongkai.pipeline.narrative: headings, 五, no headings, and the cue fallback."""

from __future__ import annotations

import pytest

from gongkai.pipeline import narrative
from gongkai.pipeline.result import ParagraphOut, SectionOut


def _section(key: str, *texts: str) -> SectionOut:
    return SectionOut(key=key, paragraphs=[ParagraphOut(text=t, confidence=0.0) for t in texts])


def test_headings_decide_overview_and_other_matters_for_every_sentence() -> None:
    sections = [
        _section("overview", "全年公开信息100条。下一步将继续加强。"),
        _section("other_matters", "未收取信息处理费。办理建议3件。"),
    ]
    narrative.label_sections(sections, [])
    (ov,) = sections[0].paragraphs
    assert ov.label == "overview" and [s.label for s in ov.sentences] == ["overview", "overview"]
    assert sections[1].paragraphs[0].label == "other_matters"
    assert ov.confidence == pytest.approx(0.9)


def test_without_a_classifier_cue_rules_label_section_five_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        narrative, "_classifier_and_note", lambda models_dir=None: (None, "classifier unavailable (test)")
    )
    sections = [_section("problems_improvements", "仍存在一些不足。下一步，我们将加强培训；二是完善制度。")]
    warnings: list[str] = []
    narrative.label_sections(sections, warnings)
    (p,) = sections[0].paragraphs
    assert [s.label for s in p.sentences] == ["problems", "improvements", "improvements"]
    assert p.label == "improvements" and p.confidence < 0.6
    assert warnings == ["classifier unavailable (test)"]


def test_report_without_headings_goes_through_the_classifier() -> None:
    pytest.importorskip("onnxruntime", reason="the nlp extra (onnxruntime) is not installed")
    pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")
    sections = [
        _section(
            "preamble",
            "本年度本局主动公开政府信息112条，通过政府网站发布。",
            "本局政府信息公开工作仍存在一些不足，公开内容不够丰富。",
            "本年度本局未收取信息处理费。",
        )
    ]
    warnings: list[str] = []
    narrative.label_sections(sections, warnings)
    labels = [p.label for p in sections[0].paragraphs]
    assert all(lab in ("overview", "problems", "improvements", "other_matters") for lab in labels)
    assert all(p.sentences and p.sentences[0].confidence > 0 for p in sections[0].paragraphs)
    assert warnings == []
