"""Label normalisation: compare the labels real reports print after folding their noise away."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Traditional forms seen in mirrored reports (總計, 結轉, 維持 …), folded to simplified.
_TRAD = str.maketrans(
    {
        "總": "总",
        "計": "计",
        "結": "结",
        "轉": "转",
        "維": "维",
        "糾": "纠",
        "審": "审",
        "請": "请",
        "開": "开",
        "處": "处",
        "檢": "检",
        "訊": "讯",
        "數": "数",
        "項": "项",
        "務": "务",
        "機": "机",
        "構": "构",
        "業": "业",
        "組": "组",
        "織": "织",
        "廢": "废",
        "規": "规",
        "許": "许",
        "費": "费",
        "發": "发",
        "況": "况",
        "報": "报",
        "復": "复",
        "議": "议",
        "訟": "讼",
        "護": "护",
        "權": "权",
        "無": "无",
        "們": "们",
        "內": "内",
        "與": "与",
        "極": "极",
        "會": "会",
        "決": "决",
        "額": "额",
        "單": "单",
        "產": "产",
        "個": "个",
        "據": "据",
        "備": "备",
        "類": "类",
        "過": "过",
        "門": "门",
        "執": "执",
        "詢": "询",
        "現": "现",
        "書": "书",
        "補": "补",
        "確": "确",
        "舉": "举",
        "訴": "诉",
        "繳": "缴",
        "納": "纳",
        "認": "认",
        "貳": "贰",
    }
)

_QUOTES = re.compile(r"[“”‘’\"'「」『』〝〞]")
_SPACE = re.compile(r"\s+")
# Leading ordinals: 一、 （一） (1) 1. 1、 1． — kept apart as structural hints.
_ORDINAL = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\)|\(\d+\)|\d+[、.](?!\d))")


def fold_width(text: str) -> str:
    """NFKC folds full-width ASCII, digits and punctuation (（→(, ：→:, ．→.) to half width."""
    return unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=65536)
def normalize_label(text: str, *, keep_ordinal: bool = False) -> str:
    """Whitespace removed, width folded, quotes dropped, 、/， unified, traditional folded."""
    t = fold_width(text).translate(_TRAD)
    t = _SPACE.sub("", t)
    t = _QUOTES.sub("", t)
    if not keep_ordinal:
        t = strip_ordinal(t)
    return t.replace("、", ",").replace("。", ".")


def strip_ordinal(text: str) -> str:
    prev = None
    while prev != text:
        prev = text
        text = _ORDINAL.sub("", text, count=1)
    return text


def leading_ordinal(text: str) -> str | None:
    m = _ORDINAL.match(_SPACE.sub("", fold_width(text)))
    return m.group(0) if m else None


_CN_DIGITS = {ch: i + 1 for i, ch in enumerate("一二三四五六七八九")}


def cn_number(text: str) -> int | None:
    """一 … 九十九 as an int (the numbering of table rows and items); None for anything else."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _CN_DIGITS.get(tens, 0) if tens else 1
        o = _CN_DIGITS.get(ones, 0) if ones else 0
        return None if (tens and not t) or (ones and not o) else 10 * t + o
    return _CN_DIGITS.get(text) if len(text) == 1 else None
