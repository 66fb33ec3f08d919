"""Tables printed without ruling lines: rebuild a grid from text lines inside a table section.

Some PDFs draw no rules (or the text layer lost them) and print table rows as plain lines, e.g.
``一、本年新收政府信息公开申请数量 3 0 0 0 0 0 3`` or table 四 flattened into one line of 15 numbers.
Where a table section (二/三/四) has no ruled table, its row-like lines become a grid: the label in
the first column, each number in its own column. The mapper then matches labels as usual and falls
back to template order for the columns, saying so in a warning.
"""

from __future__ import annotations

import re

from gongkai.pipeline.datamodel import Element, ElementKind, GridCell, TableGrid
from gongkai.pipeline.labels import fold_width
from gongkai.pipeline.tables import TABLE_HEADER_WORDS

TABLE_SECTIONS = ("active", "requests", "appeals")
_TOKEN = r"(?:\d[\d,]*(?:\.\d+)?|—|-|/)"
_ROW = re.compile(rf"^(?P<label>.*?[^\d\s,./—-])?\s*(?P<nums>{_TOKEN}(?:\s+{_TOKEN})*)$")
# Header words of the printed tables: a line made of these is a header row, split on spaces.
# 本年 opens the header lines of table 二 (本年制发件数 …) when 信息内容 is not printed.
_HEADER_WORDS = (*TABLE_HEADER_WORDS, "本年")


def recover_text_tables(elements: list[Element]) -> list[Element]:
    section: str | None = None
    has_table: set[str] = set()
    for el in elements:
        if el.kind == ElementKind.HEADING:
            section = el.section_key
        elif el.kind == ElementKind.TABLE and section:
            has_table.add(section)
    out: list[Element] = []
    run: list[Element] = []
    section = None

    def flush() -> None:
        if run and any(_row_cells(e.text)[1] for e in run):
            out.append(_as_table(run, section))
        else:
            out.extend(run)
        run.clear()

    for el in elements:
        if el.kind == ElementKind.HEADING:
            flush()
            section = el.section_key
            out.append(el)
            continue
        if (
            section in TABLE_SECTIONS
            and section not in has_table
            and el.kind == ElementKind.PARAGRAPH
            and _is_row_like(el.text)
        ):
            run.append(el)
            continue
        flush()
        out.append(el)
    flush()
    return out


def _is_row_like(text: str) -> bool:
    t = fold_width(text).strip()
    if len(t) > 120:
        return False  # running prose, not a table row
    if _ROW.match(t):
        return True
    return any(t.startswith(w) for w in _HEADER_WORDS)


def _row_cells(text: str) -> tuple[list[str], list[str]]:
    """(label cells, number cells) of one line."""
    t = fold_width(text).strip()
    m = _ROW.match(t)
    if m:
        label = (m.group("label") or "").strip()
        return ([label] if label else []), m.group("nums").split()
    return t.split(), []


def _as_table(rows: list[Element], section: str | None) -> Element:
    parsed = [_row_cells(e.text) for e in rows]
    if section != "active":
        # Header words of 三/四 do not line up with their numbers once the rules are gone: keep
        # only rows with numbers and one-label rows (group labels), and let the mapper use
        # template order for the columns.
        keep = [i for i, (labels, nums) in enumerate(parsed) if nums or len(labels) == 1]
        rows = [rows[i] for i in keep]
        parsed = [parsed[i] for i in keep]
    width = max(len(lab) + len(nums) for lab, nums in parsed)
    cells: list[GridCell] = []
    for r, ((labels, nums), el) in enumerate(zip(parsed, rows, strict=True)):
        words = labels if not nums else (["".join(labels)] if labels else [])
        # Right-align: numbers (and header words) take the last columns, the first word spans the rest.
        tail = nums if nums else words[1:]
        first = words[0] if words else None
        start = width - len(tail)
        if first is not None:
            cells.append(GridCell(r, 0, first, col_span=max(1, start), bbox=el.bbox, page=el.page))
        for k, text in enumerate(tail):
            cells.append(GridCell(r, start + k, text, bbox=el.bbox, page=el.page))
    grid = TableGrid(
        len(rows), width, cells, rows[0].source, page=rows[0].page, bbox=None, pages=[rows[0].page]
    )
    pages = sorted({e.page for e in rows})
    return Element(ElementKind.TABLE, "", rows[0].page, None, rows[0].source, table=grid, pages=pages)
