"""Layout: page blocks → elements in reading order (title, headings, paragraphs, tables).

Removes page furniture (running headers/footers, page numbers), joins PDF lines into paragraphs
(also across page breaks), and recognises the six section headings — only outside tables, since
table 三's row labels start with 一、二、三、四、 exactly like headings.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from statistics import median

from gongkai.pipeline.datamodel import (
    BBox,
    BlockType,
    Document,
    Element,
    ElementKind,
    Page,
    TextBlock,
    block_bbox,
)
from gongkai.pipeline.labels import fold_width, leading_ordinal, normalize_label
from gongkai.pipeline.schema import FORMATS, load_format


@dataclass
class LayoutResult:
    elements: list[Element]
    furniture: list[str]  # removed header/footer/page-number texts, for the record


_PAGE_NUMBER = re.compile(
    r"^(?:[-–—－]\s*\d{1,4}\s*[-–—－]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})$"
)
_HEADING = re.compile(r"^\s*([一二三四五六七八九十]{1,3})\s*[、.．,，]\s*(\S.*)$")
# OCR drops the small 、 after a heading's ordinal now and then (五存在的主要问题…): such a line is
# still a heading when the rest is a section's heading text exactly.
_HEADING_UNMARKED = re.compile(r"^\s*([一二三四五六七八九十]{1,3})([^\s、.．,，\d一二三四五六七八九十].*)$")
# Punctuation inside a heading (、 ， ( ) : .) is what OCR most often drops or changes in width.
_HEADING_PUNCT = re.compile(r"[,.:;()\[\]、，。：；（）]")
# A table row printed as text ends in numbers separated by spaces: "规章 0 0 0".
_ROW_END = re.compile(r"\s\d[\d,.]*(?:\s+\d[\d,.]*)+\s*$")
_SENTENCE_END = ("。", "；", "：", ";", ":", "！", "？")
# Margins (fraction of page height) where running headers, footers and page numbers live.
TOP_BAND, BOTTOM_BAND = 0.09, 0.10


def analyze(doc: Document) -> LayoutResult:
    furniture: list[str] = []
    repeated = repeated_margin_texts(doc.pages)
    lines: list[tuple[Page, TextBlock]] = []
    for page in doc.pages:
        for block in page.blocks:
            running = block.type in (str(BlockType.HEADER), str(BlockType.FOOTER), str(BlockType.PAGE_NUMBER))
            if running or (block.type == str(BlockType.LINE) and is_furniture(block, page, repeated)):
                furniture.append(block.text)
                continue
            lines.append((page, block))
    elements = _build_elements(lines)
    _mark_title(elements)
    return LayoutResult(elements, furniture)


def _margin_band(block: TextBlock, page: Page) -> bool:
    if page.height is None:
        return False
    bbox = block_bbox(block)
    if bbox is None:
        return False
    return bbox[1] < page.height * TOP_BAND or bbox[3] > page.height * (1 - BOTTOM_BAND)


# Blocks whose text can recur as a running head. Typed heads count as well as plain lines, so that
# what recurs does not depend on which pages the OCR layout model read (ocr.page.settle_running_lines).
_RUNNING_CANDIDATES = (str(BlockType.LINE), str(BlockType.HEADER), str(BlockType.FOOTER))


def repeated_margin_texts(pages: Sequence[Page]) -> set[str]:
    """Texts in the top/bottom bands that recur on several pages (digits folded): running heads."""
    counts: Counter[str] = Counter()
    for page in pages:
        seen = {
            re.sub(r"\d+", "#", normalize_label(b.text, keep_ordinal=True))
            for b in page.blocks
            if b.type in _RUNNING_CANDIDATES and _margin_band(b, page)
        }
        counts.update(seen)
    needed = 2 if len(pages) >= 2 else 99
    return {t for t, n in counts.items() if n >= needed}


def is_page_number(text: str) -> bool:
    """A page number as printed in a margin: - 3 -, 第 3 页 (共 9 页), 3/9, 3."""
    return bool(_PAGE_NUMBER.match(fold_width(text).strip()))


def is_furniture(block: TextBlock, page: Page, repeated: set[str]) -> bool:
    """A line in the page's margin bands that is a page number or a running head (``repeated``)."""
    if not _margin_band(block, page):
        return False
    if is_page_number(block.text):
        return True
    return re.sub(r"\d+", "#", normalize_label(block.text, keep_ordinal=True)) in repeated


def match_section_heading(text: str) -> str | None:
    """The section key a heading line opens (any format), or None. Anchored on the heading text,
    not on its ordinal alone."""
    folded = fold_width(text).strip()
    m = _HEADING.match(folded)
    if m is None and leading_ordinal(text):
        return None  # （一）… and 1. … open sub-sections, never one of the six sections
    unmarked = None if m else _HEADING_UNMARKED.match(folded)
    bodies = [m.group(2)] if m else [text, *([unmarked.group(2)] if unmarked else [])]
    for body in bodies:
        norm = _heading_form(body)
        if not norm or len(norm) > 40:
            continue
        for key, lab in _section_headings():
            if norm == lab:
                return key
            # Headings sometimes add a few words (…情况概述, 政府信息公开工作…).
            if m and lab in norm and len(norm) - len(lab) <= 8:
                return key
    return None


