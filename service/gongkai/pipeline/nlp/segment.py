"""Chinese segmentation: jieba with the domain dictionary, inside a spaCy ``zh`` pipeline.

The spaCy pipeline's segmenter is jieba (never pkuseg, which would download a model). An
EntityRuler marks quantities with their unit (3585 条, 21 件, 0 元, 1.5 万元, 160 人次, 2 起) as
``QUANTITY`` entities. Everything loads once per process; jieba itself is shared with spaCy, so the
user dictionary applies to both.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

USER_DICT = Path(__file__).with_name("userdict.txt")
UNITS: tuple[str, ...] = ("条", "件", "次", "万元", "元", "人次", "起", "篇", "期", "场", "个")
_NUMBER = r"\d+(?:\.\d+)?"
_NUM_UNIT = re.compile(rf"^({_NUMBER})({'|'.join(sorted(UNITS, key=len, reverse=True))})$")
_lock = threading.Lock()


class NlpUnavailable(ImportError):
    """The ``nlp`` extra (jieba, spacy) or the domain dictionary is not installed."""


@lru_cache(maxsize=1)
def _jieba() -> Any:
    try:
        import jieba
    except ImportError as exc:
        raise NlpUnavailable("jieba is not installed (pip install 'gongkai[nlp]')") from exc
    if not USER_DICT.is_file():
        raise NlpUnavailable(f"the domain dictionary {USER_DICT} is missing from the installation")
    jieba.setLogLevel(logging.WARNING)
    with _lock:
        jieba.initialize()
        jieba.load_userdict(str(USER_DICT))
    return jieba


def words(text: str) -> list[str]:
    """jieba's words (precise mode, domain dictionary), whitespace dropped."""
    return [w for w in _jieba().lcut(text, cut_all=False) if w.strip()]


def quantity_patterns() -> list[dict[str, Any]]:
    """EntityRuler patterns: a number token then a unit token, or one token holding both."""
    units = list(UNITS)
    return [
        {"label": "QUANTITY", "pattern": [{"TEXT": {"REGEX": rf"^{_NUMBER}$"}}, {"TEXT": {"IN": units}}]},
        {"label": "QUANTITY", "pattern": [{"TEXT": {"REGEX": _NUM_UNIT.pattern}}]},
    ]


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """spaCy ``zh`` with jieba as its segmenter and the quantity EntityRuler."""
    _jieba()  # the dictionary must be in jieba before spaCy's tokenizer first uses it
    try:
        import spacy
    except ImportError as exc:
        raise NlpUnavailable("spaCy is not installed (pip install 'gongkai[nlp]')") from exc
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(quantity_patterns())  # type: ignore[attr-defined]
    return nlp


@dataclass(frozen=True)
class Quantity:
    value: str  # the digits as printed (NFKC-folded)
    unit: str
    start: int  # character offsets in the text given to ``quantities``
    end: int


def quantities(text: str) -> list[Quantity]:
    """Numbers with units in ``text``, found by the spaCy EntityRuler."""
    doc = pipeline()(text)
    out: list[Quantity] = []
    for ent in doc.ents:
        if ent.label_ != "QUANTITY":
            continue
        joined = "".join(t.text for t in ent if not t.is_space)
        m = _NUM_UNIT.match(joined)
        if m:
            out.append(Quantity(m.group(1), m.group(2), ent.start_char, ent.end_char))
    return out
