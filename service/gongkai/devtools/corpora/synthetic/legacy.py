"""Legacy reports (report years 2008–2018): free section headings and a 指标 / 单位 / 统计数 table.

Before the 2019 national format there were no statutory tables. Reports followed the six items of
the 2008 条例 第三十二条 with locally chosen headings (variants from service/schema/format-legacy.yaml)
and usually appended a statistics table:

- 2014–2018: the national 政府信息公开情况统计表 of 国办发〔2014〕32号 (rows as recalled in
  ../shared/spec/reference-schema.yaml ``stat_table_national_2014_2018``);
- before 2014: a shorter local indicator list (our own, in the style of provincial tables).

Numbers are generated so every printed total equals the sum of the numbered items under it.

Truth: format "legacy", cells keyed ``legacy.<indicator label as printed, whitespace removed>`` (the
key service/legacy.py produces), one per row that prints a value; heading rows carry no cell. Labels
that repeat in the recalled national list (e.g. （二）被依法纠错数 under both 行政复议 and 行政诉讼)
are printed with a distinguishing word so every key is unique within a document.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from gongkai.devtools.corpora.synthetic import text as narrative
from gongkai.devtools.corpora.synthetic.fonts import FontFamily, register_reportlab
from gongkai.pipeline.schema import load_format


@dataclass
class StatRow:
    label: str
    unit: str | None  # None on heading rows
    key: str  # stable id for generation (not printed)
    parent: str | None = None  # key of the row this one sums into
    value: int | Decimal | None = None

    @property
    def is_heading(self) -> bool:
        return self.unit is None

    @property
    def cell_id(self) -> str:
        return "legacy." + "".join(self.label.split())

    def printed(self) -> str:
        return "" if self.value is None else str(self.value)


# (key, label, unit, parent); unit None = heading row. 2014–2018 national table, labels as recalled in
# the shared reference schema, with the repeated labels made unique.
_NATIONAL: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("h_active", "一、主动公开情况", None, None),
    ("active_total", "（一）主动公开政府信息数（不同渠道和方式公开相同信息计1条）", "条", None),
    ("active_normative", "其中：主动公开规范性文件数", "条", None),
    ("normative_issued", "制发规范性文件总数", "件", None),
    ("h_channels", "（二）通过不同渠道和方式公开政府信息的情况", None, None),
    ("ch_gazette", "1.政府公报公开政府信息数", "条", None),
    ("ch_website", "2.政府网站公开政府信息数", "条", None),
    ("ch_weibo", "3.政务微博公开政府信息数", "条", None),
    ("ch_wechat", "4.政务微信公开政府信息数", "条", None),
    ("ch_other", "5.其他方式公开政府信息数", "条", None),
    ("h_response", "二、回应解读情况", None, None),
    ("resp_hotspots", "（一）回应公众关注热点或重大舆情数（不同方式回应同一热点或舆情计1次）", "次", None),
    ("h_resp_channels", "（二）通过不同渠道和方式回应解读的情况", None, None),
    ("press_conf", "1.参加或举办新闻发布会总次数", "次", None),
    ("press_conf_principal", "其中：主要负责同志参加新闻发布会次数", "次", None),
    ("interviews", "2.政府网站在线访谈次数", "次", None),
    ("interviews_principal", "其中：主要负责同志参加政府网站在线访谈次数", "次", None),
    ("interp_articles", "3.政策解读稿件发布数", "篇", None),
    ("weibo_wechat_resp", "4.微博微信回应事件数", "次", None),
    ("other_resp", "5.其他方式回应事件数", "次", None),
    ("h_requests", "三、依申请公开情况", None, None),
    ("apps_received", "（一）收到申请数", "件", None),
    ("apps_in_person", "1.当面申请数", "件", "apps_received"),
    ("apps_fax", "2.传真申请数", "件", "apps_received"),
    ("apps_online", "3.网络申请数", "件", "apps_received"),
    ("apps_letter", "4.信函申请数", "件", "apps_received"),
    ("apps_closed", "（二）申请办结数", "件", None),
    ("closed_on_time", "1.按时办结数", "件", "apps_closed"),
    ("closed_extended", "2.延期办结数", "件", "apps_closed"),
    ("apps_answered", "（三）申请答复数", "件", None),
    ("ans_already_public", "1.属于已主动公开范围数", "件", "apps_answered"),
    ("ans_granted", "2.同意公开答复数", "件", "apps_answered"),
    ("ans_partial", "3.同意部分公开答复数", "件", "apps_answered"),
    ("ans_refused", "4.不同意公开答复数", "件", "apps_answered"),
    ("ref_state_secret", "其中：涉及国家秘密", "件", "ans_refused"),
    ("ref_commercial_secret", "涉及商业秘密", "件", "ans_refused"),
    ("ref_privacy", "涉及个人隐私", "件", "ans_refused"),
    ("ref_safety_stability", "危及国家安全、公共安全、经济安全和社会稳定", "件", "ans_refused"),
    ("ref_not_gov_info", "不是《条例》所指政府信息", "件", "ans_refused"),
    ("ref_other_law", "法律法规规定的其他情形", "件", "ans_refused"),
    ("ans_not_this_agency", "5.不属于本行政机关公开", "件", "apps_answered"),
    ("ans_not_exist", "6.申请信息不存在", "件", "apps_answered"),
    ("ans_notify_amend", "7.告知作出更改补充", "件", "apps_answered"),
    ("ans_notify_other_channel", "8.告知通过其他途径办理", "件", "apps_answered"),
    ("review_total", "四、行政复议数量", "件", None),
    ("review_maintained", "（一）维持具体行政行为数", "件", "review_total"),
    ("review_corrected", "（二）被依法纠错数", "件", "review_total"),
    ("review_other", "（三）其他情形数", "件", "review_total"),
    ("lit_total", "五、行政诉讼数量", "件", None),
    ("lit_maintained", "（一）维持具体行政行为或者驳回原告诉讼请求数", "件", "lit_total"),
    ("lit_corrected", "（二）诉讼中被依法纠错数", "件", "lit_total"),
    ("lit_other", "（三）诉讼其他情形数", "件", "lit_total"),
    ("complaints_total", "六、举报投诉数量", "件", None),
    ("compl_maintained", "（一）举报投诉维持具体行政行为数", "件", "complaints_total"),
    ("compl_corrected", "（二）被纠错数", "件", "complaints_total"),
    ("compl_other", "（三）举报投诉其他情形数", "件", "complaints_total"),
    ("fees_collected", "七、依申请公开信息收取的费用", "万元", None),
    ("h_org", "八、机构建设和保障经费情况", None, None),
    ("org_units", "（一）政府信息公开工作专门机构数", "个", None),
    ("reading_points", "（二）设置政府信息公开查阅点数", "个", None),
    ("staff_total", "（三）从事政府信息公开工作人员数", "人", None),
    ("staff_fulltime", "1.专职人员数（不包括政府公报及政府网站工作人员数）", "人", "staff_total"),
    ("staff_parttime", "2.兼职人员数", "人", "staff_total"),
    (
        "special_funds",
        "（四）政府信息公开专项经费（不包括用于政府公报编辑管理及政府网站建设维护等方面的经费）",
        "万元",
        None,
    ),
    ("h_training", "九、政府信息公开会议和培训情况", None, None),
    ("meetings", "（一）召开政府信息公开工作会议或专题会议数", "次", None),
    ("trainings", "（二）举办各类培训班数", "次", None),
    ("trainees", "（三）接受培训人员数", "人次", None),
)

# Before 2014: a shorter local list (our own wording, in the style of provincial indicator tables).
_LOCAL: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("active_total", "一、主动公开政府信息数", "条", None),
    ("ch_website", "（一）通过政府网站公开数", "条", "active_total"),
    ("ch_gazette", "（二）通过政府公报公开数", "条", "active_total"),
    ("ch_other", "（三）通过其他方式公开数", "条", "active_total"),
    ("apps_received", "二、收到政府信息公开申请数", "件", None),
    ("apps_in_person", "（一）当面申请数", "件", "apps_received"),
    ("apps_online", "（二）网上申请数", "件", "apps_received"),
    ("apps_letter", "（三）信函及传真申请数", "件", "apps_received"),
    ("apps_answered", "三、已答复申请数", "件", None),
    ("ans_granted", "（一）同意公开数", "件", "apps_answered"),
    ("ans_partial", "（二）同意部分公开数", "件", "apps_answered"),
    ("ans_refused", "（三）不予公开数", "件", "apps_answered"),
    ("ans_not_exist", "（四）信息不存在数", "件", "apps_answered"),
    ("ans_not_this_agency", "（五）非本机关掌握数", "件", "apps_answered"),
    ("ans_notify_amend", "（六）申请内容不明确数", "件", "apps_answered"),
    ("review_total", "四、行政复议案件数", "件", None),
    ("lit_total", "五、行政诉讼案件数", "件", None),
    ("complaints_total", "六、申诉案件数", "件", None),
    ("fees_collected", "七、依申请公开收取费用", "万元", None),
    ("staff_total", "八、政府信息公开工作人员数", "人", None),
    ("staff_fulltime", "（一）专职人员数", "人", "staff_total"),
    ("staff_parttime", "（二）兼职人员数", "人", "staff_total"),
)

_TABLE_HEADERS = (
    ("指标", "单位", "统计数"),
    ("统计指标", "单位", "统计数"),
    ("指标名称", "计量单位", "统计数"),
)


def _split(rng: random.Random, total: int, k: int, skew: float = 1.0) -> list[int]:
    """`total` split into k non-negative parts (the first part tends to be the largest)."""
    if k == 1:
        return [total]
    weights = [rng.random() ** skew * (3.0 if i == 0 else 1.0) for i in range(k)]
    if rng.random() < 0.4:  # many real rows are zero
        for i in range(1, k):
            if rng.random() < 0.5:
                weights[i] = 0.0
    s = sum(weights) or 1.0
    parts = [int(total * w / s) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def _count(rng: random.Random, small: int, big: int) -> int:
    # mostly small numbers, a few large ones (0..10^7 overall)
    r = rng.random()
    if r < 0.15:
        return 0
    if r < 0.85:
        return rng.randint(1, small)
    return rng.randint(small, big)


def stat_rows(rng: random.Random, year: int) -> list[StatRow]:
    """The statistics table of a legacy report of `year`, with consistent numbers."""
    spec = _NATIONAL if year >= 2014 else _LOCAL
    rows = {key: StatRow(label, unit, key, parent) for key, label, unit, parent in spec}
    v: dict[str, int | Decimal] = {}
    received = _count(rng, 60, 20000)
    answered = received if rng.random() < 0.7 else max(0, received - rng.randint(0, max(1, received // 10)))
    children = {k: [r.key for r in rows.values() if r.parent == k] for k in rows}

    def fill(key: str, total: int) -> None:
        v[key] = total
        kids = children.get(key, [])
        if kids:
            for kid, part in zip(kids, _split(rng, total, len(kids)), strict=True):
                fill(kid, part)

    fill("apps_received", received)
    fill("apps_answered", answered)
    if "apps_closed" in rows:
        fill("apps_closed", answered)
    active = _count(rng, 3000, 2_000_000)
    fill("active_total", active)
    for key in ("review_total", "lit_total", "complaints_total"):
        fill(key, rng.choice([0, 0, 0, 1, 2, rng.randint(0, 30)]))
    fill("staff_total", rng.randint(1, 60))
    fees = Decimal(0) if rng.random() < 0.8 else Decimal(rng.randint(1, 50000)) / 100
    v["fees_collected"] = fees
    for key, row in rows.items():
        if row.is_heading or key in v:
            continue
        if row.unit == "万元":
            v[key] = Decimal(rng.randint(0, 500000)) / 100
        elif key.endswith("_principal"):
            base = v.get(key.replace("_principal", ""), 0)
            v[key] = rng.randint(0, int(base)) if base else 0
        elif key == "active_normative":
            issued = v.setdefault("normative_issued", rng.randint(0, 200))
            v[key] = rng.randint(0, int(issued))
        elif key.startswith("ch_"):
            v[key] = rng.randint(0, max(1, int(v.get("active_total", 0))))
        else:
            v[key] = _count(rng, 40, 5000)
    for key, row in rows.items():
        row.value = None if row.is_heading else v[key]
    return list(rows.values())


@dataclass
class LegacyReport:
    year: int
    agency: str
    title: str
    preamble: list[narrative.Paragraph]
    sections: list[tuple[str, str, list[narrative.Paragraph]]]  # (key, heading as printed, paragraphs)
    rows: list[StatRow]
    table_title: str
    table_header: tuple[str, str, str]
    closing: list[str] = field(default_factory=list)
    font: FontFamily | None = None
    font_size: float = 14.0

    def cells(self) -> dict[str, int | Decimal | None]:
        return {r.cell_id: r.value for r in self.rows if not r.is_heading}


def build_legacy_report(rng: random.Random, year: int, agency: str, short: str, region: str) -> LegacyReport:
    if not 2008 <= year <= 2018:
        raise ValueError(f"legacy reports cover 2008-2018, not {year}")
    rows = stat_rows(rng, year)
    val = {r.key: r.value for r in rows}

    def num(key: str) -> int | None:
        x = val.get(key)
        return int(x) if x is not None else None

    facts = narrative.Facts(
        year=year,
        agency=agency,
        short=short,
        region=region,
        requests_new=num("apps_received"),
        granted=num("ans_granted"),
        partial=num("ans_partial"),
        results_total=num("apps_answered"),
        review_total=num("review_total"),
        suits_total=num("lit_total"),
        normative_issued=num("normative_issued"),
        extra={"npc_suggestions": rng.randint(0, 80), "cppcc_proposals": rng.randint(0, 120)},
    )
    fmt = load_format("legacy")
    numerals = "一二三四五六七八九十"
    sections = []
    for i, s in enumerate(fmt.sections):
        heading = rng.choice([s.official, *s.variants])
        sections.append((s.key, f"{numerals[i]}、{heading}", narrative.legacy_section(rng, s.key, facts)))
    table_title = rng.choice(
        [
            f"{agency}{year}年政府信息公开情况统计表",
            "政府信息公开情况统计表",
            f"附表：{year}年度政府信息公开工作统计表",
        ]
    )
    return LegacyReport(
        year=year,
        agency=agency,
        title=f"{agency}{year}年政府信息公开工作年度报告",
        preamble=narrative.preamble(rng, facts, legacy=True),
        sections=sections,
        rows=rows,
        table_title=table_title,
        table_header=rng.choice(_TABLE_HEADERS),
        closing=narrative.closing(rng, facts),
    )


# ---------------------------------------------------------------- rendering


def render_legacy_pdf(report: LegacyReport, page_header: str | None = None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_reportlab(report.font)
    size = report.font_size
    body = ParagraphStyle(
        "lb", fontName=font, fontSize=size, leading=size * 1.75, firstLineIndent=2 * size, wordWrap="CJK"
    )
    title = ParagraphStyle(
        "lt",
        parent=body,
        fontSize=size + 6,
        leading=(size + 6) * 1.5,
        alignment=TA_CENTER,
        firstLineIndent=0,
        spaceAfter=size,
    )
    right = ParagraphStyle("lr", parent=body, firstLineIndent=0, alignment=TA_RIGHT)
    cell = ParagraphStyle("lc", fontName=font, fontSize=size * 0.72, leading=size * 0.95, wordWrap="CJK")
    cell_c = ParagraphStyle("lcc", parent=cell, alignment=TA_CENTER)

    story: list = [Paragraph(escape(report.title), title)]
    story += [Paragraph(escape(p.text), body) for p in report.preamble]
    for _key, heading, paras in report.sections:
        story.append(Paragraph(escape(heading), body))
        story += [Paragraph(escape(p.text), body) for p in paras]
    story += [Spacer(1, size)] + [Paragraph(escape(line), right) for line in report.closing]
    story += [
        PageBreak(),
        Paragraph(escape(report.table_title), ParagraphStyle("tt", parent=title, fontSize=size + 2)),
    ]
    data = [[Paragraph(escape(h), cell_c) for h in report.table_header]]
    for r in report.rows:
        data.append(
            [
                Paragraph(escape(r.label), cell),
                Paragraph(escape(r.unit or ""), cell_c),
                Paragraph(escape(r.printed()), cell_c),
            ]
        )
    width = A4[0] - 5.4 * cm
    table = Table(data, colWidths=[width * 0.66, width * 0.12, width * 0.22], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story.append(table)

    def decorate(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(font, 10)
        canvas.drawCentredString(A4[0] / 2, 1.5 * cm, f"- {doc.page} -")
        if page_header:
            canvas.setFont(font, 9)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 2.0 * cm, page_header)
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2.7 * cm,
        rightMargin=2.7 * cm,
        topMargin=2.8 * cm,
        bottomMargin=2.6 * cm,
        title=report.title,
        author=report.agency,
        creator="Gongkai synthetic renderer",
        invariant=1,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()


def render_legacy_html(report: LegacyReport) -> bytes:
    from html import escape as h

    parts = [f'<p style="text-align:center;"><strong>{h(report.title)}</strong></p>']
    parts += [f'<p style="text-indent:2em;">{h(p.text)}</p>' for p in report.preamble]
    for _key, heading, paras in report.sections:
        parts.append(f'<p style="text-indent:2em;"><strong>{h(heading)}</strong></p>')
        parts += [f'<p style="text-indent:2em;">{h(p.text)}</p>' for p in paras]
    parts += [f'<p style="text-align:right;">{h(line)}</p>' for line in report.closing]
    parts.append(f'<p style="text-align:center;"><strong>{h(report.table_title)}</strong></p>')
    rows = ["<tr>" + "".join(f"<td><p>{h(x)}</p></td>" for x in report.table_header) + "</tr>"]
    for r in report.rows:
        value = h(r.printed()) if r.printed() else "&nbsp;"
        rows.append(
            f"<tr><td><p>{h(r.label)}</p></td><td><p>{h(r.unit or '')}</p></td><td><p>{value}</p></td></tr>"
        )
    parts.append('<table border="1" cellspacing="0" width="100%">' + "\n".join(rows) + "</table>")
    page = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"/>'
        f"<title>{h(report.title)}_{h(report.agency)}</title></head><body>"
        f'<div class="location">当前位置：首页 &gt; 政府信息公开 &gt; 年度报告</div>'
        f'<div class="article"><h1>{h(report.title)}</h1><div class="TRS_Editor">\n'
        + "\n".join(parts)
        + f'\n</div></div><div class="footer">主办单位：{h(report.agency)}</div></body></html>\n'
    )
    return page.encode("utf-8")


def render_legacy_docx(report: LegacyReport) -> bytes:
    import datetime as dt

    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    from gongkai.devtools.corpora.synthetic.render_docx import _normalise_zip

    doc = Document()
    doc.styles["Normal"].font.size = Pt(report.font_size)
    t = doc.add_paragraph(report.title)
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for p in report.preamble:
        doc.add_paragraph(p.text)
    for _key, heading, paras in report.sections:
        doc.add_paragraph(heading)
        for p in paras:
            doc.add_paragraph(p.text)
    for line in report.closing:
        doc.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph(report.table_title).alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=1 + len(report.rows), cols=3)
    table.style = "Table Grid"
    for j, text in enumerate(report.table_header):
        table.cell(0, j).text = text
    for i, r in enumerate(report.rows, start=1):
        table.cell(i, 0).text = r.label
        table.cell(i, 1).text = r.unit or ""
        table.cell(i, 2).text = r.printed()
    props = doc.core_properties
    props.title, props.author = report.title, report.agency
    props.created = props.modified = dt.datetime(report.year + 1, 2, 1, 9, 0, 0)
    raw = io.BytesIO()
    doc.save(raw)
    return _normalise_zip(raw.getvalue())


def legacy_paragraphs(report: LegacyReport) -> list[tuple[str, narrative.Paragraph]]:
    """(section key, paragraph) in reading order; the preamble's key is "preamble"."""
    out = [("preamble", p) for p in report.preamble]
    for key, _heading, paras in report.sections:
        out += [(key, p) for p in paras]
    return out