def _heading_form(text: str) -> str:
    return _HEADING_PUNCT.sub("", normalize_label(text))


@cache
def _section_headings() -> list[tuple[str, str]]:
    """(section key, heading text as compared) of every format's sections, official text first."""
    return [
        (sec.key, _heading_form(label))
        for fmt_id in FORMATS
        for sec in load_format(fmt_id).sections
        for label in (sec.official, *sec.variants)
    ]


def _line_metrics(lines: list[tuple[Page, TextBlock]]) -> tuple[float, float, float]:
    """Body left margin, right margin and font size of PDF lines (medians are robust to titles)."""
    geo: list[tuple[BBox, float]] = []
    for _, b in lines:
        bb = block_bbox(b)
        if b.type == str(BlockType.LINE) and bb is not None:
            geo.append((bb, float(getattr(b, "font_size", 0.0))))
    if not geo:
        return 0.0, 0.0, 0.0
    sizes = [fs for _, fs in geo if fs > 0]
    size = median(sizes) if sizes else 10.0
    lefts = Counter(round(bb[0]) for bb, _ in geo)
    left = float(lefts.most_common(1)[0][0])
    rights = sorted(bb[2] for bb, _ in geo)
    right = rights[int(len(rights) * 0.9)] if rights else 0.0
    return left, right, size


def _build_elements(lines: list[tuple[Page, TextBlock]]) -> list[Element]:
    left, right, size = _line_metrics(lines)
    elements: list[Element] = []
    open_para: Element | None = None  # a PDF paragraph that may continue on the next line
    prev_line_full = prev_row_like = False
    for page, block in lines:
        btype = block.type
        if btype == str(BlockType.TABLE):
            if block.id is None or not 0 <= block.id < len(page.tables):
                # A backend bug, not bad input: the placeholder must index Page.tables.
                raise ValueError(f"table placeholder on page {page.number} has no table (id {block.id!r})")
            table = page.tables[block.id]
            elements.append(
                Element(
                    ElementKind.TABLE,
                    "",
                    page.number,
                    table.bbox,
                    table.source,
                    table=table,
                    pages=[page.number],
                )
            )
            open_para = None
            continue
        text = block.text.strip()
        if not text:
            continue
        bbox = block_bbox(block)
        key = match_section_heading(text)
        if key is not None:
            elements.append(
                Element(
                    ElementKind.HEADING,
                    text,
                    page.number,
                    bbox,
                    page.text_source,
                    section_key=key,
                    pages=[page.number],
                )
            )
            open_para = None
            continue
        if btype != str(BlockType.LINE) or bbox is None:
            elements.append(
                Element(ElementKind.PARAGRAPH, text, page.number, bbox, page.text_source, pages=[page.number])
            )
            open_para = None
            continue
        indented = bbox[0] > left + 1.2 * size
        # An enumerated item or a line after a table-like row (ending in a number) starts anew.
        starts_item = leading_ordinal(text) is not None or _ROW_END.search(text) is not None
        if (
            open_para is not None
            and prev_line_full
            and not indented
            and not starts_item
            and not prev_row_like
        ):
            open_para.text += text
            if page.number not in open_para.pages:
                open_para.pages.append(page.number)
            elif open_para.bbox is not None:
                ob = open_para.bbox
                open_para.bbox = (min(ob[0], bbox[0]), ob[1], max(ob[2], bbox[2]), bbox[3])
        else:
            open_para = Element(
                ElementKind.PARAGRAPH, text, page.number, bbox, page.text_source, pages=[page.number]
            )
            elements.append(open_para)
        # A line that reaches the right margin wraps into the next one; a short line ends the paragraph.
        prev_line_full = bbox[2] >= right - 1.5 * size
        prev_row_like = _ROW_END.search(text) is not None
    return elements


def _mark_title(elements: list[Element]) -> None:
    """The report title: the short lines before the first heading that name the report."""
    first_heading = next((i for i, e in enumerate(elements) if e.kind == ElementKind.HEADING), len(elements))
    candidates = [
        i
        for i, e in enumerate(elements[: min(first_heading, 6)])
        if e.kind == ElementKind.PARAGRAPH
        and len(normalize_label(e.text)) <= 60
        and not e.text.endswith(_SENTENCE_END)
    ]
    title_idx = [
        i for i in candidates if "年度报告" in e_text(elements[i]) or "工作报告" in e_text(elements[i])
    ]
    if not title_idx:
        return
    last = title_idx[0]
    # A title often breaks into agency line + report line: take short lines just before it too.
    start = last
    while start - 1 in candidates and start - 1 >= 0 and len(normalize_label(elements[start - 1].text)) <= 30:
        start -= 1
    parts = [elements[i].text for i in range(start, last + 1)]
    elements[start].kind = ElementKind.TITLE
    elements[start].text = "".join(parts) if all(len(p) < 30 for p in parts) else " ".join(parts)
    del elements[start + 1 : last + 1]


def e_text(e: Element) -> str:
    return normalize_label(e.text)
