"""Legacy reports (2008–2018): the 指标 / 单位 / 统计数 statistics table as key/value cells.

There was no national table before 2014 and the 2014–2018 one varied by province, so cells are
keyed by the label as printed (``legacy.<label without whitespace>``) rather than by fixed ids, and
the sums the table implies (a numbered total over its numbered items) are soft checks
(gongkai.pipeline.checks.legacy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gongkai.pipeline.confidence import LABEL_VARIANT
from gongkai.pipeline.datamodel import GridCell, TableGrid
from gongkai.pipeline.labels import cn_number, fold_width, leading_ordinal
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import looks_numeric, parse_number

_VALUE_HEADERS = ("统计数", "数量", "本年", "本期", "合计", "数值", "本年累计", "本期实际")
_UNIT_HEADERS = ("单位", "计量单位")
_UNITS = ("条", "件", "次", "篇", "个", "人", "人次", "万元", "元", "项", "期", "家")


@dataclass
class LegacyRow:
    cell_id: str
    label: str
    level: int  # 1 = 一、, 2 = （一）, 3 = 1., 4 = 其中; 0 = no ordinal
    unit: str | None


def legacy_cell_id(label: str) -> str:
    return "legacy." + re.sub(r"\s+", "", label)  # as printed: truth files key them the same way


def _level(label: str) -> int:
    t = re.sub(r"\s+", "", fold_width(label))
    if t.startswith("其中"):
        return 4
    o = leading_ordinal(t)
    if o is None:
        return 0
    if re.match(r"^[一二三四五六七八九十]+[、.,]", o):
        return 1
    if o.startswith("("):
        return 2
    return 3


_TOP_ORDINAL = re.compile(r"^([一二三四五六七八九十]{1,3})([、.,，．]?)")


def _top_number(label: str) -> int | None:
    m = _TOP_ORDINAL.match(label)
    return cn_number(m.group(1)) if m else None


def restore_ordinal_mark(label: str, previous_top: int | None) -> str:
    """``六申诉案件数`` → ``六、申诉案件数`` when the row before was numbered 五: OCR often drops
    the 、 (or reads it as a comma or full stop). Only the number that continues the sequence is
    taken as an ordinal, so a label that merely starts with a numeral (一般…) is left alone."""
    m = _TOP_ORDINAL.match(label)
    if m is None or m.group(2) == "、" or previous_top is None:
        return label
    if cn_number(m.group(1)) != previous_top + 1:
        return label
    return m.group(1) + "、" + label[m.end() :]


def map_legacy(tables: list[TableGrid], out: MappingResult) -> list[LegacyRow]:
    """Rows of every 指标 table: label (first text cell), unit, value (the value column)."""
    rows: list[LegacyRow] = []
    for table in tables:
        m = table.matrix()
        value_col, unit_col, header_end = _columns(m)
        previous_top: int | None = None
        for r in range(header_end, table.n_rows):
            row = m[r]
            label_cell = next(
                (c for c in row if c is not None and c.text.strip() and not looks_numeric(c.text)), None
            )
            if label_cell is None or (unit_col is not None and label_cell is row[unit_col]):
                continue
            value_cell = _value_cell(row, value_col, label_cell)
            label = restore_ordinal_mark(re.sub(r"\s+", "", label_cell.text), previous_top)
            if _level(label) == 1:
                previous_top = _top_number(label)
            unit = row[unit_col].text.strip() if unit_col is not None and row[unit_col] is not None else None  # type: ignore[union-attr]
            cid = legacy_cell_id(label)
            rows.append(LegacyRow(cid, label, _level(label), unit or None))
            if value_cell is None:
                continue  # a heading row such as 一、主动公开情况
            kind = "decimal" if unit in ("万元", "元") else "int"
            reading = CellReading(
                cell_id=cid,
                raw=value_cell.text,
                parsed=parse_number(value_cell.text, kind=kind),
                page=value_cell.page,
                bbox=value_cell.bbox,
                source=table.source,
                match=LABEL_VARIANT,  # keyed by the label as printed
                ocr_confidence=value_cell.confidence,
            )
            out.add(reading)
    return rows


def _columns(m: list[list[GridCell | None]]) -> tuple[int | None, int | None, int]:
    for r, row in enumerate(m[:3]):
        texts = [re.sub(r"\s+", "", c.text) if c is not None else "" for c in row]
        value_col = next(
            (j for j, t in enumerate(texts) if any(h == t or t.startswith(h) for h in _VALUE_HEADERS)), None
        )
        unit_col = next((j for j, t in enumerate(texts) if t in _UNIT_HEADERS), None)
        if value_col is not None or unit_col is not None:
            return value_col, unit_col, r + 1
    return None, None, 0


def _value_cell(row: list[GridCell | None], value_col: int | None, label: GridCell) -> GridCell | None:
    if value_col is not None:
        cell = row[value_col]
        return cell if cell is not None and cell is not label and cell.text.strip() else None
    # No header: the last numeric cell of the row.
    numeric = [
        c for c in row if c is not None and c is not label and c.text.strip() and looks_numeric(c.text)
    ]
    return numeric[-1] if numeric else None
