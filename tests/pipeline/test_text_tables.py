"""Tables printed without ruling lines are rebuilt from their text lines."""

from __future__ import annotations

import pytest

from gongkai.pipeline.datamodel import Element, ElementKind, GridCell, TableGrid, TextSource
from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.schema import load_format
from gongkai.pipeline.text_tables import recover_text_tables
from tests.pdfs import text_pdf

REQUEST_ROWS = [
    ("一、本年新收政府信息公开申请数量", [5, 0, 0, 0, 0, 0, 5]),
    ("二、上年结转政府信息公开申请数量", [1, 0, 0, 0, 0, 0, 1]),
    ("（一）予以公开", [3, 0, 0, 0, 0, 0, 3]),
    ("（二）部分公开", [2, 0, 0, 0, 0, 0, 2]),
    ("1.属于国家秘密", [0] * 7),
    ("2.其他法律行政法规禁止公开", [0] * 7),
    ("3.危及“三安全一稳定”", [0] * 7),
    ("4.保护第三方合法权益", [0] * 7),
    ("5.属于三类内部事务信息", [0] * 7),
    ("6.属于四类过程性信息", [0] * 7),
    ("7.属于行政执法案卷", [0] * 7),
    ("8.属于行政查询事项", [0] * 7),
    ("1.本机关不掌握相关政府信息", [1, 0, 0, 0, 0, 0, 1]),
    ("2.没有现成信息需要另行制作", [0] * 7),
    ("3.补正后申请内容仍不明确", [0] * 7),
    ("1.信访举报投诉类申请", [0] * 7),
    ("2.重复申请", [0] * 7),
    ("3.要求提供公开出版物", [0] * 7),
    ("4.无正当理由大量反复申请", [0] * 7),
    ("5.要求行政机关确认或重新出具已获取信息", [0] * 7),
    ("1.申请人无正当理由逾期不补正", [0] * 7),
    ("2.申请人逾期未按收费通知要求缴纳费用", [0] * 7),
    ("3.其他", [0] * 7),
    ("（七）总计", [6, 0, 0, 0, 0, 0, 6]),
    ("四、结转下年度继续办理", [0] * 7),
]


def unruled_report_pdf() -> bytes:
    lines = ["某某县人民政府2023年政府信息公开工作年度报告", "一、总体情况", "2023年，我县认真落实《条例》。"]
    lines += [
        "二、主动公开政府信息情况",
        "第二十条第（一）项",
        "信息内容 本年制发件数 本年废止件数 现行有效件数",
    ]
    lines += [
        "规章 0 0 0",
        "行政规范性文件 4 1 23",
        "第二十条第（五）项",
        "信息内容 本年处理决定数量",
        "行政许可 12",
    ]
    lines += ["三、收到和处理政府信息公开申请情况"]
    lines += [f"{label} {' '.join(map(str, nums))}" for label, nums in REQUEST_ROWS]
    lines += [
        "四、政府信息公开行政复议、行政诉讼情况",
        "行政复议 行政诉讼",
        " ".join(["1", "0", "0", "1", "2"] + ["0"] * 10),
    ]
    lines += ["五、存在的主要问题及改进情况", "一是公开质量有待提高。", "六、其他需要报告的事项", "无。"]
    return text_pdf(lines)


def test_unruled_tables_are_read_from_their_lines() -> None:
    result = extract_bytes(unruled_report_pdf(), "unruled.pdf")
    fmt = load_format("2021")
    for (label, nums), row in zip(REQUEST_ROWS, fmt.requests_rows, strict=True):
        got = [result.cells[f"requests.{row.id}.{c.id}"].value for c in fmt.requests_columns]
        assert got == nums, (label, got)
    assert result.cells["active.normative_docs.in_force"].value == 23
    assert result.cells["active.licensing.decisions"].value == 12
    assert [
        result.cells[f"appeals.review.{f}"].value
        for f in ("upheld", "corrected", "other", "pending", "total")
    ] == [
        1,
        0,
        0,
        1,
        2,
    ]
    assert [c.id for c in result.checks if c.status == "fail"] == []
    # Column order came from the template, not from a header: the result says so.
    assert any("by position" in w or "template order" in w for w in result.warnings)
    # Lower confidence than a labelled, ruled table.
    assert result.cells["requests.new.total"].confidence < 0.8


# --------------------------------------------------------------------------- hand-made elements

SECTION_HEADINGS = {
    "overview": "一、总体情况",
    "active": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "appeals": "四、政府信息公开行政复议、行政诉讼情况",
    "problems_improvements": "五、存在的主要问题及改进情况",
}


