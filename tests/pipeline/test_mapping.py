"""Schema mapping on small hand-made grids: labels → cell ids, with the label-match factor."""

from __future__ import annotations

import dataclasses

import pytest

from gongkai.pipeline.confidence import (
    LABEL_BY_POSITION,
    LABEL_EXACT,
    LABEL_FUZZY,
    LABEL_KEY,
    LABEL_ORDINAL,
    LABEL_UNREAD_GROUP,
    LABEL_VARIANT,
)
from gongkai.pipeline.datamodel import GridCell, TableGrid, TextSource
from gongkai.pipeline.mapping import MappingResult, map_active, map_appeals, map_requests
from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.schema import load_format

FMT = load_format("2021")
LEFT, UP = "<", "^"  # this position belongs to the cell to the left / above (a merged cell)
COLUMNS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]


def grid(rows: list[list[str]], source: TextSource = TextSource.TEXT_LAYER) -> TableGrid:
    """A grid from rows of cell texts; ``LEFT``/``UP`` extend the neighbouring cell's span."""
    anchor: dict[tuple[int, int], GridCell] = {}
    cells: list[GridCell] = []
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if text == LEFT:
                cell = anchor[(r, c - 1)]
                cell.col_span = max(cell.col_span, c - cell.col + 1)
            elif text == UP:
                cell = anchor[(r - 1, c)]
                cell.row_span = max(cell.row_span, r - cell.row + 1)
            else:
                cell = GridCell(r, c, text, page=1, bbox=(10.0 * c, 10.0 * r, 10.0 * c + 9, 10.0 * r + 9))
                cells.append(cell)
            anchor[(r, c)] = cell
    return TableGrid(len(rows), max(len(row) for row in rows), cells, source, page=1)


def requests(rows: list[list[str]]) -> MappingResult:
    out = MappingResult()
    map_requests(grid([["", LEFT, *COLUMNS], *rows]), FMT, out)
    return out


def row(label: str, *values: str) -> list[str]:
    return [label, LEFT, *values]


def test_exact_label_maps_every_column_with_full_confidence() -> None:
    out = requests([row("一、本年新收政府信息公开申请数量", "3", "1", "0", "0", "0", "0", "4")])
    assert [out.readings[f"requests.new.{c.id}"].parsed.value for c in FMT.requests_columns] == [
        3,
        1,
        0,
        0,
        0,
        0,
        4,
    ]
    reading = out.readings["requests.new.natural_person"]
    assert reading.match == LABEL_EXACT
    assert (reading.raw, reading.page, reading.bbox) == ("3", 1, (20.0, 10.0, 29.0, 19.0))
    assert out.warnings == []


def test_label_inside_a_longer_printed_one_is_a_variant() -> None:
    out = requests([row("二、上年结转政府信息公开申请数量（件）", *["0"] * 7)])
    assert out.readings["requests.carried_in.total"].match == LABEL_VARIANT


def test_a_key_word_alone_is_a_shade_below_a_variant() -> None:
    # 部分公开 without the official parenthesis (区分处理的，只计这一情形…) names the row by its key.
    out = requests([row("（二）部分公开", *["0"] * 7)])
    assert out.readings["requests.partial.total"].match == LABEL_KEY


def test_a_listed_variant_printed_as_is_counts_as_exact() -> None:
    out = requests([["（三）不予公开", "2.其他法律法规禁止公开", *["0"] * 7]])
    assert out.readings["requests.denied.prohibited_by_law.total"].match == LABEL_EXACT


def test_a_typo_is_a_fuzzy_match() -> None:
    out = requests([["（三）不予公开", "1.属于国家秘蜜", *["0"] * 7]])
    assert out.readings["requests.denied.state_secret.total"].match == LABEL_FUZZY


def test_a_damaged_label_falls_back_to_its_ordinal_inside_its_group() -> None:
    out = requests(
        [
            ["（三）不予公开", "1.属于国家秘密", *["0"] * 7],
            [UP, "5.属于囗囗囗囗囗囗", *["2"] * 6, "12"],
        ]
    )
    reading = out.readings["requests.denied.internal_affairs.total"]
    assert reading.match == LABEL_ORDINAL and reading.parsed.value == 12
    assert out.readings["requests.denied.state_secret.total"].match == LABEL_EXACT


def test_an_unreadable_group_label_lowers_the_row_s_factor() -> None:
    out = requests([["异杼", "4.保护第三方合法权益", *["0"] * 7]])
    assert out.readings["requests.denied.third_party.total"].match == LABEL_EXACT * LABEL_UNREAD_GROUP


def test_full_width_digits_blanks_dashes_and_zero() -> None:
    out = requests([row("一、本年新收政府信息公开申请数量", "１２", "0", "", "—", "1", "0", "13")])
    cell = {c.id: out.readings[f"requests.new.{c.id}"].parsed for c in FMT.requests_columns}
    assert cell["natural_person"].value == 12 and not cell["natural_person"].blank
    # A printed 0 is a reported zero; an empty cell or a dash is blank, never 0.
    assert cell["commercial"].value == 0 and not cell["commercial"].blank
    assert cell["research"].value is None and cell["research"].blank
    assert cell["nonprofit"].value is None and cell["nonprofit"].blank
    assert cell["total"].value == 13


