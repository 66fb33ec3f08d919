"""Facts stated in the narrative and their soft checks against table cells."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")
pytest.importorskip("spacy", reason="the nlp extra (spacy) is not installed")

from gongkai.pipeline.checks.facts import fact_checks
from gongkai.pipeline.checks.reconcile import CellState
from gongkai.pipeline.nlp.facts import extract_facts, sentence_facts


def _kinds(sentence: str) -> list[tuple[str, object, str | None]]:
    return [(f.kind, f.value, f.unit) for f in sentence_facts(sentence)]


def test_requests_reviews_and_lawsuits() -> None:
    assert _kinds("全年我局共收到政府信息公开申请31件，较上年增加7件，上年结转2件。") == [
        ("requests_received", 31, "件"),
        ("requests_carried_in", 2, "件"),
    ]
    assert _kinds("全年因政府信息公开被申请行政复议2起，被提起行政诉讼1起，均已审结。") == [
        ("review_cases", 2, "起"),
        ("lawsuit_cases", 1, "起"),
    ]


def test_statements_of_none_are_zero_facts() -> None:
    assert _kinds("共受理政府信息公开申请 3 件，均按规定予以答复，未发生行政复议及行政诉讼案件。") == [
        ("requests_received", 3, "件"),
        ("review_cases", 0, "起"),
        ("lawsuit_cases", 0, "起"),
    ]
    assert _kinds("区政府办2022年没有收取信息处理费的情况。") == [("fees_collected", 0, "元")]
    assert _kinds("本年度未收到政府信息公开申请。") == [("requests_received", 0, "件")]


def test_fees_keep_decimals_and_units() -> None:
    assert _kinds("全年收取政府信息公开信息处理费0元。") == [("fees_collected", 0, "元")]
    assert _kinds("全年收取信息处理费1.5万元。") == [("fees_collected", Decimal("1.5"), "万元")]


def test_parts_after_qizhong_are_not_totals() -> None:
    facts = _kinds("共发布信息 3585 条，其中发布概况类信息 35 条、信息公开目录类信息 1219 条。")
    assert facts == [("active_published", 3585, "条")]
    assert _kinds("共收到申请4件，其中网上申请3件，信函申请1件。") == [("requests_received", 4, "件")]


def test_proposals_each_with_their_sentence_and_page() -> None:
    text = "2022年共公开市人大代表建议2件、市政协提案3件、区人大代表建议1件、区政协提案5件，均已办结。"
    facts = extract_facts([(text, 5)])
    assert [(f.kind, f.value) for f in facts] == [
        ("npc_proposals", 2),
        ("cppcc_proposals", 3),
        ("npc_proposals", 1),
        ("cppcc_proposals", 5),
    ]
    assert all(f.page == 5 and "人大代表建议" in f.text for f in facts)


def _cells(**values: int) -> dict[str, CellState]:
    return {k.replace("__", "."): CellState(k.replace("__", "."), v, None) for k, v in values.items()}


def test_checks_pass_when_text_and_table_agree() -> None:
    facts = sentence_facts("共受理政府信息公开申请3件，未发生行政复议及行政诉讼案件。")
    cells = _cells(
        requests__new__total=3,
        appeals__review__total=0,
        appeals__suit_direct__total=0,
        appeals__suit_after_review__total=0,
    )
    by_id = {c.id: c for c in fact_checks(facts, cells)}
    assert {k: c.status for k, c in by_id.items()} == {
        "text.requests_received": "pass",
        "text.review_cases": "pass",
        "text.lawsuit_cases": "pass",
    }
    assert all(c.kind == "soft" for c in by_id.values())


def test_checks_warn_with_both_numbers_when_they_disagree() -> None:
    facts = sentence_facts("全年被申请行政复议2起，被提起行政诉讼1起。")
    cells = _cells(
        appeals__review__total=3,
        appeals__suit_direct__total=0,
        appeals__suit_after_review__total=1,
    )
    by_id = {c.id: c for c in fact_checks(facts, cells)}
    review = by_id["text.review_cases"]
    assert (review.status, review.expected, review.actual) == ("warn", 3, 2)
    assert "不一致" in review.message and review.cells == ["appeals.review.total"]
    assert by_id["text.lawsuit_cases"].status == "pass"


def test_received_may_count_new_plus_carried_in() -> None:
    facts = sentence_facts("本年度共受理政府信息公开申请12件。")
    checks = fact_checks(facts, _cells(requests__new__total=10, requests__carried_in__total=2))
    assert [(c.id, c.status, c.expected, c.actual) for c in checks] == [
        ("text.requests_received", "pass", 12, 12)
    ]
    assert "上年结转" in checks[0].message
    off = fact_checks(facts, _cells(requests__new__total=10, requests__carried_in__total=1))
    assert [(c.status, c.expected) for c in off] == [("warn", 10)]


def test_missing_cells_give_no_check_and_fee_statements_are_compared() -> None:
    facts = sentence_facts("共受理申请5件。") + extract_facts(
        [("未收取信息处理费。收取信息处理费200元。", 1)]
    )
    missing = {"requests.new.total": CellState("requests.new.total", None, None, missing=True)}
    checks = fact_checks(facts, missing)
    assert [(c.id, c.status) for c in checks] == [("text.fees_collected", "warn")]
