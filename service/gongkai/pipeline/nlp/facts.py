"""Figures the narrative states (their soft checks against the tables: gongkai.pipeline.checks.facts).

A fact is a number with its unit found by the quantity patterns (gongkai.pipeline.nlp.segment), given a
kind by the words of its clause: 受理/收到…申请 N 件 → ``requests_received``, 行政复议 N 起 →
``review_cases``, 收取信息处理费 N 元 → ``fees_collected`` and so on. Statements of none also count:
未发生行政复议及行政诉讼案件 gives ``review_cases`` 0 and ``lawsuit_cases`` 0; 没有收取信息处理费 gives
``fees_collected`` 0. Each fact keeps the sentence it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from gongkai.pipeline.nlp.segment import quantities
from gongkai.pipeline.nlp.text import normalize, split_sentences
from gongkai.pipeline.result import FactOut

_CLAUSE_BREAK = re.compile(r"[，,；;。：:、！？!?]")
_WIDE_BREAK = re.compile(r"[，,；;。：:！？!?]")
_SUB_ITEM = re.compile(r"其中")
_NONE_WINDOW = r"[^。；;，,]{0,25}?"


@dataclass(frozen=True)
class _Rule:
    kind: str
    units: tuple[str, ...]
    clause: re.Pattern[str]
    sentence: re.Pattern[str] | None = None  # must also match the whole sentence
    unless: re.Pattern[str] | None = None  # the clause must not match


_RULES: tuple[_Rule, ...] = (
    _Rule("review_cases", ("件", "起", "次"), re.compile(r"复议"), unless=re.compile(r"诉讼")),
    _Rule("lawsuit_cases", ("件", "起", "次"), re.compile(r"诉讼"), unless=re.compile(r"复议")),
    _Rule("npc_proposals", ("件",), re.compile(r"人大.{0,4}建议|代表建议")),
    _Rule("cppcc_proposals", ("件",), re.compile(r"政协.{0,4}提案|委员提案")),
    _Rule("requests_carried_in", ("件",), re.compile(r"上一?年(度)?结转")),
    _Rule("requests_carried_out", ("件",), re.compile(r"结转下一?年")),
    _Rule(
        "requests_received",
        ("件",),
        re.compile(r"(受理|收到|新收|接收|共收).{0,16}申请|申请.{0,6}(受理|收到)|受理依申请"),
        unless=re.compile(r"其中|结转|答复|办结"),
    ),
    _Rule(
        "requests_answered",
        ("件",),
        re.compile(r"答复|办结|办理完毕"),
        sentence=re.compile(r"申请"),
        unless=re.compile(r"其中|结转|建议|提案"),
    ),
    _Rule(
        "active_published",
        ("条",),
        re.compile(r"公开|发布"),
        unless=re.compile(r"其中|转载|留言"),
    ),
    _Rule("fees_collected", ("元", "万元"), re.compile(r"费"), sentence=re.compile(r"收取|收费|费用")),
)

# "None of these happened" statements → a zero fact.
_ZERO_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("review_cases", "起", re.compile(rf"(未|没有|无)(发生|出现)?{_NONE_WINDOW}复议")),
    ("lawsuit_cases", "起", re.compile(rf"(未|没有|无)(发生|出现)?{_NONE_WINDOW}诉讼")),
    ("fees_collected", "元", re.compile(rf"(未|没有|无)[^。；;]{{0,12}}?收取{_NONE_WINDOW}费")),
    ("requests_received", "件", re.compile(r"(未|没有)(收到|受理)[^。；;，,]{0,12}?申请")),
)


def _number(text: str) -> int | Decimal:
    return Decimal(text) if "." in text else int(text)


def _clause_before(sentence: str, start: int, breaks: re.Pattern[str] = _CLAUSE_BREAK) -> str:
    """The clause a quantity closes: from the previous clause break up to the number."""
    ends = [m.end() for m in breaks.finditer(sentence, 0, start)]
    return sentence[ends[-1] if ends else 0 : start]


def sentence_facts(sentence: str, page: int | None = None) -> list[FactOut]:
    """The facts one sentence states (its text is kept as printed, folded to NFKC)."""
    text = normalize(sentence)
    compact = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", text)
    facts: list[FactOut] = []
    for q in quantities(compact):
        clause = _clause_before(compact, q.start)
        if _SUB_ITEM.search(_clause_before(compact, q.start, _WIDE_BREAK)):
            continue  # 其中…: a part of a total stated just before, not a total of its own
        for rule in _RULES:
            if q.unit not in rule.units or not rule.clause.search(clause):
                continue
            if rule.unless is not None and rule.unless.search(clause):
                continue
            if rule.sentence is not None and not rule.sentence.search(compact):
                continue
            facts.append(
                FactOut(kind=rule.kind, value=_number(q.value), unit=q.unit, text=compact, page=page)
            )
            break
    kinds = {f.kind for f in facts}
    for kind, unit, pattern in _ZERO_RULES:
        if kind not in kinds and pattern.search(compact):
            facts.append(FactOut(kind=kind, value=0, unit=unit, text=compact, page=page))
    return facts


def extract_facts(paragraphs: Iterable[tuple[str, int | None]]) -> list[FactOut]:
    """Facts of every sentence of the given (paragraph text, page) pairs, in reading order."""
    out: list[FactOut] = []
    for text, page in paragraphs:
        for sentence in split_sentences(text):
            out.extend(sentence_facts(sentence, page))
    return out
