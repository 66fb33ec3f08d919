from __future__ import annotations

import pytest

from gongkai.pipeline.schema import format_for_year, load_format


def test_2021_has_the_200_statutory_cells() -> None:
    fmt = load_format("2021")
    ids = fmt.cell_ids()
    assert len(ids) == 200
    assert sum(i.startswith("active.") for i in ids) == 10
    assert sum(i.startswith("requests.") for i in ids) == 175
    assert sum(i.startswith("appeals.") for i in ids) == 15
    for cid in (
        "requests.new.natural_person",
        "requests.denied.state_secret.total",
        "requests.other.no_fee.nonprofit",
        "appeals.suit_after_review.pending",
        "active.fees.amount",
    ):
        assert cid in fmt.cells
    assert fmt.cells["active.fees.amount"].type == "decimal"


def test_2019_has_one_other_row_and_its_own_table_two() -> None:
    fmt = load_format("2019")
    assert "requests.other.total.total" in fmt.cells
    assert "requests.other.no_fee.total" not in fmt.cells
    assert "active2019.procurement.amount" in fmt.cells
    assert len([r for r in fmt.requests_rows]) == 23


def test_identities_expand_per_row_column_and_group() -> None:
    fmt = load_format("2021")
    by_id = {i.id: i for i in fmt.identities}
    assert len([i for i in fmt.identities if i.family == "row_total"]) == 25
    assert len([i for i in fmt.identities if i.family == "results_total"]) == 7
    assert len([i for i in fmt.identities if i.family == "balance"]) == 7
    bal = by_id["balance:natural_person"]
    assert bal.lhs == ("requests.new.natural_person", "requests.carried_in.natural_person")
    assert bal.rhs == ("requests.results_total.natural_person", "requests.carried_out.natural_person")
    assert len(by_id["results_total:total"].rhs) == 21
    assert (
        len(load_format("2019").identities)
        and len({i.id: i for i in load_format("2019").identities}["results_total:total"].rhs) == 19
    )
    assert by_id["appeals_total:review"].rhs == (
        "appeals.review.upheld",
        "appeals.review.corrected",
        "appeals.review.other",
        "appeals.review.pending",
    )


@pytest.mark.parametrize(
    ("year", "fmt"),
    [(2008, "legacy"), (2018, "legacy"), (2019, "2019"), (2020, "2019"), (2021, "2021"), (2025, "2021")],
)
def test_format_by_year(year: int, fmt: str) -> None:
    assert format_for_year(year) == fmt


def test_unknown_format_is_refused() -> None:
    with pytest.raises(KeyError):
        load_format("1999")  # type: ignore[arg-type]