def test_columns_by_position_when_the_header_is_lost() -> None:
    # A continuation page: no header row at all, seven numeric columns in the schema's order.
    out = MappingResult()
    map_requests(grid([row("四、结转下年度继续办理", "1", "2", "0", "0", "0", "0", "3")]), FMT, out)
    reading = out.readings["requests.carried_out.commercial"]
    assert reading.parsed.value == 2 and reading.match == LABEL_EXACT * LABEL_BY_POSITION
    assert out.warnings == ["table 三: column header not found; columns mapped by position"]


def test_an_unknown_row_with_numbers_is_reported_not_guessed() -> None:
    out = requests([row("某某情况", *["1"] * 7)])
    assert out.readings == {}
    assert out.warnings == ["table 三: row label not recognised: '某某情况'"]


APPEALS_HEADER = [
    ["行政复议", *[LEFT] * 4, "行政诉讼", *[LEFT] * 9],
    [UP] * 5 + ["未经复议直接起诉", *[LEFT] * 4, "复议后起诉", *[LEFT] * 4],
    ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3,
]


def test_table_four_by_its_header_path() -> None:
    values = ["1", "2", "0", "0", "3", "0", "0", "1", "0", "1", "", "0", "0", "0", "0"]
    out = MappingResult()
    map_appeals(grid([*APPEALS_HEADER, values]), FMT, out)
    got = {cid: r.parsed.value for cid, r in out.readings.items()}
    assert got["appeals.review.upheld"] == 1
    assert got["appeals.review.total"] == 3
    assert got["appeals.suit_direct.other"] == 1
    assert got["appeals.suit_after_review.upheld"] is None
    assert out.readings["appeals.suit_after_review.upheld"].parsed.blank
    assert len(out.readings) == 15
    assert {r.match for r in out.readings.values()} == {LABEL_EXACT}


def test_table_four_in_template_order_when_the_header_is_not_recognised() -> None:
    out = MappingResult()
    map_appeals(grid([["甲"] * 15, [str(i) for i in range(15)]]), FMT, out)
    assert out.readings["appeals.review.upheld"].parsed.value == 0
    assert out.readings["appeals.suit_after_review.total"].parsed.value == 14
    assert out.readings["appeals.suit_direct.upheld"].match == LABEL_BY_POSITION


def test_table_two_blocks_with_and_without_their_header_row() -> None:
    block_one = grid(
        [
            ["第二十条第（一）项", LEFT, LEFT, LEFT],
            ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", "0", "0", "0"],
            ["行政规范性文件", "4", "1", "23"],
        ]
    )
    # 第二十条第（六）项 continued on the next page without its header row: columns in block order.
    block_six = grid([["第二十条第（六）项", LEFT], ["行政处罚", "１５"], ["行政强制", "—"]])
    out = MappingResult()
    map_active([block_one, block_six], FMT, out)
    assert out.readings["active.normative_docs.in_force"].parsed.value == 23
    assert out.readings["active.regulations.issued"].parsed.value == 0
    assert out.readings["active.punishment.decisions"].parsed.value == 15
    assert out.readings["active.coercion.decisions"].parsed.blank
    assert out.readings["active.normative_docs.issued"].match == LABEL_EXACT


def test_a_reading_printed_twice_keeps_the_first() -> None:
    out = requests(
        [
            row("一、本年新收政府信息公开申请数量", *["1"] * 6, "6"),
            row("一、本年新收政府信息公开申请数量", *["2"] * 6, "12"),
        ]
    )
    assert out.readings["requests.new.total"].parsed.value == 6


def test_with_readings_returns_a_new_result_and_leaves_this_one() -> None:
    out = requests([row("一、本年新收政府信息公开申请数量", *["1"] * 6, "6")])
    out.extra["requests.other.total.total"] = dataclasses.replace(
        out.readings["requests.new.total"], cell_id="requests.other.total.total"
    )
    old = out.readings["requests.new.total"]
    new = dataclasses.replace(old, parsed=parse_number("7"), repaired_by="row_total:new")
    extra_new = dataclasses.replace(out.extra["requests.other.total.total"], raw="9")
    replaced = out.with_readings({"requests.new.total": new, "requests.other.total.total": extra_new})
    assert replaced.readings["requests.new.total"] is new
    assert replaced.extra["requests.other.total.total"] is extra_new
    assert replaced.readings["requests.new.natural_person"] is out.readings["requests.new.natural_person"]
    assert out.readings["requests.new.total"] is old and old.parsed.value == 6
    assert out.extra["requests.other.total.total"].raw == "6"
    assert replaced.warnings == out.warnings and replaced.warnings is not out.warnings


@pytest.mark.parametrize("source", [TextSource.OCR, TextSource.HTML])
def test_readings_keep_their_source_and_reader_confidence(source: TextSource) -> None:
    table = grid([["", LEFT, *COLUMNS], row("一、本年新收政府信息公开申请数量", *["1"] * 6, "6")], source)
    table.cells[-1].confidence = 0.61
    table.cells[-1].candidates = [("6", 0.61), ("8", 0.3)]
    out = MappingResult()
    map_requests(table, FMT, out)
    total = out.readings["requests.new.total"]
    assert total.source == source and total.ocr_confidence == 0.61
    assert total.candidates == [("6", 0.61), ("8", 0.3)]
    assert out.readings["requests.new.natural_person"].ocr_confidence == 1.0
