"""Legacy (2008–2018) reports: format detection and the 指标 / 单位 / 统计数 table as key/value cells."""

from __future__ import annotations

from gongkai.pipeline.extract import extract_bytes

ROWS = [
    ("一、主动公开情况", "", ""),
    ("（一）主动公开政府信息数", "条", "1520"),
    ("其中：主动公开规范性文件数", "条", "12"),
    ("三、依申请公开情况", "", ""),
    ("（一）收到申请数", "件", "{received}"),
    ("1.当面申请数", "件", "10"),
    ("2.传真申请数", "件", "0"),
    ("3.网络申请数", "件", "25"),
    ("4.信函申请数", "件", "3"),
    ("四、行政复议数量", "件", "2"),
    ("七、依申请公开信息收取的费用", "万元", "0.05"),
]


def legacy_html(received: str = "38") -> bytes:
    body = "".join(
        f"<tr><td>{label}</td><td>{unit}</td><td>{value.format(received=received)}</td></tr>"
        for label, unit, value in ROWS
    )
    return f"""<html><head><meta charset="utf-8"><title>年报</title></head><body>
<div class="article">
<h1>某某市人民政府2016年政府信息公开工作年度报告</h1>
<p>本报告根据《中华人民共和国政府信息公开条例》要求编制。</p>
<p>一、概述</p><p>2016年，我市认真贯彻落实《条例》。</p>
<p>二、主动公开政府信息情况</p><p>全年主动公开政府信息1520条。</p>
<p>三、依申请公开政府信息情况</p><p>全年共收到申请38件。</p>
<p>四、政府信息公开的收费及减免情况</p><p>收取检索费0.05万元。</p>
<p>五、因政府信息公开申请行政复议、提起行政诉讼的情况</p><p>发生行政复议2件。</p>
<p>六、政府信息公开工作存在的主要问题及改进情况</p><p>主动公开的深度有待加强。</p>
<p>七、其他需要报告的事项</p><p>无。</p>
<p>附表：政府信息公开情况统计表</p>
<table border="1"><tr><td>统计指标</td><td>单位</td><td>统计数</td></tr>{body}</table>
</div></body></html>""".encode()


def test_legacy_report_is_detected_and_its_indicators_extracted() -> None:
    result = extract_bytes(legacy_html(), "legacy.html")
    assert result.format == "legacy"
    assert result.metadata.year == 2016
    assert result.cells["legacy.（一）收到申请数"].value == 38
    assert result.cells["legacy.其中：主动公开规范性文件数"].value == 12
    assert str(result.cells["legacy.七、依申请公开信息收取的费用"].value) == "0.05"
    assert "legacy.一、主动公开情况" not in result.cells  # a heading row carries no value
    received = next(c for c in result.checks if c.id == "legacy_sum:（一）收到申请数")
    assert received.status == "pass" and received.expected == 38
    keys = [s.key for s in result.sections]
    assert {
        "overview",
        "active",
        "requests",
        "fees",
        "appeals",
        "problems_improvements",
        "other_matters",
    } <= set(keys)


def test_a_legacy_total_that_does_not_add_up_is_a_warning() -> None:
    result = extract_bytes(legacy_html(received="40"), "legacy.html")
    received = next(c for c in result.checks if c.id == "legacy_sum:（一）收到申请数")
    assert received.status == "warn"
    assert (received.expected, received.actual) == (38, 40)
    assert not any(c.status == "fail" for c in result.checks)  # legacy sums are soft


def test_an_ordinal_mark_lost_by_ocr_is_restored_from_the_sequence() -> None:
    from gongkai.pipeline.legacy import restore_ordinal_mark

    assert restore_ordinal_mark("六申诉案件数", 5) == "六、申诉案件数"
    assert restore_ordinal_mark("六，申诉案件数", 5) == "六、申诉案件数"
    assert restore_ordinal_mark("十一依申请公开收费", 10) == "十一、依申请公开收费"
    # Not the next number, or no numbered row before: the label stays as printed.
    assert restore_ordinal_mark("六申诉案件数", 3) == "六申诉案件数"
    assert restore_ordinal_mark("一般性文件", None) == "一般性文件"
    assert restore_ordinal_mark("七、行政复议", 6) == "七、行政复议"
