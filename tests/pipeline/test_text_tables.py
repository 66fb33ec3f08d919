"""Tables printed without ruling lines are rebuilt from their text lines."""

from __future__ import annotations

from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.schema import load_format
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
