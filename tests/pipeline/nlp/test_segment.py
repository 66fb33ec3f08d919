"""jieba with the domain dictionary inside spaCy's zh pipeline, and the quantity patterns."""

from __future__ import annotations

import pytest

pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")
pytest.importorskip("spacy", reason="the nlp extra (spacy) is not installed")

from gongkai.pipeline.nlp.segment import pipeline, quantities, words


def test_domain_terms_are_single_words() -> None:
    ws = words("严格落实三安全一稳定要求，规范政务新媒体，未收取信息处理费，依申请公开答复及时。")
    for term in ("三安全一稳定", "政务新媒体", "信息处理费", "依申请公开"):
        assert term in ws


def test_spacy_pipeline_segments_with_jieba_and_the_user_dictionary() -> None:
    nlp = pipeline()
    assert nlp.lang == "zh"
    assert nlp.tokenizer.segmenter == "jieba"  # type: ignore[attr-defined]
    assert "entity_ruler" in nlp.pipe_names
    doc = nlp("加强政务新媒体管理")
    assert "政务新媒体" in [t.text for t in doc]


def test_quantities_with_units() -> None:
    text = "发布信息3585条，受理申请21件，收取0元，收费1.5万元，培训160人次，行政复议2起，检查3次。"
    found = [(q.value, q.unit) for q in quantities(text)]
    assert found == [
        ("3585", "条"),
        ("21", "件"),
        ("0", "元"),
        ("1.5", "万元"),
        ("160", "人次"),
        ("2", "起"),
        ("3", "次"),
    ]
    q = quantities(text)[1]
    assert text[q.start : q.end] == "21件"


def test_numbers_without_units_are_not_quantities() -> None:
    assert quantities("2023年第711号") == []
