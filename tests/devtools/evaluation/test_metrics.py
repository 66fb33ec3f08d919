"""Scoring: text metrics, paragraph labels, one document against its truth, pooled numbers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.devtools.evaluation.discovery import Item, discover
from gongkai.devtools.evaluation.metrics import (
    char_errors,
    extracted_page_text,
    levenshtein,
    levenshtein_rowwise,
    macro_f1,
    match_paragraphs,
    score,
    truth_page_texts,
)
from gongkai.devtools.evaluation.report import Report, render_tables
from gongkai.devtools.evaluation.runner import Outcome, run_one
from tests.devtools.evaluation.support import identities_of

# --------------------------------------------------------------------------- text metrics


def test_levenshtein_known_values() -> None:
    assert levenshtein("", "") == 0
    assert levenshtein("", "abc") == 3 and levenshtein("abc", "") == 3
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("政府信息公开", "政府信息公开") == 0
    assert levenshtein("政府信息公开", "政府信患公开") == 1  # one substitution
    assert levenshtein("年度报告", "年报告") == 1  # one deletion
    assert levenshtein("a" * 100, "b" * 100) == 100


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="政府信息公开年0123ab ", max_size=80),
    st.text(alphabet="政府信息公开年0123ab ", max_size=80),
)
def test_bit_parallel_levenshtein_equals_the_dynamic_programme(a: str, b: str) -> None:
    assert levenshtein(a, b) == levenshtein_rowwise(a, b) == levenshtein(b, a)


def test_levenshtein_on_page_sized_texts_matches_the_reference() -> None:
    rng = random.Random(3)
    alphabet = "政府信息公开工作年度报告本机关依法主动公开"
    a = "".join(rng.choice(alphabet) for _ in range(900))
    b = list(a)
    for _ in range(60):
        b[rng.randrange(len(b))] = rng.choice(alphabet)
    b_text = "".join(b[:400] + b[430:])  # substitutions plus a 30-character cut
    assert levenshtein(a, b_text) == levenshtein_rowwise(a, b_text)


def test_character_error_rate_ignores_whitespace() -> None:
    assert char_errors("政府 信息\n公开", "政府信息公开") == (0, 6)
    assert char_errors("政府信息公开", "政 府 信 患 公 开") == (1, 6)
    assert char_errors("", "多余") == (2, 0)


# --------------------------------------------------------------------------- paragraph labels


def test_macro_f1_exact_values() -> None:
    assert macro_f1([("overview", "overview"), ("problems", "problems")]) == 1.0
    # overview: tp 1, fn 1 → F1 2/3; problems: fp 1 → 0; improvements: tp 1 → 1
    pairs = [("overview", "overview"), ("overview", "problems"), ("improvements", "improvements")]
    assert macro_f1(pairs) == pytest.approx((2 / 3 + 0 + 1) / 3)
    # a missed paragraph (no prediction) is a false negative only
    assert macro_f1([("other_matters", None), ("other_matters", "other_matters")]) == pytest.approx(2 / 3)
    # text without a truth label that gets one is a false positive of that label
    assert macro_f1([(None, "overview"), ("overview", "overview")]) == pytest.approx(2 / 3)
    assert macro_f1([]) is None


def test_paragraphs_match_by_similarity_one_to_one() -> None:
    truth = ["第一段关于政务公开的文字内容。", "第二段说明存在的问题和不足之处。", "第三段。"]
    extracted = [
        "第二段说明存在的问题和不足之处",
        "第 一 段关于政务公开的文字内容。",
        "毫不相干的页眉文字内容",
    ]
    assert match_paragraphs(truth, extracted) == {0: 1, 1: 0}


# --------------------------------------------------------------------------- the harness on a tiny corpus


def test_tiny_corpus_exact_metrics(report: Report) -> None:
    assert set(report.by_kind) == {"pdf", "html", "docx"}
    total = report.total
    assert (total.documents, total.failed, total.skipped) == (3, 0, 0)
    assert (total.cells_scored, total.cells_right) == (600, 600)
    assert total.all_right == 3
    assert (total.consistent, total.false_alarm_docs) == (2, 0)
    assert (total.injected, total.injected_caught) == (1, 1)
    assert total.silent_errors == 0
    assert total.format_right == 3 and total.year_right == 3
    assert total.ocr_pages == 0 and total.cer is None  # no OCR page in born-digital documents
    assert total.paragraphs.n == 15  # five labelled paragraphs per document
    f1 = total.paragraphs.macro_f1()
    assert f1 is not None and f1 >= 0.75
    injected = next(d for d in report.documents if d.kind == "html")
    assert injected.injected[0].caught
    assert set(injected.injected[0].caught_by) == set(identities_of("requests.new.natural_person"))
    assert injected.false_alarms == [] and injected.expected_not_failing == []
    blank = next(d for d in report.documents if d.kind == "docx")
    assert blank.wrong_cells == [] and blank.all_cells_right
    pdf = report.by_kind["pdf"]
    assert pdf.pages >= 3 and pdf.seconds > 0 and pdf.peak_rss_mb is not None and pdf.peak_rss_mb > 10


def test_wrong_cells_and_silent_errors_are_reported(corpus: Path) -> None:
    # The truth says 9 where the document prints 5: the extraction is "wrong", and nothing flags it.
    items, _ = discover([corpus])
    item = next(i for i in items if i.truth.kind == "pdf")
    cells = dict(item.truth.cells)
    cells["requests.granted.natural_person"] = 9
    item.truth = item.truth.model_copy(update={"cells": cells})
    ds = score(item, run_one(str(item.document)))
    assert ds.cells_right == 199
    [wc] = ds.wrong_cells
    assert (wc.cell, wc.truth, wc.extracted, wc.silent) == ("requests.granted.natural_person", 9, 3, True)
    assert ds.silent_errors == 1 and not ds.all_cells_right and wc.kind == "misread"
    assert "wrong cells: 1 = 0 missing" in render_tables(Report([ds], [], 0, 1.0))


def test_ocr_pages_get_a_character_error_rate(corpus: Path) -> None:
    items, _ = discover([corpus])
    item = next(i for i in items if i.truth.kind == "pdf")
    out = run_one(str(item.document))
    assert out.result is not None
    # Pretend page 1 came from OCR; the truth page has one character changed, a page number and a
    # running header (repeated on page 2), which the pipeline drops by design and are not errors.
    out.result.pages[0].text_source = "ocr"
    page1 = extracted_page_text(out.result, 1)
    assert out.result.metadata.title and page1.startswith(out.result.metadata.title)
    header = "某某区政务公开年报"
    truth1 = f"{header}\n{page1.replace('政', '攻', 1)}\n- 1 -"
    item.truth = item.truth.model_copy(update={"page_texts": [truth1, f"{header}\n表格\n2"]})
    ds = score(item, out)
    chars = len("".join(page1.split()))
    assert ds.ocr is not None and (ds.ocr.pages, ds.ocr.edits, ds.ocr.truth_chars) == ([1], 1, chars)


def test_truth_page_texts_drop_page_numbers_and_running_lines() -> None:
    pages = ["年报标题\n正文一\n第 1 页", "某局年报\n正文二\n- 2 -", "某局年报\n正文三\n3"]
    assert truth_page_texts(pages) == ["年报标题\n正文一", "正文二", "正文三"]


def test_outcome_of_a_failed_run_is_scored_without_a_result(corpus: Path) -> None:
    items, _ = discover([corpus])
    item: Item = next(i for i in items if i.truth.injected_errors)
    ds = score(item, Outcome(None, "boom", "RuntimeError", None, 0.1, None))
    assert ds.status == "failed" and ds.injected[0].caught is False and ds.paragraphs.n == 5