def heading(key: str, page: int = 1) -> Element:
    return Element(
        ElementKind.HEADING, SECTION_HEADINGS[key], page, None, TextSource.TEXT_LAYER, key, pages=[page]
    )


def para(text: str, page: int = 1) -> Element:
    bbox = (72.0, 100.0, 523.0, 110.5)
    return Element(ElementKind.PARAGRAPH, text, page, bbox, TextSource.TEXT_LAYER, pages=[page])


def ruled_table() -> Element:
    grid = TableGrid(1, 2, [GridCell(0, 0, "规章"), GridCell(0, 1, "0")], TextSource.TEXT_LAYER, page=1)
    return Element(ElementKind.TABLE, "", 1, None, TextSource.TEXT_LAYER, table=grid, pages=[1])


def kinds(elements: list[Element]) -> list[ElementKind]:
    return [e.kind for e in elements]


def test_request_rows_printed_as_lines_become_a_grid() -> None:
    elements = [
        heading("requests"),
        para("申请人情况 自然人 法人或其他组织 总计"),  # a header row: its words do not line up, dropped
        para("一、本年新收政府信息公开申请数量 5 0 0 0 0 0 5"),
        para("二、上年结转政府信息公开申请数量 1 0 0 0 0 0 1", page=2),
        para("（七）总计 6 0 0 0 0 0 6", page=2),
        heading("problems_improvements", page=2),
        para("一是公开质量有待提高。", page=2),
    ]
    out = recover_text_tables(elements)
    assert kinds(out) == [ElementKind.HEADING, ElementKind.TABLE, ElementKind.HEADING, ElementKind.PARAGRAPH]
    table = out[1].table
    assert table is not None
    assert table.text_matrix() == [
        ["一、本年新收政府信息公开申请数量", "5", "0", "0", "0", "0", "0", "5"],
        ["二、上年结转政府信息公开申请数量", "1", "0", "0", "0", "0", "0", "1"],
        ["(七)总计", "6", "0", "0", "0", "0", "0", "6"],  # width-folded
    ]
    assert (out[1].page, out[1].pages, table.pages) == (1, [1, 2], [1])
    # Cells keep where their line was, for the review UI.
    assert {(c.page, c.bbox) for c in table.cells if c.row == 2} == {(2, (72.0, 100.0, 523.0, 110.5))}


def test_active_rows_keep_their_header_words_right_aligned() -> None:
    elements = [
        heading("active"),
        para("第二十条第（一）项"),
        para("信息内容 本年制发件数 本年废止件数 现行有效件数"),
        para("规章 0 0 0"),
        para("行政规范性文件 4 1 23"),
        para("第二十条第（五）项"),
        para("信息内容 本年处理决定数量"),
        para("行政许可 12"),
    ]
    out = recover_text_tables(elements)
    assert kinds(out) == [ElementKind.HEADING, ElementKind.TABLE]
    table = out[1].table
    assert table is not None
    # Numbers and header words take the last columns; the first word spans the rest of the row.
    # Text is width-folded (full-width brackets become ASCII) as the mapper reads it.
    assert table.text_matrix() == [
        ["第二十条第(一)项"] * 4,
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", "4", "1", "23"],
        ["第二十条第(五)项"] * 4,
        ["信息内容", "信息内容", "信息内容", "本年处理决定数量"],
        ["行政许可", "行政许可", "行政许可", "12"],
    ]


def test_flattened_table_four_is_one_row_of_numbers() -> None:
    numbers = ["1", "0", "0", "1", "2"] + ["0"] * 10
    out = recover_text_tables([heading("appeals"), para("行政复议 行政诉讼"), para(" ".join(numbers))])
    assert kinds(out) == [ElementKind.HEADING, ElementKind.TABLE]
    table = out[1].table
    assert table is not None
    # The header words line up with nothing once the rules are gone: only the numbers stay.
    assert table.text_matrix() == [numbers]


@pytest.mark.parametrize(
    "elements",
    [
        # The section already has a ruled table: its lines are prose around it.
        [heading("requests"), ruled_table(), para("（七）总计 6 0 0 0 0 0 6")],
        # Not a table section.
        [heading("overview"), para("本年新收申请 5 0 0")],
        # Header words without any number are no table.
        [heading("appeals"), para("行政复议 行政诉讼")],
        # Running prose that happens to end in numbers.
        [heading("requests"), para("本年度" + "依法依规办理政府信息公开申请，" * 9 + "数量 5 0 0")],
        # Before any heading.
        [para("一、本年新收政府信息公开申请数量 5 0 0 0 0 0 5")],
    ],
)
def test_lines_outside_unruled_table_sections_stay_paragraphs(elements: list[Element]) -> None:
    assert recover_text_tables(elements) == elements
