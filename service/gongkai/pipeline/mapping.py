"""Schema mapping: table grids → statutory cell ids, by row and column labels (not position).

Each reading keeps its provenance (page, bbox, text source) and how the label was matched, which
feeds the cell's confidence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass, field

from gongkai.pipeline.confidence import (
    LABEL_BY_POSITION,
    LABEL_EXACT,
    LABEL_FUZZY,
    LABEL_KEY,
    LABEL_ORDINAL,
    LABEL_OTHER_GROUP,
    LABEL_UNREAD_GROUP,
    LABEL_VARIANT,
    TEXT_LAYER_READING,
)
from gongkai.pipeline.datamodel import BBox, GridCell, TableGrid, TextSource
from gongkai.pipeline.labels import cn_number, fold_width, leading_ordinal, normalize_label
from gongkai.pipeline.numbers import ParsedNumber, looks_numeric, parse_number
from gongkai.pipeline.schema import ActiveBlock, Label, ReportFormat

# How similar (difflib ratio) a printed label must be to a schema label to be a fuzzy match.
_FUZZY_SIMILARITY = 0.8


@dataclass
class CellReading:
    """One statutory cell as read from a table, before reconciliation."""

    cell_id: str
    raw: str
    parsed: ParsedNumber
    page: int | None
    bbox: BBox | None
    source: TextSource
    match: float  # label-match factor (confidence.LABEL_*)
    ocr_confidence: float = TEXT_LAYER_READING
    # OCR: the recogniser's top readings (text, probability), best first; the repair stage may
    # return a copy with another candidate in ``parsed`` that names the check in ``repaired_by``.
    candidates: list[tuple[str, float]] = field(default_factory=list)
    repaired_by: str | None = None


@dataclass
class MappingResult:
    readings: dict[str, CellReading] = field(default_factory=dict)
    # Numbers printed on group rows (（三）不予公开 …) or a single （六）其他处理 row in a 2021 table:
    # kept as requests.<group>.total.<column>, used by the subtotal checks.
    extra: dict[str, CellReading] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, reading: CellReading, *, extra: bool = False) -> None:
        target = self.extra if extra else self.readings
        if reading.cell_id in target:
            self.warnings.append(f"{reading.cell_id} printed twice; kept the first reading")
            return
        target[reading.cell_id] = reading

    def with_readings(self, replacements: Mapping[str, CellReading]) -> MappingResult:
        """A new result with ``replacements`` (e.g. repaired readings) in place of the readings of
        the same cell ids (a statutory reading before an extra one); this one is not changed."""

        def replaced(readings: dict[str, CellReading], skip: Container[str]) -> dict[str, CellReading]:
            return {
                cid: replacements[cid] if cid in replacements and cid not in skip else r
                for cid, r in readings.items()
            }

        return MappingResult(
            readings=replaced(self.readings, ()),
            extra=replaced(self.extra, self.readings),
            warnings=list(self.warnings),
        )


def _reading(cell_id: str, cell: GridCell | None, source: TextSource, match: float, kind: str) -> CellReading:
    raw = cell.text if cell else ""
    return CellReading(
        cell_id=cell_id,
        raw=raw,
        parsed=parse_number(raw, kind=kind),
        page=cell.page if cell else None,
        bbox=cell.bbox if cell else None,
        source=cell.source or source if cell else source,
        match=match,
        ocr_confidence=cell.confidence if cell else TEXT_LAYER_READING,
        candidates=list(cell.candidates) if cell else [],
    )


def _label_score(text: str, label: Label) -> float:
    """How well a normalised printed label names a schema label (0 = not at all)."""
    if not text:
        return 0.0
    if any(normalize_label(x) in text for x in label.exclude):
        return 0.0
    for lab in label.all_labels:
        n = normalize_label(lab)
        if text == n:
            return LABEL_EXACT
    if label.exact:
        return 0.0
    for lab in label.all_labels:
        n = normalize_label(lab)
        if n and (n in text or (text in n and len(text) >= max(2, len(n) - 2))):
            return LABEL_VARIANT
    if any(normalize_label(k) in text for k in label.keys):
        return LABEL_KEY
    best = max(difflib.SequenceMatcher(None, text, normalize_label(lab)).ratio() for lab in label.all_labels)
    return LABEL_FUZZY if best >= _FUZZY_SIMILARITY else 0.0


def _best_label(text: str, labels: tuple[Label, ...]) -> tuple[Label | None, float]:
    best: tuple[Label | None, float] = (None, 0.0)
    for lab in labels:
        s = _label_score(text, lab)
        if s > best[1]:
            best = (lab, s)
    return best


def _ordinal_number(text: str) -> int | None:
    o = leading_ordinal(text)
    if not o:
        return None
    digits = re.sub(r"\D", "", o)
    if digits:
        return int(digits)
    return cn_number(re.sub(r"[^一二三四五六七八九十]", "", o))


# ----------------------------------------------------------------------------------------------
# table 三
# ----------------------------------------------------------------------------------------------


def _is_numeric_row(row: list[GridCell | None], min_numbers: int = 3) -> bool:
    seen: set[int] = set()
    n = 0
    for c in row:
        if c is None or id(c) in seen:
            continue
        seen.add(id(c))
        t = c.text.strip()
        if t and looks_numeric(t):
            n += 1
    return n >= min_numbers


def map_requests(table: TableGrid, fmt: ReportFormat, out: MappingResult) -> None:
    m = table.matrix()
    if not m:
        return
    first_row_label = fmt.requests_rows[0]
    # Header rows: everything above the first row that carries numbers or names 本年新收.
    header_end = 0
    for r, row in enumerate(m):
        label_text = normalize_label("".join(c.text for c in _distinct(row) if not looks_numeric(c.text)))
        if _is_numeric_row(row) or (
            label_text and _label_score(label_text, first_row_label) >= LABEL_VARIANT
        ):
            header_end = r
            break
    col_map: dict[int, Label] = {}
    col_factor: dict[int, float] = {}  # lowered where a column is known by position only
    for j in range(table.n_cols):
        leaf = next(
            (c for c in (m[r][j] for r in range(header_end - 1, -1, -1)) if c is not None and c.text.strip()),
            None,
        )
        if leaf is None or (leaf.col_span > 1 and leaf.row_span >= header_end):
            continue  # the spanning corner note
        lab, score = _best_label(normalize_label(leaf.text), fmt.requests_columns)
        if lab is not None and score >= LABEL_VARIANT and lab not in col_map.values():
            col_map[j] = lab
    if len(col_map) < len(fmt.requests_columns):
        # Header lost (a continuation page only) or partly unreadable (OCR): the numeric columns
        # in the schema's order, when that order agrees with every column known by its label.
        numeric_cols = _numeric_columns(m, header_end)
        by_position = dict(zip(numeric_cols, fmt.requests_columns, strict=False))
        if len(numeric_cols) == len(fmt.requests_columns) and all(
            by_position.get(j) is lab for j, lab in col_map.items()
        ):
            guessed = [lab.label for j, lab in by_position.items() if j not in col_map]
            col_factor = {j: LABEL_BY_POSITION for j in by_position if j not in col_map}
            col_map = by_position
            if len(guessed) == len(fmt.requests_columns):
                out.warnings.append("table 三: column header not found; columns mapped by position")
            else:
                out.warnings.append(
                    f"table 三: column header unreadable, mapped by position: {', '.join(guessed)}"
                )
        else:
            missing = [c.label for c in fmt.requests_columns if c not in col_map.values()]
            out.warnings.append(f"table 三: columns not found: {', '.join(missing)}")
    if not col_map:
        return
    first_value_col = min(col_map)
    group_defs = fmt.requests_groups
    row_defs = fmt.requests_rows
    used: set[str] = set()
    for r in range(header_end, table.n_rows):
        labels = [c for c in _distinct(m[r][:first_value_col]) if c.text.strip()]
        if not labels:
            continue
        leaf_text = normalize_label(labels[-1].text)
        context = [normalize_label(c.text) for c in labels[:-1]]
        row_def, score = _match_row(leaf_text, labels[-1].text, context, row_defs, group_defs, used, fmt)
        if row_def is None:
            group, gscore = _best_label(leaf_text, group_defs)
            if group is not None and gscore >= LABEL_VARIANT and _row_has_numbers(m[r], col_map):
                for j, col in col_map.items():
                    cid = f"requests.{group.id}.total.{col.id}"
                    out.add(_reading(cid, m[r][j], table.source, gscore, "int"), extra=True)
            elif _row_has_numbers(m[r], col_map):
                out.warnings.append(f"table 三: row label not recognised: {labels[-1].text.strip()!r}")
            continue
        used.add(row_def.id)
        for j, col in col_map.items():
            cid = f"requests.{row_def.id}.{col.id}"
            statutory = cid in fmt.cells
            factor = score * col_factor.get(j, 1.0)
            out.add(_reading(cid, m[r][j], table.source, factor, "int"), extra=not statutory)


def _row_has_numbers(row: list[GridCell | None], col_map: dict[int, Label]) -> bool:
    return any(row[j] is not None and row[j].text.strip() for j in col_map)  # type: ignore[union-attr]


def _numeric_columns(m: list[list[GridCell | None]], start: int) -> list[int]:
    """Columns whose filled cells are numbers (a column of empty label cells is not one)."""
    cols = []
    for j in range(len(m[0])):
        texts = [
            c.text.strip()
            for c in (m[r][j] for r in range(start, len(m)))
            if c is not None and c.text.strip()
        ]
        if texts and sum(looks_numeric(t) for t in texts) >= 0.8 * len(texts):
            cols.append(j)
    return cols


def _match_row(
    leaf: str,
    leaf_raw: str,
    context: list[str],
    rows: tuple[Label, ...],
    groups: tuple[Label, ...],
    used: set[str],
    fmt: ReportFormat,
) -> tuple[Label | None, float]:
    ctx = "|".join(context)
    # Does the context name any group at all? An OCR-damaged group label (异杼 for （三）不予公开)
    # names none, and then the row's own words decide, a little less surely.
    names_a_group = any(
        _in_context(g.label, ctx) or any(normalize_label(k) in ctx for k in g.keys) for g in groups
    )
    # A label that names a group (（三）不予公开 …) is not a data row of its own, except in 2019
    # where （六）其他处理 is the data row other.total.
    best: tuple[Label | None, float] = (None, 0.0)
    for row in rows:
        if row.id in used:
            continue
        s = _label_score(leaf, row)
        if (
            s
            and row.group
            and row.group not in ("本年度办理结果",)
            and context
            and not _in_context(row.group, ctx)
        ):
            if names_a_group:
                # Same words under another group (3.其他 under （六）only) — not this row.
                s = s * LABEL_OTHER_GROUP if not row.exact else 0.0
            else:
                s *= LABEL_UNREAD_GROUP
        if s > best[1]:
            best = (row, s)
    if best[0] is not None and best[1] >= LABEL_FUZZY:
        return best
    # A damaged label (typo, OCR): the item's ordinal inside its group names it.
    number = _ordinal_number(leaf_raw)
    if number is not None and context:
        for g in groups:
            if _in_context(normalize_label(g.label), ctx) or any(normalize_label(k) in ctx for k in g.keys):
                items = [r for r in rows if r.group and normalize_label(r.group) in normalize_label(g.label)]
                if 1 <= number <= len(items) and items[number - 1].id not in used:
                    return items[number - 1], LABEL_ORDINAL
    return None, 0.0


def _in_context(group: str, ctx: str) -> bool:
    return normalize_label(group) in ctx


def _distinct(row: list[GridCell | None]) -> list[GridCell]:
    out: list[GridCell] = []
    for c in row:
        if c is not None and (not out or c is not out[-1]) and c not in out:
            out.append(c)
    return out


# ----------------------------------------------------------------------------------------------
# table 四
# ----------------------------------------------------------------------------------------------


def map_appeals(table: TableGrid, fmt: ReportFormat, out: MappingResult) -> None:
    m = table.matrix()
    data_rows = [r for r in range(table.n_rows) if _is_numeric_row(m[r], min_numbers=10)]
    if not data_rows:
        # Many blank cells: the data row is the row right under the leaf header (结果维持 … 尚未审结),
        # provided it holds no words.
        leaf = [
            r
            for r in range(table.n_rows)
            if any(c is not None and "审结" in normalize_label(c.text) for c in m[r])
        ]
        below = leaf[-1] + 1 if leaf else table.n_rows
        if below < table.n_rows and all(looks_numeric(c.text) for c in _distinct(m[below])):
            data_rows = [below]
    if not data_rows:
        out.warnings.append("table 四: no data row of numbers found")
        return
    data_r = data_rows[0]
    if len(data_rows) > 1:
        out.warnings.append("table 四: several numeric rows; the first was used")
    mapped = 0
    for j in range(table.n_cols):
        path = [normalize_label(m[r][j].text) for r in range(data_r) if m[r][j] is not None]  # type: ignore[union-attr]
        if not path:
            continue
        joined = "|".join(path)
        group = _appeals_group(joined, fmt)
        field_label, score = _best_label(path[-1], fmt.appeals_fields)
        if group is None or field_label is None:
            continue
        cell = m[data_r][j]
        if j > 0 and cell is not None and cell is m[data_r][j - 1]:
            continue
        out.add(_reading(f"appeals.{group.id}.{field_label.id}", cell, table.source, score, "int"))
        mapped += 1
    if mapped == 0:
        _map_appeals_by_position(m[data_r], table.source, fmt, out)


def _appeals_group(path: str, fmt: ReportFormat) -> Label | None:
    by_id = {g.id: g for g in fmt.appeals_groups}
    if "复议后起诉" in path:
        return by_id.get("suit_after_review")
    if "直接起诉" in path:
        return by_id.get("suit_direct")
    if "行政复议" in path and "行政诉讼" not in path:
        return by_id.get("review")
    return None


def _map_appeals_by_position(
    row: list[GridCell | None], source: TextSource, fmt: ReportFormat, out: MappingResult
) -> None:
    cells = [c for c in _distinct(row) if c.text.strip() and looks_numeric(c.text)]
    ids = [f"appeals.{g.id}.{f.id}" for g in fmt.appeals_groups for f in fmt.appeals_fields]
    if len(cells) != len(ids):
        out.warnings.append(f"table 四: header not recognised and {len(cells)} numbers instead of {len(ids)}")
        return
    out.warnings.append("table 四: header not recognised; the 15 numbers were mapped in template order")
    for cid, cell in zip(ids, cells, strict=True):
        out.add(_reading(cid, cell, source, LABEL_BY_POSITION, "int"))


# ----------------------------------------------------------------------------------------------
# table 二
# ----------------------------------------------------------------------------------------------


def map_active(tables: list[TableGrid], fmt: ReportFormat, out: MappingResult) -> None:
    """Table 二 is four small blocks (第二十条第（一）（五）（六）（八）项), printed as one table, as
    separate tables, or split across pages: read all their rows in order."""
    blocks = fmt.active_blocks
    current_cols: dict[int, Label] = {}
    current_block: ActiveBlock | None = None
    for table in tables:
        m = table.matrix()
        for r in range(table.n_rows):
            row = _distinct(m[r])
            if not row:
                continue
            first = normalize_label(row[0].text)
            caption = _active_block_by_item(first, blocks)
            if caption is not None and len(row) == 1:
                current_block, current_cols = caption, {}
                continue
            if "信息内容" in first:
                current_cols = {}
                for i, c in enumerate(row[1:]):
                    candidates = (
                        current_block.columns
                        if current_block
                        else tuple(col for b in blocks for col in b.columns)
                    )
                    lab, score = _best_label(normalize_label(c.text), candidates)
                    # A near miss (本年度止件数 read for 本年废止件数) counts where it stands in the
                    # block's own column order.
                    in_place = current_block is not None and i < len(current_block.columns)
                    if lab is not None and (
                        score >= LABEL_VARIANT
                        or (score >= LABEL_FUZZY and in_place and current_block.columns[i] is lab)  # type: ignore[union-attr]
                    ):
                        current_cols[c.col] = lab
                continue
            block_row = None
            for b in blocks if current_block is None else (current_block, *blocks):
                lab, score = _best_label(first, b.rows)
                if lab is not None and score >= LABEL_VARIANT:
                    block_row = (b, lab, score)
                    break
            if block_row is None:
                continue
            b, lab, score = block_row
            cols = current_cols if current_block is b or current_block is None else {}
            if not cols:
                # Header row missing (split table): the block's columns in order.
                values = row[1:]
                cols = {c.col: col for c, col in zip(values, b.columns, strict=False)}
            for c in row[1:]:
                col = cols.get(c.col)
                if col is None or col not in b.columns:
                    continue
                cid = f"{fmt.active_prefix}.{lab.id}.{col.id}"
                out.add(_reading(cid, c, table.source, score, col.type))


def _active_block_by_item(text: str, blocks: tuple[ActiveBlock, ...]) -> ActiveBlock | None:
    t = fold_width(text)
    for b in blocks:
        if normalize_label(b.item) in t:
            return b
    return None
