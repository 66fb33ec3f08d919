"""Repair by reconciliation on constructed OCR readings (no OCR needed)."""

from __future__ import annotations

import copy
import math
import random

import pytest

from gongkai.devtools.corpora.synthetic import render_html
from gongkai.devtools.corpora.synthetic.generate import table_values
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec
from gongkai.pipeline.checks.reconcile import reconcile
from gongkai.pipeline.confidence import LABEL_EXACT, repaired_confidence
from gongkai.pipeline.datamodel import TextSource
from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.repair import repair
from gongkai.pipeline.result import CONTRACT_VERSION
from gongkai.pipeline.schema import load_format

FMT = load_format("2021")


def _reading(cid: str, text: str, candidates: list[tuple[str, float]] | None = None) -> CellReading:
    cands = candidates if candidates is not None else [(text, 0.99)]
    return CellReading(
        cell_id=cid,
        raw=text,
        parsed=parse_number(text, kind="int"),
        page=1,
        bbox=None,
        source=TextSource.OCR,
        match=LABEL_EXACT,
        ocr_confidence=cands[0][1] if cands else 1.0,
        candidates=cands,
    )


def _mapping(
    changed: dict[str, tuple[str, list[tuple[str, float]] | None]],
) -> tuple[MappingResult, dict[str, int]]:
    """A consistent table (every identity holds), read with certainty except the cells given."""
    values = {
        k: int(v) for k, v in table_values(random.Random(4), FMT).items() if "." in k and "fee" not in k
    }
    m = MappingResult()
    for cid in FMT.cells:
        text = str(values.get(cid, 0))
        if cid in changed:
            text, cands = changed[cid]
            m.readings[cid] = _reading(cid, text, cands if cands is not None else [(text, 0.999)])
        else:
            m.readings[cid] = _reading(cid, text, [(text, 0.999)])
    return m, values


def test_one_misread_digit_is_repaired_and_recorded() -> None:
    _, values = _mapping({})
    cid = next(
        c for c, v in values.items() if c.startswith("requests.new.") and 1 <= v <= 9 and "total" not in c
    )
    true = str(values[cid])
    wrong = str(values[cid] + 5)
    mapping, _ = _mapping({cid: (wrong, [(wrong, 0.62), (true, 0.35), ("0", 0.02)])})
    rec = reconcile(FMT, mapping)
    assert any(c.status == "fail" for c in rec.checks)
    outcome = repair(FMT, mapping, rec)
    assert [(r.cell_id, r.old, r.new) for r in outcome.repairs] == [(cid, wrong, true)]
    fixed = outcome.readings[cid]
    assert fixed.raw == wrong and fixed.parsed.value == values[cid]
    assert fixed.repaired_by is not None
    after = reconcile(FMT, mapping.with_readings(outcome.readings))
    assert not [c.id for c in after.checks if c.status == "fail"]


def test_two_equally_good_repairs_are_not_applied_but_flagged() -> None:
    # Table 四's review block: total = upheld + corrected + other + pending, and upheld and
    # corrected take part in no other identity. The total reads one too high; both items have a
    # candidate one higher with the same odds, so two single-cell repairs fit equally well.
    _, values = _mapping({})
    up, cor = "appeals.review.upheld", "appeals.review.corrected"
    vu, vc = values[up], values[cor]
    mapping, _ = _mapping(
        {
            up: (str(vu), [(str(vu), 0.6), (str(vu + 1), 0.4)]),
            cor: (str(vc), [(str(vc), 0.6), (str(vc + 1), 0.4)]),
            "appeals.review.total": (str(values["appeals.review.total"] + 1), None),
        }
    )
    rec = reconcile(FMT, mapping)
    assert any(c.status == "fail" for c in rec.checks)
    outcome = repair(FMT, mapping, rec)
    assert outcome.repairs == []
    assert mapping.readings[up].parsed.value == vu and mapping.readings[cor].parsed.value == vc
    assert any("fit about equally" in w for w in outcome.warnings)
    assert up in outcome.review_cells and cor in outcome.review_cells


def test_no_candidate_fits_leaves_cells_and_names_them() -> None:
    _, values = _mapping({})
    total = "requests.new.total"
    bad = str(values[total] + 7)
    mapping, _ = _mapping({total: (bad, [(bad, 0.9), (str(values[total] + 6), 0.1)])})
    outcome = repair(FMT, mapping, reconcile(FMT, mapping))
    assert outcome.repairs == []
    assert any("no OCR candidate" in w for w in outcome.warnings)
    assert total in outcome.review_cells


def test_text_layer_readings_are_never_changed() -> None:
    _, values = _mapping({})
    total = "requests.new.total"
    mapping, _ = _mapping({total: (str(values[total] + 1), [])})
    outcome = repair(FMT, mapping, reconcile(FMT, mapping))
    assert outcome.repairs == []
    assert mapping.readings[total].parsed.value == values[total] + 1


