"""Tables: join a table that breaks across pages, and classify tables by what they hold."""

from __future__ import annotations

from dataclasses import replace

from gongkai.pipeline.datamodel import Element, ElementKind, GridCell, TableGrid
from gongkai.pipeline.geometry import snap_positions
from gongkai.pipeline.labels import normalize_label
from gongkai.pipeline.numbers import looks_numeric

# Column boundaries of two parts of one table agree within this many points.
COLUMN_TOLERANCE = 4.0


def join_page_breaks(elements: list[Element]) -> list[Element]:
    """Merge a table that ends a page with the table that starts the next page when their columns
    line up: table 三 often breaks without a repeated header, and table 四's header and data row can
    fall on different pages."""
    out: list[Element] = []
    for el in elements:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == ElementKind.TABLE
            and el.kind == ElementKind.TABLE
            and prev.table is not None
            and el.table is not None
            and el.page == prev.pages[-1] + 1
            and columns_compatible(prev.table, el.table)
        ):
            prev.table = join_tables(prev.table, el.table)
            prev.pages.append(el.page)
            continue
        if (
            prev is not None
            and prev.kind == ElementKind.TABLE
            and el.kind == ElementKind.TABLE
            and prev.table is not None
            and el.table is not None
            and flow_continuation(prev.table, el.table)
        ):
            prev.table = stack_tables(prev.table, el.table)
            continue
        out.append(el)
    return out


# Words of the statutory tables' headers: a part that starts with them is a table of its own.
TABLE_HEADER_WORDS = ("申请人情况", "自然人", "信息内容", "行政复议", "行政诉讼", "结果维持", "第二十条")


def flow_continuation(a: TableGrid, b: TableGrid) -> bool:
    """In a document without pages (DOCX, HTML) a page break splits a table into two tables one
    after the other, with the same columns and no header on the second."""
    no_geometry = all(c.bbox is None for c in a.cells + b.cells)
    if not no_geometry or a.n_cols != b.n_cols or b.n_rows == 0:
        return False
    first_row = normalize_label("".join(c.text for c in b.cells if c.row == 0))
    return not any(w in first_row for w in TABLE_HEADER_WORDS)


def stack_tables(a: TableGrid, b: TableGrid) -> TableGrid:
    """b's rows under a's, on the same columns."""
    bottom = [replace(c, row=c.row + a.n_rows, source=c.source or b.source) for c in b.cells]
    cells = _merge_cut_cells([replace(c) for c in a.cells], bottom, a.n_rows)
    return TableGrid(a.n_rows + b.n_rows, a.n_cols, cells, a.source, page=a.page, bbox=a.bbox, pages=a.pages)


def _col_edges(t: TableGrid) -> list[float] | None:
    if t.col_edges is not None:
        return t.col_edges
    xs: list[float] = []
    for c in t.cells:
        if c.bbox is None:
            return None
        xs += [c.bbox[0], c.bbox[2]]
    return snap_positions(xs)


def _shift(ea: list[float], eb: list[float]) -> float:
    """How far the second part sits to the right of the first: pages with mirrored margins (or a
    scan placed differently) move the whole table, not its columns."""
    return eb[0] - ea[0]


def columns_compatible(a: TableGrid, b: TableGrid) -> bool:
    ea, eb = _col_edges(a), _col_edges(b)
    if ea is None or eb is None:
        return False
    shift = _shift(ea, eb)
    eb = [x - shift for x in eb]
    if abs(ea[-1] - eb[-1]) > COLUMN_TOLERANCE:
        return False
    small, big = (ea, eb) if len(ea) <= len(eb) else (eb, ea)
    return all(min(abs(x - y) for y in big) <= COLUMN_TOLERANCE for x in small) and len(small) >= 3


