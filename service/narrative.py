"""Narrative: group paragraphs under the six sections and label them.

Labels here come from the section a paragraph sits in, plus cue words inside section 五 (where
problems and improvements share one section). The trained classifier of the narrative issue
replaces the cue rules; the confidences below say how much each rule is trusted.
"""

from __future__ import annotations

import re

from service.checks import soft_check
from service.layout import Element, ElementKind
from service.reconcile import Check
from service.result import ParagraphLabel, ParagraphOut, SectionOut
from service.schema import ReportFormat

_SECTION_LABEL: dict[str, ParagraphLabel] = {
    "overview": "overview",
    "other_matters": "other_matters",
}
# Cues that a paragraph of section 五 promises improvements rather than admits problems.
_IMPROVEMENT_CUES = re.compile(
    r"下一步|今后|将(?:进一步|继续|切实|加强|不断)|改进措施|改进情况|努力方向|工作打算"
)
_PROBLEM_CUES = re.compile(r"存在|不足|问题|差距|有待|不够|薄弱|不平衡|不均衡")


def build_sections(elements: list[Element], fmt: ReportFormat) -> list[SectionOut]:
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
        label, confidence = label_paragraph(el.text, current.key)
        current.paragraphs.append(
            ParagraphOut(
                text=el.text,
                label=label,
                confidence=confidence,
                page=el.page,
                bbox=[round(v, 2) for v in el.bbox] if el.bbox else None,
            )
        )
    if current.key != "preamble" or current.paragraphs:
        sections.append(current)
    return sections


def label_paragraph(text: str, section_key: str) -> tuple[ParagraphLabel | None, float]:
    if section_key in _SECTION_LABEL:
        return _SECTION_LABEL[section_key], 0.9
    if section_key == "problems_improvements":
        improve, problem = bool(_IMPROVEMENT_CUES.search(text)), bool(_PROBLEM_CUES.search(text))
        if improve and not problem:
            return "improvements", 0.8
        if problem and not improve:
            return "problems", 0.8
        # Mixed paragraphs: the cue that comes first usually names what the paragraph leads with.
        first_improve = _IMPROVEMENT_CUES.search(text)
        first_problem = _PROBLEM_CUES.search(text)
        if first_improve and first_problem:
            return (
                ("problems", 0.55)
                if first_problem.start() < first_improve.start()
                else ("improvements", 0.55)
            )
        return "problems", 0.5
    if section_key == "preamble":
        return "overview", 0.6
    return None, 0.0


def section_checks(sections: list[SectionOut], fmt: ReportFormat) -> list[Check]:
    """Soft check: the format's six headings are present and in order."""
    expected = [s.key for s in fmt.sections]
    found = [s.key for s in sections if s.key in expected]
    missing = [k for k in expected if k not in found]
    in_order = found == sorted(found, key=expected.index)
    if fmt.id == "legacy":
        return []
    ok = not missing and in_order
    msg = (
        "六个部分齐全且顺序正确"
        if ok
        else (f"缺少部分：{'、'.join(missing)}" if missing else "各部分顺序与格式不一致")
    )
    return [soft_check("sections.order", ok, msg, [])]
