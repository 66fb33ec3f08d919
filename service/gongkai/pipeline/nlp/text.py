"""Sentence splitting and the paragraph context the classifiers see.

Chinese reports end sentences with 。！？ but also chain enumerated points with ；/： (一是……；二是……),
so a semicolon or colon ends a sentence when the next clause opens an enumeration. Nothing inside
《》, “”, 「」 or brackets is ever split.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ParagraphLabelT = str  # one of LABELS
LABELS: tuple[str, ...] = ("overview", "problems", "improvements", "other_matters")

_HARD_END = "。！？!?"
_SOFT_END = "；;：:"
_OPEN = "《“「（(【‘"
_CLOSE = "》”」）)】’"
_TRAILING = "”’」』）)"
# An enumeration opener: 一是/二是, 其一, 第一, （一）, (1), 1、 1． 1.
_ENUM = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|第[一二三四五六七八九十]+[，,、]"
    r"|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}\s*[、．.](?!\d))"
)
# Cues that what follows promises future work (the section-五 turn from problems to improvements).
FORWARD_CUE = re.compile(
    r"下一步|今后|明年|下一年度|接下来|针对(?:上述|以上|存在的?)?问题|改进措施|将从以下|将重点|将着力|打算|努力方向"
    r"|20\d\d年，?(?:我|本)\S{0,6}将"
)


def normalize(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII) with whitespace between CJK characters removed."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; the pieces concatenate back to the stripped input."""
    text = text.strip()
    sentences: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        end_here = False
        if depth == 0 and ch in _CLOSE and i > start and text[i - 1] in _HARD_END:
            end_here = True  # “……。” ends a quoted sentence
        elif (depth == 0 and ch in _HARD_END) or (
            depth == 0 and ch in _SOFT_END and _ENUM.match(text[i + 1 :])
        ):
            end_here = True
        if end_here:
            j = i + 1
            # Keep a closing quote or runs of end marks with the sentence they close.
            while j < len(text) and (text[j] in _TRAILING or text[j] in _HARD_END):
                j += 1
            piece = text[start:j].strip()
            if piece:
                sentences.append(piece)
            start = i = j
            continue
        i += 1
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# Section keys of the schema → the tag the classifier sees. Sections whose prose reports the year's
# work count as overview; fee and other-matters sections as other matters.
SECTION_TAG: dict[str, str] = {
    "overview": "[SEC_OV]",
    "active": "[SEC_OV]",
    "requests": "[SEC_OV]",
    "appeals": "[SEC_OV]",
    "problems_improvements": "[SEC_PI]",
    "fees": "[SEC_OM]",
    "other_matters": "[SEC_OM]",
}
NO_SECTION = "[SEC_NONE]"
CONTEXT_TAGS: tuple[str, ...] = (
    "[SEC_OV]",
    "[SEC_PI]",
    "[SEC_OM]",
    NO_SECTION,
    "[PAR_ONLY]",
    "[PAR_FIRST]",
    "[PAR_MID]",
    "[PAR_LAST]",
    "[SENT_FIRST]",
    "[SENT_NEXT]",
    "[AFTER_CUE]",
)


@dataclass(frozen=True)
class SentenceContext:
    """What the classifier knows about one sentence besides its words."""

    text: str
    section_tag: str
    paragraph_tag: str
    first_in_paragraph: bool
    after_forward_cue: bool

    def tags(self) -> list[str]:
        tags = [
            self.section_tag,
            self.paragraph_tag,
            "[SENT_FIRST]" if self.first_in_paragraph else "[SENT_NEXT]",
        ]
        if self.after_forward_cue:
            tags.append("[AFTER_CUE]")
        return tags


def section_tag(section_key: str | None) -> str:
    return SECTION_TAG.get(section_key or "", NO_SECTION)


def paragraph_tag(index: int, count: int) -> str:
    if count <= 1:
        return "[PAR_ONLY]"
    if index == 0:
        return "[PAR_FIRST]"
    return "[PAR_LAST]" if index == count - 1 else "[PAR_MID]"


def section_contexts(paragraphs: list[list[str]], section_key: str | None) -> list[list[SentenceContext]]:
    """Contexts for every sentence of a section's paragraphs (each paragraph given as its sentences).

    A forward cue (下一步, 今后 …) carries over to the following sentences and paragraphs of the
    same section: in 五, what comes after it is usually the list of improvements.
    """
    tag = section_tag(section_key)
    out: list[list[SentenceContext]] = []
    cue_seen = False
    for p_index, sentences in enumerate(paragraphs):
        p_tag = paragraph_tag(p_index, len(paragraphs))
        row: list[SentenceContext] = []
        for s_index, sentence in enumerate(sentences):
            row.append(SentenceContext(sentence, tag, p_tag, s_index == 0, cue_seen))
            if FORWARD_CUE.search(sentence):
                cue_seen = True
        out.append(row)
    return out


def majority_label(labels: list[str], weights: list[int]) -> str:
    """The label that covers most characters; ties go to the label that comes first."""
    totals: dict[str, int] = {}
    for label, w in zip(labels, weights, strict=True):
        totals[label] = totals.get(label, 0) + w
    best = max(totals.values())
    return next(label for label in labels if totals[label] == best)
