"""Tables: join a table that breaks across pages, and classify tables by what they hold."""

from __future__ import annotations

from dataclasses import replace

from service.datamodel import GridCell, TableGrid
from service.ingest.pdf import snap_positions
from service.labels import normalize_label
from service.layout import Element, ElementKind

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
        out.append(el)
    return out


def _col_edges(t: TableGrid) -> list[float] | None:
    xs: list[float] = []
    for c in t.cells:
        if c.bbox is None:
            return None
        xs += [c.bbox[0], c.bbox[2]]
    return snap_positions(xs)


def columns_compatible(a: TableGrid, b: TableGrid) -> bool:
    ea, eb = _col_edges(a), _col_edges(b)
    if ea is None or eb is None:
        return False
    if abs(ea[0] - eb[0]) > COLUMN_TOLERANCE or abs(ea[-1] - eb[-1]) > COLUMN_TOLERANCE:
        return False
    small, big = (ea, eb) if len(ea) <= len(eb) else (eb, ea)
    return all(min(abs(x - y) for y in big) <= COLUMN_TOLERANCE for x in small) and len(small) >= 3


def join_tables(a: TableGrid, b: TableGrid) -> TableGrid:
    """Stack b under a on the union of their column boundaries. A merged cell cut by the page break
    (b's cell empty, a's cell ending on a's last row, same columns) becomes one cell again."""
    ea, eb = _col_edges(a), _col_edges(b)
    assert ea is not None and eb is not None
    xs = snap_positions(ea + eb, tol=COLUMN_TOLERANCE)

    def col_of(x: float) -> int:
        return min(range(len(xs)), key=lambda i: abs(xs[i] - x))

    def regrid(t: TableGrid, row_offset: int) -> list[GridCell]:
        cells = []
        for c in t.cells:
            assert c.bbox is not None
            c0, c1 = col_of(c.bbox[0]), col_of(c.bbox[2])
            cells.append(replace(c, row=c.row + row_offset, col=c0, col_span=max(1, c1 - c0)))
        return cells

    top = regrid(a, 0)
    bottom = regrid(b, a.n_rows)
    last_row = a.n_rows - 1
    open_cells = {(c.col, c.col_span): c for c in top if c.row + c.row_span - 1 == last_row}
    merged_bottom: list[GridCell] = []
    for c in bottom:
        above = open_cells.get((c.col, c.col_span)) if c.row == a.n_rows else None
        # Only label cells continue: a cell holding a number is a new row's value.
        if above is not None and _continues(above, c):
            above.row_span += c.row_span
            if c.text.strip():
                above.text = above.text + c.text  # a label broken by the break: （四）无 | 法提供
            continue
        merged_bottom.append(c)
    cells = sorted(top + merged_bottom, key=lambda c: (c.row, c.col))
    pages = sorted({*a.pages, *b.pages})
    bbox = a.bbox
    return TableGrid(a.n_rows + b.n_rows, len(xs) - 1, cells, a.source, page=a.page, bbox=bbox, pages=pages)


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
