"""The confidence factors (README, "What `confidence` means") and how they combine."""

from __future__ import annotations

import math

import pytest

from gongkai.pipeline import confidence as cf


def test_the_documented_factors() -> None:
    # The numbers the README promises; a change here is a change of the contract's meaning.
    assert (cf.LABEL_EXACT, cf.LABEL_VARIANT, cf.LABEL_ORDINAL, cf.LABEL_FUZZY, cf.LABEL_BY_POSITION) == (
        1.0,
        0.98,
        0.9,
        0.85,
        0.7,
    )
    assert (cf.NOT_A_NUMBER, cf.FAILING_IDENTITY, cf.INFERRED_TOTAL) == (0.3, 0.5, 0.9)
    assert cf.REPAIR_CEILING == 0.9
    assert cf.MISSING == 0.0
    assert cf.REVIEW_BELOW == 0.8


def test_label_factors_rank_as_the_matches_do() -> None:
    # A key word alone is a shade below a variant, so a variant wins when both name a candidate.
    ranked = [
        cf.LABEL_EXACT,
        cf.LABEL_VARIANT,
        cf.LABEL_KEY,
        cf.LABEL_ORDINAL,
        cf.LABEL_FUZZY,
        cf.LABEL_BY_POSITION,
        cf.LABEL_OTHER_GROUP,
    ]
    assert ranked == sorted(ranked, reverse=True)
    assert len(set(ranked)) == len(ranked)
    assert round(cf.LABEL_KEY, 6) == 0.9702


def test_a_clean_text_layer_cell_is_certain() -> None:
    assert cf.cell_confidence(cf.LABEL_EXACT, cf.TEXT_LAYER_READING) == 1.0


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, 0.98),
        ({"not_a_number": True}, 0.294),
        ({"failing_identity": True}, 0.49),
        ({"inferred": True}, 0.882),
        ({"not_a_number": True, "failing_identity": True, "inferred": True}, 0.1323),
    ],
)
def test_each_check_factor_multiplies(flags: dict[str, bool], expected: float) -> None:
    assert cf.cell_confidence(cf.LABEL_VARIANT, 1.0, **flags) == expected


def test_label_times_reading_rounded_to_four_places() -> None:
    # An OCR reading at 0.8765 in a column placed by position: 0.7 × 0.8765 (0.61354999… in binary
    # floating point) → 0.6135; a failing identity halves the product before rounding.
    assert cf.cell_confidence(cf.LABEL_BY_POSITION, 0.8765) == 0.6135
    assert cf.cell_confidence(cf.LABEL_BY_POSITION, 0.8765, failing_identity=True) == 0.3068
    assert cf.cell_confidence(cf.LABEL_ORDINAL, 0.5) == 0.45


def test_confidence_never_exceeds_one() -> None:
    assert cf.cell_confidence(1.0, 1.2) == 1.0


@pytest.mark.parametrize(
    ("margin", "expected"),
    [(math.inf, 0.9), (20.0, 0.8571), (1.0, 0.45), (99.0, 0.891), (0.0, 0.0)],
)
def test_repaired_confidence_from_the_margin(margin: float, expected: float) -> None:
    # 0.9 × margin / (1 + margin); the only fitting repair (margin ∞) gets the ceiling.
    assert cf.repaired_confidence(margin) == expected


def test_repaired_confidence_grows_with_the_margin() -> None:
    values = [cf.repaired_confidence(m) for m in (20.0, 50.0, 1000.0, math.inf)]
    assert values == sorted(values) and values[-1] == cf.REPAIR_CEILING


def test_second_opinion_agreement_raises_only_part_of_the_way() -> None:
    # Geometric mean, not 1 - (1-p1)(1-p2) = 0.96 (both engines read the same blurred pixels).
    assert cf.second_opinion_agreed(0.8, 0.8) == 0.8
    assert cf.second_opinion_agreed(0.64, 0.81) == 0.72
    # Never below the first reader's own probability.
    assert cf.second_opinion_agreed(0.9, 0.1) == 0.9


def test_second_opinion_disagreement_lowers_by_the_second_readers_certainty() -> None:
    assert cf.second_opinion_disagreed(0.9, 0.5) == 0.45
    assert cf.second_opinion_disagreed(0.9, 0.0) == 0.9
    # Its reading joins the candidates, discounted by how sure the first reader was.
    assert cf.second_opinion_candidate(0.9, 0.5) == pytest.approx(0.05)
    assert cf.second_opinion_candidate(0.2, 0.5) == pytest.approx(0.4)
