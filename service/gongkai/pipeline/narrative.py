"""Narrative: group paragraphs under the report's sections and label paragraphs and sentences.

Section headings decide where they can (一 → overview, 六 → other_matters); inside 五, where
problems and improvements share a section and often a paragraph, and in reports without usable
headings, the trained classifier labels each sentence (gongkai.pipeline.nlp.labeling). The classifier is
loaded once per process; without the ``nlp`` extra or the model files, cue-word rules stand in and
the result says so in its warnings.
"""

from __future__ import annotations

import re
from pathlib import Path

from gongkai.pipeline.datamodel import Element, ElementKind
from gongkai.pipeline.nlp.labeling import label_section
from gongkai.pipeline.nlp.text import split_sentences
from gongkai.pipeline.result import ParagraphOut, SectionOut, SentenceOut
from gongkai.pipeline.schema import ReportFormat


def _classifier_and_note(models_dir: Path | None = None) -> tuple[object | None, str | None]:
    try:
        from gongkai.pipeline.nlp.classifier import default_classifier, load_error
    except ImportError as exc:  # numpy/onnxruntime missing
        return None, f"narrative classifier unavailable ({exc}); using cue rules"
    clf = default_classifier(models_dir)
    return clf, load_error(models_dir)


def build_sections(
    elements: list[Element],
    fmt: ReportFormat,
    warnings: list[str] | None = None,
    *,
    models_dir: Path | None = None,
) -> list[SectionOut]:
    """The report's sections with labelled paragraphs; ``models_dir`` is ``PipelineOptions.models_dir``."""
    sections: list[SectionOut] = []
    current = SectionOut(key="preamble", heading=None, page=None)
    for el in elements:
        if el.kind == ElementKind.HEADING and el.section_key:
            if current.key != "preamble" or current.paragraphs:
                sections.append(current)
            current = SectionOut(key=el.section_key, heading=el.text, page=el.page)
            continue
        if el.kind != ElementKind.PARAGRAPH:
            continue
        current.paragraphs.append(
            ParagraphOut(
                text=el.text,
                label=None,
                confidence=0.0,
                page=el.page,
                bbox=[round(v, 2) for v in el.bbox] if el.bbox else None,
            )
        )
    if current.key != "preamble" or current.paragraphs:
        sections.append(current)
    split_unheaded_problems(sections)
    label_sections(sections, warnings, models_dir=models_dir)
    return sections


# A paragraph that opens a report's problems or plans: 存在的问题 / 仍存在不足 / 下一步 / 今后 at its start.
_OPENS_PROBLEMS = re.compile(
    r"(?<![不无未没])存在(?:的|着)?(?:一些|以下|如下)?(?:主要)?(?:问题|不足|差距)"
    r"|(?:仍|还|尚|依然)(?:然)?存在|(?:问题|不足|差距)(?:和|及|与)(?:改进|建议|措施|打算)"
    r"|针对(?:以上|上述)(?:问题|不足)|(?:将|拟)(?:从|采取)以下"
    r"|^(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d+[、.．])?\s*(?:下一步|今后|明年|下一年度)"
)


def split_unheaded_problems(sections: list[SectionOut]) -> None:
    """Legacy reports sometimes end with their problems and plans under no heading of their own (or
    under one the schema does not know, read as a paragraph): when no section 五 was found, the last
    section's paragraphs from the first one whose opening sentence names problems or plans form a
    ``problems_improvements`` section without a heading, so the classifier labels them."""
    if any(s.key == "problems_improvements" for s in sections):
        return
    last = next((s for s in reversed(sections) if s.paragraphs), None)
    if last is None or last.key == "preamble":
        return  # a report without headings: the classifier reads every paragraph already
    for k, para in enumerate(last.paragraphs):
        opening = (split_sentences(para.text) or [para.text])[0]
        # k ≥ 1: the section's own first paragraph belongs to its heading
        if k >= 1 and _OPENS_PROBLEMS.search(re.sub(r"\s+", "", opening)):
            tail = last.paragraphs[k:]
            del last.paragraphs[k:]
            sections.insert(
                sections.index(last) + 1,
                SectionOut(key="problems_improvements", heading=None, page=tail[0].page, paragraphs=tail),
            )
            return


def label_sections(
    sections: list[SectionOut], warnings: list[str] | None = None, *, models_dir: Path | None = None
) -> None:
    """Fill in paragraph and sentence labels in place."""
    has_headings = any(s.key != "preamble" for s in sections)
    needs_model = any(
        s.paragraphs and (s.key == "problems_improvements" or (s.key == "preamble" and not has_headings))
        for s in sections
    )
    classifier, note = _classifier_and_note(models_dir) if needs_model else (None, None)
    if note and warnings is not None and note not in warnings:
        warnings.append(note)
    for section in sections:
        if not section.paragraphs:
            continue
        split = [split_sentences(p.text) or [p.text] for p in section.paragraphs]
        key = None if section.key == "preamble" and not has_headings else section.key
        try:
            labelled = label_section(key, split, classifier, document_has_headings=has_headings)  # type: ignore[arg-type]
        except ImportError as exc:  # the baseline needs jieba at prediction time
            if warnings is not None:
                warnings.append(f"narrative classifier failed ({exc}); using cue rules")
            labelled = label_section(key, split, None, document_has_headings=has_headings)
        for para, lab in zip(section.paragraphs, labelled, strict=True):
            para.label = lab.label  # type: ignore[assignment]
            para.confidence = lab.confidence
            para.sentences = [
                SentenceOut(text=s.text, label=s.label, confidence=s.confidence)  # type: ignore[arg-type]
                for s in lab.sentences
            ]


def narrative_paragraphs(sections: list[SectionOut]) -> list[tuple[str, int | None]]:
    """(text, page) of every paragraph, for fact extraction."""
    return [(p.text, p.page) for s in sections for p in s.paragraphs]
