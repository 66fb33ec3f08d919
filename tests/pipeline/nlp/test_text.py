"""Sentence splitting and classifier context (pure Python: no optional dependencies)."""

from __future__ import annotations

from gongkai.pipeline.nlp.text import majority_label, section_contexts, split_sentences


def test_enumerations_split_at_semicolons_and_colons() -> None:
    text = (
        "但仍存在一些不足。一是各单位主动公开意识还不够强，业务水平不均衡；二是答复规范性需要进一步提高。"
        "下一步，将切实抓好以下工作：一是扎实推进依申请公开工作。"
    )
    assert split_sentences(text) == [
        "但仍存在一些不足。",
        "一是各单位主动公开意识还不够强，业务水平不均衡；",
        "二是答复规范性需要进一步提高。",
        "下一步，将切实抓好以下工作：",
        "一是扎实推进依申请公开工作。",
    ]


def test_semicolon_without_enumeration_does_not_split() -> None:
    assert split_sentences("公开栏更新慢；工作人员兼职多。") == ["公开栏更新慢；工作人员兼职多。"]


def test_numbered_items_and_bracketed_ordinals_split() -> None:
    parts = split_sentences("主要是：1、及时性有待加强；2、内容不够丰富。（一）强化责任；（二）规范流程。")
    assert parts == [
        "主要是：",
        "1、及时性有待加强；",
        "2、内容不够丰富。",
        "（一）强化责任；",
        "（二）规范流程。",
    ]


def test_quotes_and_book_titles_are_never_split() -> None:
    text = "按照“谁起草、谁提出。谁审查、谁办理”的原则；依据《条例；规范》执行。"
    assert split_sentences(text) == [text]


def test_closing_quote_stays_with_its_sentence_and_pieces_rejoin() -> None:
    text = "他说：“好。”随后离开。 二是继续？"
    parts = split_sentences(text)
    assert parts[0] == "他说：“好。”"
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")


def test_decimal_points_and_empty_input() -> None:
    assert split_sentences("收费1.5万元。") == ["收费1.5万元。"]
    assert split_sentences("   ") == []


def test_forward_cue_carries_over_within_a_section() -> None:
    ctx = section_contexts(
        [["存在不足。", "下一步，我们将：", "一是加强培训。"], ["二是完善制度。"]], "problems_improvements"
    )
    assert [c.after_forward_cue for c in ctx[0]] == [False, False, True]
    assert ctx[1][0].after_forward_cue
    assert ctx[0][0].tags()[:3] == ["[SEC_PI]", "[PAR_FIRST]", "[SENT_FIRST]"]
    assert ctx[1][0].paragraph_tag == "[PAR_LAST]"
    assert section_contexts([["x。"]], None)[0][0].section_tag == "[SEC_NONE]"


def test_paragraph_label_is_the_label_of_most_characters() -> None:
    assert majority_label(["problems", "improvements", "improvements"], [40, 30, 30]) == "improvements"
    assert majority_label(["problems", "improvements"], [10, 10]) == "problems"  # tie: first
