"""The printed layout of the statutory tables as plain grids, shared by the PDF, HTML and DOCX renderers.

A `Grid` is a list of anchored cells with row/column spans, exactly as the national template prints
them (table 三: 28 x 10 for 2021, 26 x 10 for 2019; table 四: 4 x 15). Keeping the layout in one place
means the three renderers cannot drift apart, and `cut_grid` gives every renderer the same page-break
behaviour (spans cut at the break, no repeated header).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from gongkai.devtools.corpora.synthetic.spec import OTHER_TOTAL_ROW, RenderOptions, ReportSpec
from gongkai.pipeline.schema import ActiveBlock, load_format

CellKind = Literal["caption", "header", "label", "vertical", "note", "number", "empty"]

REQUESTS_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
RESULTS_GROUP = "三、本年度办理结果"
APPLICANTS = "申请人情况"
ORGANISATIONS = "法人或其他组织"
CONTENT = "信息内容"
REVIEW_SUPER = "行政诉讼"


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    text: str
    kind: CellKind
    rowspan: int = 1
    colspan: int = 1
    cell_id: str | None = None  # set on number cells: the statutory cell printed here


@dataclass
class Grid:
    name: str
    n_rows: int
    n_cols: int
    col_weights: list[float]  # relative column widths
    cells: list[GridCell] = field(default_factory=list)
    header_rows: int = 0  # rows belonging to the printed header (not repeated after a break)

    def add(self, cell: GridCell) -> None:
        self.cells.append(cell)

    def at(self, row: int, col: int) -> GridCell | None:
        return next((c for c in self.cells if c.row == row and c.col == col), None)


def cut_grid(grid: Grid, at_row: int) -> tuple[Grid, Grid]:
    """Split before `at_row`. A span crossing the cut keeps its text in the first part; the
    continuation gets an empty bordered cell over the remaining rows (what real PDFs show)."""
    if not 0 < at_row < grid.n_rows:
        raise ValueError(f"cut at row {at_row} outside 1..{grid.n_rows - 1}")
    top = Grid(grid.name, at_row, grid.n_cols, grid.col_weights, header_rows=min(grid.header_rows, at_row))
    bottom = Grid(grid.name, grid.n_rows - at_row, grid.n_cols, grid.col_weights)
    for c in grid.cells:
        end = c.row + c.rowspan
        if end <= at_row:
            top.add(c)
        elif c.row >= at_row:
            bottom.add(replace(c, row=c.row - at_row))
        else:
            top.add(replace(c, rowspan=at_row - c.row))
            bottom.add(GridCell(0, c.col, "", "empty", rowspan=end - at_row, colspan=c.colspan))
    return top, bottom


# ---------------------------------------------------------------- table 二 (active disclosure)

# 6 value sub-columns let blocks of 1, 2 or 3 value columns share one width grid (2019 has 2-column blocks).
_ACTIVE_SUBCOLS = 6


def active_grids(spec: ReportSpec, options: RenderOptions) -> list[Grid]:
    """Table 二 as one small table per 第二十条 item, as in the template."""
    fmt = load_format(spec.format)
    return [_active_block(i, fmt.active_prefix, b, spec, options) for i, b in enumerate(fmt.active_blocks)]


def _active_block(
    index: int, prefix: str, block: ActiveBlock, spec: ReportSpec, options: RenderOptions
) -> Grid:
    n_cols = 1 + _ACTIVE_SUBCOLS
    grid = Grid(
        f"active.{index}", 2 + len(block.rows), n_cols, [2.0] + [1.0] * _ACTIVE_SUBCOLS, header_rows=2
    )
    grid.add(GridCell(0, 0, options.label(block.item), "caption", colspan=n_cols))
    grid.add(GridCell(1, 0, options.label(CONTENT), "header"))
    span = _ACTIVE_SUBCOLS // len(block.columns)
    for j, col in enumerate(block.columns):
        grid.add(GridCell(1, 1 + j * span, options.label(col.label), "header", colspan=span))
    for i, row in enumerate(block.rows, start=2):
        grid.add(GridCell(i, 0, options.label(row.label), "label"))
        for j, col in enumerate(block.columns):
            cid = f"{prefix}.{row.id}.{col.id}"
            grid.add(GridCell(i, 1 + j * span, spec.cells.get(cid, ""), "number", colspan=span, cell_id=cid))
    return grid


# ---------------------------------------------------------------- table 三 (requests)

REQUESTS_HEADER_ROWS = 3


@dataclass(frozen=True)
class _Row:
    row_id: str
    label: str
    group: str | None  # label of the group cell spanning its items, e.g. （三）不予公开
    in_results: bool  # under 三、本年度办理结果


def _requests_rows(spec: ReportSpec, options: RenderOptions) -> list[_Row]:
    fmt = load_format(spec.format)
    groups = {g.id: g.label for g in fmt.requests_groups}
    rows: list[_Row] = []
    single_other_done = False
    for r in fmt.requests_rows:
        prefix = r.id.split(".")[0]
        if prefix == "other" and options.other_single_row:
            if not single_other_done:  # 2021 table printing （六）其他处理 as one row
                rows.append(_Row(OTHER_TOTAL_ROW, groups["other"], None, True))
                single_other_done = True
            continue
        in_results = r.id not in ("new", "carried_in", "carried_out")
        group = groups[prefix] if "." in r.id and r.id != OTHER_TOTAL_ROW else None
        rows.append(_Row(r.id, r.label, group, in_results))
    return rows


def requests_grid(spec: ReportSpec, options: RenderOptions) -> Grid:
    """Table 三 exactly as the template prints it: 3 header rows, then one row per schema row."""
    fmt = load_format(spec.format)
    cols = fmt.requests_columns
    rows = _requests_rows(spec, options)
    lab = options.label
    grid = Grid(
        "requests",
        REQUESTS_HEADER_ROWS + len(rows),
        10,
        [0.75, 2.3, 4.2] + [1.0] * 7,
        header_rows=REQUESTS_HEADER_ROWS,
    )
    grid.add(GridCell(0, 0, lab(REQUESTS_NOTE), "note", rowspan=3, colspan=3))
    grid.add(GridCell(0, 3, lab(APPLICANTS), "header", colspan=7))
    grid.add(GridCell(1, 3, lab(cols[0].label), "header", rowspan=2))
    grid.add(GridCell(1, 4, lab(ORGANISATIONS), "header", colspan=5))
    grid.add(GridCell(1, 9, lab(cols[-1].label), "header", rowspan=2))
    for j, c in enumerate(cols[1:-1], start=4):
        grid.add(GridCell(2, j, lab(c.label), "header"))

    first = REQUESTS_HEADER_ROWS
    result_idx = [i for i, r in enumerate(rows) if r.in_results]
    if result_idx:
        grid.add(GridCell(first + result_idx[0], 0, lab(RESULTS_GROUP), "vertical", rowspan=len(result_idx)))
    i = 0
    while i < len(rows):
        r = rows[i]
        gr = first + i
        if r.group is not None:  # a group label spanning its items, e.g. （三）不予公开 over 8 rows
            n = 1
            while i + n < len(rows) and rows[i + n].group == r.group:
                n += 1
            grid.add(GridCell(gr, 1, lab(r.group), "label", rowspan=n))
            for k in range(n):
                grid.add(GridCell(gr + k, 2, lab(rows[i + k].label), "label"))
                _number_cells(grid, gr + k, rows[i + k].row_id, spec)
            i += n
            continue
        if r.in_results:  # （一）（二）（六 as one row）（七）: label over columns 1-2
            grid.add(GridCell(gr, 1, lab(r.label), "label", colspan=2))
        else:  # 一、二、四、: label over columns 0-2
            grid.add(GridCell(gr, 0, lab(r.label), "label", colspan=3))
        _number_cells(grid, gr, r.row_id, spec)
        i += 1
    return grid


def _number_cells(grid: Grid, row: int, row_id: str, spec: ReportSpec) -> None:
    for j, c in enumerate(load_format(spec.format).requests_columns, start=3):
        cid = f"requests.{row_id}.{c.id}"
        grid.add(GridCell(row, j, spec.cells.get(cid, ""), "number", cell_id=cid))


# ---------------------------------------------------------------- table 四 (appeals)


def appeals_grid(spec: ReportSpec, options: RenderOptions) -> Grid:
    """Table 四: 3 header rows and one data row of 15 numbers."""
    fmt = load_format(spec.format)
    groups, fields = fmt.appeals_groups, fmt.appeals_fields
    lab = options.label
    nf = len(fields)
    grid = Grid("appeals", 4, 3 * nf, [1.0] * (3 * nf), header_rows=3)
    grid.add(GridCell(0, 0, lab(groups[0].label), "header", colspan=nf))
    grid.add(GridCell(0, nf, lab(REVIEW_SUPER), "header", colspan=2 * nf))
    for j, f in enumerate(fields):
        grid.add(GridCell(1, j, lab(f.label), "header", rowspan=2))
    for g_index, g in enumerate(groups[1:], start=1):
        grid.add(GridCell(1, g_index * nf, lab(g.label), "header", colspan=nf))
        for j, f in enumerate(fields):
            grid.add(GridCell(2, g_index * nf + j, lab(f.label), "header"))
    for g_index, g in enumerate(groups):
        for j, f in enumerate(fields):
            cid = f"appeals.{g.id}.{f.id}"
            grid.add(GridCell(3, g_index * nf + j, spec.cells.get(cid, ""), "number", cell_id=cid))
    return grid


def printed_cell_ids(spec: ReportSpec, options: RenderOptions) -> list[str]:
    """Every cell id the rendered document prints, in reading order."""
    grids = [*active_grids(spec, options), requests_grid(spec, options), appeals_grid(spec, options)]
    return [c.cell_id for g in grids for c in sorted(g.cells, key=lambda c: (c.row, c.col)) if c.cell_id]
