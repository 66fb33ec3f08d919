"""Paragraph and sentence labels for one section: headings where they decide, the classifier where not.

- Headings 一 (and the legacy work-report sections 二/三/四) → ``overview``; 六 (and legacy fees) →
  ``other_matters``: every sentence takes the section's label.
- Inside 五 problems and improvements share the section, often one paragraph: the classifier labels
  each sentence, restricted to those two labels.
- Without a usable heading (legacy reports, a missing heading): the classifier over all four labels.
- Without the classifier (the ``nlp`` extra absent): cue-word rules, with low confidences.

A paragraph's label is the label of most of its characters (ties: the label that comes first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gongkai.pipeline.nlp.classifier import SentenceClassifier
from gongkai.pipeline.nlp.text import LABELS, NO_SECTION, majority_label, section_contexts, section_tag

HEADING_CONFIDENCE = 0.9
PREAMBLE_CONFIDENCE = 0.6
_PI_LABELS = ("problems", "improvements")
_IMPROVEMENT_CUES = re.compile(
    r"下一步|今后|明年|将(?:进一步|继续|切实|加强|不断|从|重点|着力)|改进措施|改进情况|努力方向|工作打算"
)
_PROBLEM_CUES = re.compile(r"存在|不足|问题|差距|有待|不够|薄弱|不平衡|不均衡|短板")


@dataclass
class SentenceLabel:
    text: str
    label: str
    confidence: float


@dataclass
class ParagraphLabelling:
    label: str
    confidence: float
    sentences: list[SentenceLabel]


def label_section(
    section_key: str | None,
    paragraphs: Sequence[Sequence[str]],
    classifier: SentenceClassifier | None,
    *,
    document_has_headings: bool = True,
) -> list[ParagraphLabelling]:
    """Labels for each paragraph (given as its sentences) of one section."""
    tag = section_tag(section_key)
    if tag in ("[SEC_OV]", "[SEC_OM]") or (section_key == "preamble" and document_has_headings):
        label = "other_matters" if tag == "[SEC_OM]" else "overview"
        conf = PREAMBLE_CONFIDENCE if section_key == "preamble" else HEADING_CONFIDENCE
        return [_uniform(sentences, label, conf) for sentences in paragraphs]
    allowed = _PI_LABELS if section_key == "problems_improvements" else LABELS
    key = section_key if tag != NO_SECTION else None
    if classifier is None:
        return [_by_cues(sentences, allowed) for sentences in paragraphs]
    contexts = section_contexts([list(s) for s in paragraphs], key)
    flat = [c for row in contexts for c in row]
    probs = classifier.predict_proba(flat) if flat else np.zeros((0, len(LABELS)))
    keep = np.array([lab in allowed for lab in LABELS])
    out: list[ParagraphLabelling] = []
    k = 0
    for sentences in paragraphs:
        labelled: list[SentenceLabel] = []
        for s in sentences:
            p = np.where(keep, probs[k], 0.0)
            p = p / p.sum() if p.sum() > 0 else keep / keep.sum()
            j = int(p.argmax())
            labelled.append(SentenceLabel(s, LABELS[j], round(float(p[j]), 4)))
            k += 1
        out.append(_paragraph(labelled))
    return out


def _uniform(sentences: Sequence[str], label: str, conf: float) -> ParagraphLabelling:
    return ParagraphLabelling(label, conf, [SentenceLabel(s, label, conf) for s in sentences])


def _paragraph(sentences: list[SentenceLabel]) -> ParagraphLabelling:
    if not sentences:
        return ParagraphLabelling("overview", 0.0, [])
    weights = [max(1, len(s.text)) for s in sentences]
    label = majority_label([s.label for s in sentences], weights)
    # Confidence: the share of characters carrying the label times their mean sentence confidence.
    mine = [(s, w) for s, w in zip(sentences, weights, strict=True) if s.label == label]
    share = sum(w for _, w in mine) / sum(weights)
    mean = sum(s.confidence * w for s, w in mine) / sum(w for _, w in mine)
    return ParagraphLabelling(label, round(share * mean, 4), sentences)


def _by_cues(sentences: Sequence[str], allowed: Sequence[str]) -> ParagraphLabelling:
    """The interim rules: improvement cues carry over to later sentences; otherwise problem cues."""
    out: list[SentenceLabel] = []
    forward = False
    for s in sentences:
        forward = forward or bool(_IMPROVEMENT_CUES.search(s))
        if forward:
            label, conf = "improvements", 0.55
        elif _PROBLEM_CUES.search(s):
            label, conf = "problems", 0.55
        else:
            label, conf = (
                ("problems", 0.4) if "problems" in allowed and len(allowed) == 2 else ("overview", 0.4)
            )
        out.append(SentenceLabel(s, label if label in allowed else allowed[0], conf))
    return _paragraph(out)