def test_a_confident_reading_that_breaks_a_sum_is_the_report_s_own_error() -> None:
    """Reports do print sums that do not add up. A unique repair that the recogniser finds
    implausible (0.05% as likely as what it read) is not applied; the failing check stays."""
    _, values = _mapping({})
    cid = next(
        c for c, v in values.items() if c.startswith("requests.new.") and 1 <= v <= 9 and "total" not in c
    )
    true = str(values[cid])
    printed = str(values[cid] + 10)
    mapping, _ = _mapping({cid: (printed, [(printed, 0.995), (true, 0.0005)])})
    rec = reconcile(FMT, mapping)
    outcome = repair(FMT, mapping, rec)
    assert outcome.repairs == []
    assert mapping.readings[cid].parsed.value == values[cid] + 10
    assert any("unlikely misreading" in w and cid in w for w in outcome.warnings)
    assert cid in outcome.review_cells


def test_repair_returns_new_readings_and_leaves_the_mapping_as_it_was() -> None:
    _, values = _mapping({})
    cid = next(
        c for c, v in values.items() if c.startswith("requests.new.") and 1 <= v <= 9 and "total" not in c
    )
    true, wrong = str(values[cid]), str(values[cid] + 5)
    mapping, _ = _mapping({cid: (wrong, [(wrong, 0.62), (true, 0.35), ("0", 0.02)])})
    before = copy.deepcopy(mapping)
    read = mapping.readings[cid]
    outcome = repair(FMT, mapping, reconcile(FMT, mapping))
    assert list(outcome.readings) == [cid]
    assert mapping == before  # nothing in the mapping changed, the read reading included
    assert mapping.readings[cid] is read and read.parsed.value == values[cid] + 5 and read.repaired_by is None
    fixed = outcome.readings[cid]
    assert fixed is not read and fixed.parsed.value == values[cid]
    assert (fixed.raw, fixed.candidates, fixed.match) == (read.raw, read.candidates, read.match)
    # The only fitting repair: margin ∞, the repair ceiling.
    assert outcome.repairs[0].margin == math.inf
    assert fixed.ocr_confidence == repaired_confidence(math.inf) == 0.9


def test_a_repair_chosen_over_a_runner_up_is_as_sure_as_its_margin() -> None:
    # Table 四's review total reads 1 too high; upheld (also in no other identity) has a candidate
    # one higher at 0.3, corrected one at 0.01: two single-cell repairs, 30× apart.
    _, values = _mapping({})
    up, cor, total = "appeals.review.upheld", "appeals.review.corrected", "appeals.review.total"
    vu, vc = values[up], values[cor]
    mapping, _ = _mapping(
        {
            up: (str(vu), [(str(vu), 0.6), (str(vu + 1), 0.3)]),
            cor: (str(vc), [(str(vc), 0.6), (str(vc + 1), 0.01)]),
            total: (str(values[total] + 1), None),
        }
    )
    outcome = repair(FMT, mapping, reconcile(FMT, mapping))
    assert [r.cell_id for r in outcome.repairs] == [up]
    margin = outcome.repairs[0].margin
    assert margin == pytest.approx(30.0)
    assert outcome.readings[up].ocr_confidence == repaired_confidence(margin) == 0.871
    assert outcome.readings[up].repaired_by == "appeals_total:review"
    # The repaired cell was read at 0.6 too, but it is settled; corrected is not.
    assert outcome.review == {cor: "OCR read it with probability 0.6 (below 0.8)"}


def test_low_confidence_ocr_cells_are_flagged_for_review_with_the_reason() -> None:
    _, values = _mapping({})
    cid = "requests.new.natural_person"
    text = str(values[cid])
    mapping, _ = _mapping({cid: (text, [(text, 0.55), ("0", 0.2)])})
    outcome = repair(FMT, mapping, reconcile(FMT, mapping))
    assert outcome.repairs == [] and outcome.readings == {}
    assert outcome.review_cells == [cid]
    assert outcome.review[cid] == "OCR read it with probability 0.55 (below 0.8)"
    assert any("low confidence" in w and cid in w for w in outcome.warnings)


def test_cells_of_an_unresolved_identity_carry_the_reason() -> None:
    _, values = _mapping({})
    total = "requests.new.total"
    mapping, _ = _mapping({total: (str(values[total] + 1), [])})
    rec = reconcile(FMT, mapping)
    outcome = repair(FMT, mapping, rec)
    # The two failing identities share the total: one group, its six lowest-confidence cells.
    group = {c for chk in rec.checks if chk.status == "fail" for c in chk.cells}
    assert total in group and len(outcome.review) == 6 and set(outcome.review) <= group
    assert set(outcome.review.values()) == {"balance:total、row_total:new fail as printed"}


def test_the_result_flags_the_cells_repair_could_not_resolve() -> None:
    # A born-digital report whose 行政复议 total does not add up: nothing to repair, a person looks.
    spec = blank_spec("2021", 2023, "某某县人民政府").with_cell("appeals.review.total", "3")
    result = extract_bytes(render_html(spec, RenderOptions()), "a.html")
    assert result.contract_version == CONTRACT_VERSION == "1.1"
    flagged = {cid for cid, c in result.cells.items() if c.review}
    assert flagged == {f"appeals.review.{f}" for f in ("upheld", "corrected", "other", "pending", "total")}
    cell = result.cells["appeals.review.total"]
    assert cell.review_reason == "appeals_total:review fail as printed"
    assert cell.value == 3 and cell.confidence == 0.5  # the failing identity halves it, as before
    assert result.cells["requests.new.total"].review is False
    assert result.cells["requests.new.total"].review_reason is None