def join_tables(a: TableGrid, b: TableGrid) -> TableGrid:
    """Stack b under a on the union of their column boundaries. A merged cell cut by the page break
    (b's cell empty, a's cell ending on a's last row, same columns) becomes one cell again."""
    ea, eb = _col_edges(a), _col_edges(b)
    if ea is None or eb is None:
        # Callers check columns_compatible first, which fails for the same reason.
        raise ValueError("join_tables needs column boundaries (col_edges or cell boxes) on both parts")
    shift = _shift(ea, eb)
    xs = snap_positions(ea + [x - shift for x in eb], tol=COLUMN_TOLERANCE)

    def col_of(x: float) -> int:
        return min(range(len(xs)), key=lambda i: abs(xs[i] - x))

    def regrid(t: TableGrid, row_offset: int, dx: float) -> list[GridCell]:
        edges = t.col_edges
        cells = []
        for c in t.cells:
            if edges is not None and c.col + c.col_span < len(edges):
                # Known boundaries (a joined table's parts sit at different x on their pages).
                x0, x1 = edges[c.col], edges[c.col + c.col_span]
            elif c.bbox is not None:
                x0, x1 = c.bbox[0], c.bbox[2]
            else:
                raise ValueError(f"cell ({c.row}, {c.col}) has neither a box nor column boundaries")
            c0, c1 = col_of(x0 - dx), col_of(x1 - dx)
            moved = replace(
                c, row=c.row + row_offset, col=c0, col_span=max(1, c1 - c0), source=c.source or t.source
            )
            cells.append(moved)
        return cells

    cells = _merge_cut_cells(regrid(a, 0, 0.0), regrid(b, a.n_rows, shift), a.n_rows)
    pages = sorted({*a.pages, *b.pages})
    bbox = a.bbox
    return TableGrid(
        a.n_rows + b.n_rows, len(xs) - 1, cells, a.source, page=a.page, bbox=bbox, pages=pages, col_edges=xs
    )


def _merge_cut_cells(top: list[GridCell], bottom: list[GridCell], split_row: int) -> list[GridCell]:
    """Cells of two stacked parts; a label cell cut by the break is made one cell again.

    Only cells left of the upper part's numbers are labels that can run on; a part without numbers
    (table 四's header rows alone) has none, so an empty value under a header stays a value.
    """
    numeric_cols = [c.col for c in top if c.text.strip() and looks_numeric(c.text)]
    first_value_col = min(numeric_cols) if numeric_cols else 0
    open_cells = {
        (c.col, c.col_span): c
        for c in top
        if c.row + c.row_span == split_row and c.col + c.col_span <= first_value_col
    }
    merged_bottom: list[GridCell] = []
    for c in bottom:
        above = open_cells.get((c.col, c.col_span)) if c.row == split_row else None
        # Only label cells continue: a cell holding a number is a new row's value.
        if above is not None and _continues(above, c):
            above.row_span += c.row_span
            if c.text.strip():
                above.text = above.text + c.text  # a label broken by the break: （四）无 | 法提供
            continue
        merged_bottom.append(c)
    return sorted(top + merged_bottom, key=lambda c: (c.row, c.col))


def _continues(above: GridCell, below: GridCell) -> bool:
    if above.row_span < 2 and below.row_span < 2:
        return False  # single-row cells on both sides are two rows, not one cut cell
    if not below.text.strip():
        return True
    # A label whose end moved to the next page ends without closing punctuation.
    t = normalize_label(above.text)
    return bool(t) and not any(ch.isdigit() for ch in below.text) and not t.endswith((")", "）"))


def classify_table(table: TableGrid) -> str | None:
    """Which statutory table a grid holds: ``active``, ``requests``, ``appeals``, ``legacy`` or None."""
    text = normalize_label("".join(c.text for c in table.cells))
    scores = {
        "requests": sum(
            k in text
            for k in ("申请人情况", "自然人", "本年新收", "上年结转", "予以公开", "不予公开", "无法提供")
        ),
        "appeals": sum(
            k in text for k in ("行政复议", "行政诉讼", "结果维持", "结果纠正", "尚未审结", "直接起诉")
        ),
        "active": sum(
            k in text
            for k in ("第二十条", "信息内容", "规章", "规范性文件", "行政许可", "行政处罚", "行政事业性收费")
        ),
        "legacy": sum(k in text for k in ("指标", "统计数", "计量单位", "单位")),
    }
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] >= 2 else None


def classify_tables(elements: list[Element]) -> list[tuple[Element, str | None]]:
    """Every table element with its kind; a table whose cells do not tell (numbers only, as in a
    flattened table 四) takes the kind of the section it sits in."""
    by_section = {"active": "active", "requests": "requests", "appeals": "appeals"}
    section: str | None = None
    out: list[tuple[Element, str | None]] = []
    for el in elements:
        if el.kind == ElementKind.HEADING:
            section = el.section_key
        elif el.kind == ElementKind.TABLE and el.table is not None:
            out.append((el, classify_table(el.table) or by_section.get(section or "")))
    return out
