from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongkai.pipeline.labels import normalize_label
from gongkai.pipeline.numbers import looks_numeric, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("１２", 12),
        ("1,234", 1234),
        (" 7 ", 7),
        ("０", 0),
        ("22（其中修订16件）", 22),
        ("55(含自然失效29件)", 55),
    ],
)
def test_integers(text: str, value: int) -> None:
    assert parse_number(text).value == value


@pytest.mark.parametrize("text", ["", " ", "—", "-", "/", "／", "——", "无"])
def test_blank_marks_are_blank_not_zero(text: str) -> None:
    p = parse_number(text)
    assert p.value is None and p.blank


def test_notes_and_units_are_kept() -> None:
    assert parse_number("22（其中修订16件）").note == "其中修订16件"
    assert parse_number("251000元", kind="decimal").unit == "元"


def test_decimals_for_wanyuan() -> None:
    assert parse_number("7730.28", kind="decimal").value == Decimal("7730.28")
    assert parse_number("０.５", kind="decimal").value == Decimal("0.5")
    # A fraction where a count belongs is an error, not a silent rounding.
    assert parse_number("3.5").value is None and parse_number("3.5").error


def test_signed_changes() -> None:
    assert parse_number("增2", kind="signed").value == 2
    assert parse_number("减少1", kind="signed").value == -1
    assert parse_number("持平", kind="signed").value == 0
    assert parse_number("-3").error  # a negative count


def test_garbage_is_an_error() -> None:
    p = parse_number("三")
    assert p.value is None and not p.blank and p.error


@pytest.mark.parametrize("text", ["20-10", "3 -0", "1５-2", "7+1"])
def test_two_numbers_in_one_cell_are_an_error_not_one_number(text: str) -> None:
    # A lost rule or a merged cell puts two values in one cell; reading 20 or 2010 would be silent.
    parsed = parse_number(text, kind="signed")
    assert parsed.value is None and parsed.error and "two numbers" in parsed.error


def test_a_number_wrapped_in_a_narrow_cell_is_one_number() -> None:
    # Word wraps long numbers in narrow columns; the text layer then has them on two lines.
    assert parse_number("1283\n31").value == 128331


@given(st.integers(min_value=0, max_value=10**7))
def test_every_count_round_trips_in_both_widths(n: int) -> None:
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse_number(str(n)).value == n
    assert parse_number(full).value == n
    assert parse_number(f"{n:,}").value == n
    assert looks_numeric(str(n))


def test_label_normalisation_folds_what_reports_vary() -> None:
    assert normalize_label("（二）部分公开（区分处理的，只计这一情 形，不\n计其他情形）") == normalize_label(
        "(二)部分公开(区分处理的,只计这一情形,不计其他情形)"
    )
    assert (
        normalize_label("3.危及“三安全一稳定”") == normalize_label('危及"三安全一稳定"') == "危及三安全一稳定"
    )
    assert normalize_label("總 計") == "总计"
    assert normalize_label("四、结转下年度继续办理") == "结转下年度继续办理"
    assert normalize_label("商 业 企\n业") == "商业企业"
