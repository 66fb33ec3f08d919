"""Narrative text for synthetic reports, written by the team in the register of these reports.

Every sentence pattern here is our own wording (no real report is copied); the facts and figures are
filled in per document. Figures that also appear in the statutory tables come from `Facts`, so a
generated report says the same in its text as in its tables (受理申请 N 件 = requests.new.total, ...).

Each paragraph carries its label (overview | problems | improvements | other_matters) and, for the
mixed paragraphs of section 五 (problems first, then 下一步 improvements), the label of every sentence;
a mixed paragraph is labelled by the label of most of its characters (ties: the label that comes first),
the rule corpora/narrative and the service use.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Label = Literal["overview", "problems", "improvements", "other_matters"]


@dataclass
class Sentence:
    text: str
    label: Label


@dataclass
class Paragraph:
    """One printed paragraph; `sentences` is set for every paragraph (one label each)."""

    sentences: list[Sentence]
    label: Label | None = None  # None = the label of most characters of the sentences

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.sentences)

    @property
    def final_label(self) -> Label:
        if self.label is not None:
            return self.label
        # the label of most characters (ties: the label that comes first), as corpora/narrative does
        chars: Counter[Label] = Counter()
        for s in self.sentences:
            chars[s.label] += len(s.text)
        best = max(chars.values())
        return next(s.label for s in self.sentences if chars[s.label] == best)

    @property
    def mixed(self) -> bool:
        return len({s.label for s in self.sentences}) > 1


@dataclass
class Facts:
    """Figures the narrative mentions; the table-backed ones are None when the table lacks them."""

    year: int
    agency: str  # e.g. 某某市某某区人民政府
    short: str  # how the report names itself in sentences, e.g. 区政府 / 我局
    region: str  # e.g. 某某区
    requests_new: int | None = None
    requests_carried_in: int | None = None
    granted: int | None = None
    partial: int | None = None
    results_total: int | None = None
    carried_out: int | None = None
    review_total: int | None = None
    suits_total: int | None = None
    review_corrected: int | None = None
    normative_issued: int | None = None
    fee_amount_yuan: Decimal | None = None  # 信息处理费 collected, in 元 (None = none collected)
    extra: dict[str, int] = field(default_factory=dict)


def _sentences(label: Label, *texts: str) -> list[Sentence]:
    return [Sentence(t, label) for t in texts if t]


def _pick(rng: random.Random, *options: str) -> str:
    return rng.choice(options)


def _n(rng: random.Random, lo: int, hi: int) -> int:
    return rng.randint(lo, hi)


# ---------------------------------------------------------------- preamble and overview


def preamble(rng: random.Random, f: Facts, legacy: bool = False) -> list[Paragraph]:
    law = (
        "《中华人民共和国政府信息公开条例》（国务院令第492号）"
        if legacy
        else "《中华人民共和国政府信息公开条例》（以下简称《条例》）"
    )
    first = _pick(
        rng,
        f"本报告依据{law}第{'三十一' if legacy else '五十'}条规定，由{f.agency}编制。",
        f"根据{law}要求，{f.agency}编制本年度政府信息公开工作年度报告。",
        f"按照{law}和上级有关工作要求，现公布{f.agency}{f.year}年政府信息公开工作年度报告。",
    )
    period = _pick(
        rng,
        f"报告中所列数据的统计期限自{f.year}年1月1日起至{f.year}年12月31日止。",
        f"本报告统计时限为{f.year}年1月1日至12月31日。",
        "",
    )
    contents = (
        ""
        if legacy
        else _pick(
            rng,
            "全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。",
            "",
            "",
        )
    )
    web = _pick(
        rng,
        f"本报告电子版可在{f.region}人民政府门户网站下载。如对本报告有疑问，请与{f.short}政务公开办公室联系。",
        f"本报告可在“{f.region}政府网”政府信息公开专栏查阅。",
        "",
    )
    return [Paragraph(_sentences("overview", first, period, contents, web), "overview")]


def _overview_intro(rng: random.Random, f: Facts) -> Paragraph:
    lead = _pick(
        rng,
        f"{f.year}年，{f.short}坚持以人民为中心的发展思想，认真贯彻落实《条例》和上级关于政务公开工作的部署要求，",
        f"{f.year}年，在上级政务公开主管部门的指导下，{f.short}紧紧围绕中心工作，",
        f"{f.year}年，{f.short}持续深化政务公开，",
        f"过去一年，{f.short}把政务公开作为建设法治政府、服务型政府的重要内容，",
    )
    tail = _pick(
        rng,
        "不断提升公开质量和实效，较好地保障了人民群众的知情权、参与权、表达权和监督权。",
        "推动决策、执行、管理、服务、结果全过程公开，各项工作取得新的进展。",
        "以公开促落实、以公开强监管、以公开优服务，政务公开工作整体水平稳步提高。",
        "着力加强制度建设和平台建设，政府透明度进一步提升。",
    )
    more = _pick(
        rng,
        f"全年召开政务公开专题会议{_n(rng, 1, 6)}次，研究部署年度重点任务。",
        "年初印发年度政务公开工作要点，细化分解任务并明确责任单位和完成时限。",
        "",
    )
    return Paragraph(_sentences("overview", lead + tail, more), "overview")


def _overview_active(rng: random.Random, f: Facts, mark: str) -> Paragraph:
    items = _n(rng, 300, 25000)
    docs = (
        f"本年度制发行政规范性文件{f.normative_issued}件，均按规定在政府网站规范性文件专栏集中公开。"
        if f.normative_issued is not None
        else ""
    )
    s1 = _pick(
        rng,
        f"{mark}主动公开。全年通过门户网站主动公开政府信息{items}条，其中政策文件{_n(rng, 5, 400)}条。",
        f"{mark}主动公开情况。{f.short}依托政府门户网站、政务新媒体等渠道，全年累计发布各类信息{items}条。",
        f"{mark}主动公开方面。全年主动公开政府信息{items}条，重点领域信息公开{_n(rng, 50, 3000)}条。",
    )
    s2 = _pick(
        rng,
        f"围绕重大项目、财政预决算、民生保障等重点领域，及时发布相关信息{_n(rng, 20, 900)}条。",
        f"发布政策解读材料{_n(rng, 3, 120)}篇，采用图解、短视频等形式解读政策{_n(rng, 1, 60)}次。",
        f"回应社会关切{_n(rng, 1, 50)}次，举办新闻发布会{_n(rng, 1, 30)}场。",
    )
    return Paragraph(_sentences("overview", s1, s2, docs), "overview")


def _overview_requests(rng: random.Random, f: Facts, mark: str) -> Paragraph:
    if f.requests_new is None:
        s1 = f"{mark}依申请公开。{f.short}严格执行依申请公开工作规程，规范受理、办理、答复各环节。"
        return Paragraph(_sentences("overview", s1), "overview")
    if f.requests_new == 0:
        s1 = _pick(
            rng,
            f"{mark}依申请公开。本年度{f.short}未收到政府信息公开申请。",
            f"{mark}依申请公开情况。{f.year}年度共收到政府信息公开申请0件。",
        )
    else:
        s1 = _pick(
            rng,
            f"{mark}依申请公开。全年共受理政府信息公开申请{f.requests_new}件",
            f"{mark}依申请公开情况。{f.year}年，{f.short}新收政府信息公开申请{f.requests_new}件",
            f"{mark}依申请公开方面。本年度共收到政府信息公开申请{f.requests_new}件",
        )
        if f.requests_carried_in:
            s1 += f"，上年结转{f.requests_carried_in}件"
        s1 += "。"
    parts = []
    if f.granted is not None and f.results_total:
        parts.append(f"本年度办理完结{f.results_total}件，其中予以公开{f.granted}件")
        if f.partial:
            parts.append(f"部分公开{f.partial}件")
    s2 = "，".join(parts) + "。" if parts else ""
    s3 = ""
    if f.carried_out:
        s3 = f"结转下年度继续办理{f.carried_out}件。"
    s4 = _pick(
        rng,
        "所有申请均在法定期限内答复。",
        "答复文书格式规范、依据充分，未发生超期答复情况。",
        "办理过程中加强与申请人沟通，切实做到依法依规、便民高效。",
    )
    return Paragraph(_sentences("overview", s1, s2, s3, s4), "overview")


def _overview_management(rng: random.Random, f: Facts, mark: str) -> Paragraph:
    s1 = _pick(
        rng,
        f"{mark}政府信息管理。严格落实公文公开属性源头认定制度，拟制公文时同步明确公开方式。",
        f"{mark}政府信息管理情况。落实信息发布前保密审查机制，坚持“先审查、后公开”和“一事一审”。",
        f"{mark}政府信息管理。动态更新政府信息公开指南和公开目录，全年清理更新目录信息{_n(rng, 10, 800)}条。",
    )
    s2 = _pick(
        rng,
        f"对现行有效的行政规范性文件开展集中清理，废止和宣布失效文件{_n(rng, 0, 40)}件。",
        "全年未发生因信息发布引发的失泄密事件。",
        "对涉及个人隐私的信息进行技术处理后再行公开。",
    )
    return Paragraph(_sentences("overview", s1, s2), "overview")


def _overview_platform(rng: random.Random, f: Facts, mark: str) -> Paragraph:
    s1 = _pick(
        rng,
        f"{mark}政府信息公开平台建设。优化政府网站政府信息公开专栏，调整栏目{_n(rng, 2, 30)}个。",
        f"{mark}平台建设。整合政务新媒体账号，现有政务微信公众号{_n(rng, 1, 40)}个、"
        f"政务微博{_n(rng, 0, 20)}个。",
        f"{mark}政府信息公开平台建设情况。推进政府网站集约化建设，完善站内搜索和无障碍浏览功能。",
    )
    s2 = _pick(
        rng,
        f"在{_pick(rng, '政务服务中心', '档案馆', '图书馆', '便民服务中心')}"
        f"设置政府信息公开查阅点{_n(rng, 1, 20)}个，方便群众就近查阅。",
        "建立网站内容日常巡查制度，及时纠正错别字、空白栏目等问题。",
        "",
    )
    return Paragraph(_sentences("overview", s1, s2), "overview")


def _overview_oversight(rng: random.Random, f: Facts, mark: str) -> Paragraph:
    s1 = _pick(
        rng,
        f"{mark}监督保障。将政务公开工作纳入年度绩效考核，考核分值占比{_n(rng, 2, 6)}%。",
        f"{mark}监督保障情况。调整充实政务公开工作领导小组，明确专人负责日常工作。",
        f"{mark}监督保障。组织政务公开业务培训{_n(rng, 1, 12)}次，参训人员{_n(rng, 20, 600)}人次。",
    )
    s2 = _pick(
        rng,
        "本年度未发生因政府信息公开工作引发的责任追究情况。",
        "通过第三方评估、社会评议等方式查找薄弱环节，督促整改落实。",
        "定期通报网站和政务新媒体检查情况，推动问题整改闭环。",
    )
    return Paragraph(_sentences("overview", s1, s2), "overview")


def overview(rng: random.Random, f: Facts) -> list[Paragraph]:
    """Section 一: an introduction, then the sub-parts （一）…（五） (sometimes without the marks)."""
    marks = (
        ["（一）", "（二）", "（三）", "（四）", "（五）"] if rng.random() < 0.85 else ["", "", "", "", ""]
    )
    paras = [_overview_intro(rng, f)] if rng.random() < 0.8 else []
    builders = [
        _overview_active,
        _overview_requests,
        _overview_management,
        _overview_platform,
        _overview_oversight,
    ]
    for mark, build in zip(marks, builders, strict=True):
        paras.append(build(rng, f, mark))
    return paras


# ---------------------------------------------------------------- section 五

_PROBLEMS = (
    "政务公开工作人员多为兼职，业务能力与新形势新要求还有一定差距",
    "部分单位对政务公开重视程度不够，信息发布不够及时",
    "政策解读形式较为单一，图解、视频等多样化解读偏少",
    "基层政务公开标准化规范化建设推进不平衡",
    "依申请公开答复的规范性有待进一步提高",
    "政府网站个别栏目更新不及时，内容保障存在薄弱环节",
    "公开内容与群众需求的契合度还不够高，互动回应效果不明显",
    "重点领域信息公开的深度和广度仍有不足",
    "政务新媒体运营水平参差不齐，部分账号活跃度较低",
)
_IMPROVEMENTS = (
    "加强业务培训，通过集中授课、以会代训等方式提高工作人员业务水平",
    "健全信息发布审核机制，压实各单位信息公开主体责任",
    "丰富政策解读形式，推出更多通俗易懂的图解和短视频",
    "深化基层政务公开标准化规范化建设，完善公开事项目录",
    "规范依申请公开办理流程，提高答复文书质量",
    "加强网站和政务新媒体日常监管，定期开展内容巡查",
    "围绕群众关切扩大公开范围，做好政策发布后的跟踪回应",
    "加大重点领域信息公开力度，主动回应社会关切",
    "强化考核督查，将政务公开纳入年度绩效考核",
)
# a second improvement sentence for mixed paragraphs (never one of _IMPROVEMENTS, so no repeats)
_FOLLOW_UPS = (
    "同时建立问题台账，逐项明确整改时限",
    "持续跟踪整改成效，防止同类问题反复出现",
    "定期开展自查自评，推动工作常态化长效化",
)
_ORDINALS = ("一是", "二是", "三是", "四是")


def _problems_paragraph(rng: random.Random, items: list[str]) -> Paragraph:
    lead = _pick(
        rng,
        "本年度政府信息公开工作虽取得一定成效，但仍存在一些不足：",
        "对照上级要求和群众期待，工作中还存在以下问题：",
        "回顾一年来的工作，仍存在一些差距和不足。",
        "当前主要存在以下问题：",
    )
    sents = [Sentence(lead, "problems")]
    for i, item in enumerate(items):
        end = "。" if i == len(items) - 1 else "；"
        sents.append(Sentence(f"{_ORDINALS[i]}{item}{end}", "problems"))
    return Paragraph(sents, "problems")


def _improvements_paragraph(rng: random.Random, items: list[str]) -> Paragraph:
    lead = _pick(
        rng,
        "下一步，我们将重点做好以下工作：",
        "针对上述问题，下一步将采取以下改进措施：",
        "今后，将从以下几个方面加以改进：",
        "下一步工作打算：",
    )
    sents = [Sentence(lead, "improvements")]
    for i, item in enumerate(items):
        end = "。" if i == len(items) - 1 else "；"
        sents.append(Sentence(f"{_ORDINALS[i]}{item}{end}", "improvements"))
    return Paragraph(sents, "improvements")


def _mixed_paragraph(rng: random.Random, problem: str, fixes: list[str]) -> Paragraph:
    """One paragraph: a problem, then how it will be fixed; labelled by the majority of characters."""
    sents = [Sentence(f"{problem}。", "problems")]
    if rng.random() < 0.5:
        aside = _pick(rng, "这在一定程度上影响了公开实效。", "与群众期待相比仍有差距。")
        sents.append(Sentence(aside, "problems"))
    cue = _pick(rng, "下一步，", "今后，", "针对这一问题，下一步将")
    for i, fix in enumerate(fixes):
        sents.append(Sentence(f"{cue if i == 0 else ''}{fix}。", "improvements"))
    return Paragraph(sents)


def problems_improvements(rng: random.Random, f: Facts) -> list[Paragraph]:
    """Section 五: separate problems / improvements paragraphs, or mixed ones (problem + 下一步 fix)."""
    k = rng.randint(2, 4)
    picks = rng.sample(range(len(_PROBLEMS)), k)
    problems = [_PROBLEMS[i] for i in picks]
    fixes = [_IMPROVEMENTS[i] for i in picks]
    style = rng.random()
    if style < 0.55:
        return [_problems_paragraph(rng, problems), _improvements_paragraph(rng, fixes)]
    if style < 0.85:
        return [
            _mixed_paragraph(rng, p, [x] + ([] if rng.random() < 0.6 else [rng.choice(_FOLLOW_UPS)]))
            for p, x in zip(problems, fixes, strict=True)
        ]
    # one long mixed paragraph covering everything
    sents = [Sentence(_pick(rng, "工作中仍存在一些不足，", "存在的主要问题是："), "problems")]
    sents += [
        Sentence(f"{_ORDINALS[i]}{p}；" if i < k - 1 else f"{_ORDINALS[i]}{p}。", "problems")
        for i, p in enumerate(problems)
    ]
    sents.append(Sentence("下一步，", "improvements"))
    sents += [Sentence(f"{x}；" if i < k - 1 else f"{x}。", "improvements") for i, x in enumerate(fixes)]
    # the cue fragment joins the next sentence: merge it so every sentence is a whole clause
    merged: list[Sentence] = []
    for s in sents:
        if merged and merged[-1].text == "下一步，":
            merged[-1] = Sentence("下一步，" + s.text, "improvements")
        else:
            merged.append(s)
    return [Paragraph(merged)]


# ---------------------------------------------------------------- section 六


def other_matters(rng: random.Random, f: Facts) -> list[Paragraph]:
    """Section 六: the 信息处理费 statement, 建议提案 handling, and other short statements."""
    paras: list[Paragraph] = []
    if f.year < 2021:
        # the 信息处理费 rules date from 2021; older reports speak of 检索、复制、邮寄 costs
        fee = _pick(
            rng,
            "本年度未收取政府信息公开检索、复制、邮寄等费用。",
            f"{f.year}年度，{f.short}依申请提供政府信息，均未收取费用。",
        )
    elif f.fee_amount_yuan is None or f.fee_amount_yuan == 0:
        fee = _pick(
            rng,
            "本年度未收取政府信息公开信息处理费。",
            "依据《政府信息公开信息处理费管理办法》，本年度未向申请人收取信息处理费。",
            f"{f.year}年度，{f.short}未发出收费通知，未收取信息处理费。",
        )
    else:
        fee = (
            f"依据《政府信息公开信息处理费管理办法》，本年度发出收费通知{_n(rng, 1, 5)}件，"
            f"收取信息处理费{f.fee_amount_yuan}元。"
        )
    paras.append(Paragraph(_sentences("other_matters", fee), "other_matters"))
    if rng.random() < 0.75:
        npc, cppcc = f.extra.get("npc_suggestions", 0), f.extra.get("cppcc_proposals", 0)
        s = _pick(
            rng,
            f"本年度共承办人大代表建议{npc}件、政协委员提案{cppcc}件，均已按期办结，办理复文已按要求公开。",
            f"全年办理人大代表建议{npc}件、政协提案{cppcc}件，办结率100%，办理结果公开率100%。",
            f"{f.year}年承办的{npc}件人大代表建议和{cppcc}件政协提案全部办结，并在门户网站公开答复全文。",
        )
        paras.append(Paragraph(_sentences("other_matters", s), "other_matters"))
    if rng.random() < 0.5:
        s = _pick(
            rng,
            f"{f.short}已按要求完成年度政务公开工作要点各项任务。",
            "本年度无其他需要报告的事项。",
            "政务公开工作要点落实情况已在门户网站专栏公开。",
        )
        paras.append(Paragraph(_sentences("other_matters", s), "other_matters"))
    return paras


# ---------------------------------------------------------------- legacy sections


def legacy_section(rng: random.Random, key: str, f: Facts) -> list[Paragraph]:
    """Narrative of the legacy (2008–2018) sections; figures match the statistics table."""
    if key == "overview":
        return [_overview_intro(rng, f), _overview_management(rng, f, "")]
    if key == "active":
        return [_overview_active(rng, f, "")]
    if key == "requests":
        return [_overview_requests(rng, f, "")]
    if key == "fees":
        return [
            Paragraph(
                _sentences(
                    "other_matters",
                    _pick(
                        rng,
                        f"{f.year}年度，{f.short}在办理依申请公开过程中未收取任何费用。",
                        "本年度未收取检索、复制、邮寄等费用，也未发生减免收费情况。",
                    ),
                ),
                "other_matters",
            )
        ]
    if key == "appeals":
        r, s = f.review_total or 0, f.suits_total or 0
        text = (
            "本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。"
            if r == 0 and s == 0
            else f"本年度因政府信息公开申请行政复议{r}件，提起行政诉讼{s}件。"
        )
        return [Paragraph(_sentences("overview", text), "overview")]
    if key == "problems_improvements":
        return problems_improvements(rng, f)
    if key == "other_matters":
        return other_matters(rng, f)
    raise KeyError(f"no narrative for legacy section {key!r}")


def closing(rng: random.Random, f: Facts) -> list[str]:
    """The signature block: the issuing agency and the date the report was published."""
    month = rng.choice([1, 1, 1, 2, 3])
    day = rng.randint(5, 28)
    return [f.agency, f"{f.year + 1}年{month}月{day}日"]
