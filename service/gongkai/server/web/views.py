"""What the review pages show, built from the schema and the served result (no HTML here).

The statutory tables are laid out as the reports print them: table 二 as its blocks, table 三 with
its three levels of row labels (一、… / 三、本年度办理结果 → （三）不予公开 → 1.属于国家秘密) and its
two levels of column labels, table 四 with 行政复议 and 行政诉讼 over their fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gongkai.pipeline.result import CellOut, CheckOut
from gongkai.pipeline.schema import ReportFormat, load_format
from gongkai.server.review import ServedResult

# A cell is "low confidence" below this (the same threshold the API documents for `review`).
LOW_CONFIDENCE = 0.9
# Checks a reviewer should see first: those that fail, then those that could not be assessed.
_STATUS_ORDER = {"fail": 0, "not_assessable": 1, "warn": 2, "pass": 3}
STATUS_TEXT = {"fail": "Fails", "not_assessable": "Not assessable", "warn": "Warning", "pass": "Passes"}
LABELS = {
    "overview": "Overview 总体情况",
    "problems": "Problems 存在问题",
    "improvements": "Improvements 改进措施",
    "other_matters": "Other matters 其他事项",
}


@dataclass(frozen=True)
class Mark:
    """A way a cell stands out; shown as a symbol and text, never by colour alone."""

    flag: str
    symbol: str
    text: str


MARKS = {
    "corrected": Mark("corrected", "✎", "corrected by a reviewer"),
    "missing": Mark("missing", "∅", "not found in the document"),
    "repaired": Mark("repaired", "R", "repaired by a check"),
    "inferred": Mark("inferred", "Σ", "printed blank, total inferred"),
    "low": Mark("low", "?", "low confidence"),
    "review": Mark("review", "!", "needs review"),
}


@dataclass
class CellView:
    id: str
    value: str  # as shown (and as edited)
    marks: list[Mark]
    confidence: float
    page: int | None
    bbox: list[float] | None
    label: str  # row · column, for the accessible name and the tooltip
    raw: str | None
    failing: bool

    @property
    def flags(self) -> str:
        return " ".join(m.flag for m in self.marks)


@dataclass
class Header:
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Row:
    headers: list[Header]
    cells: list[CellView]


@dataclass
class TableView:
    id: str
    caption: str
    head: list[list[Header]]
    rows: list[Row]


@dataclass
class CheckView:
    id: str
    status: str
    status_text: str
    message: str
    expected: str
    actual: str
    cells: list[str]
    kind: str


@dataclass
class ParagraphView:
    n: int  # 1-based, reading order (the API's paragraph number)
    section: str
    text: str
    label: str | None
    confidence: float
    page: int | None
    bbox: list[float] | None
    corrected: bool


@dataclass
class DocumentView:
    format: str
    tables: list[TableView]
    other_cells: list[CellView]
    checks: list[CheckView]
    paragraphs: list[ParagraphView]
    pages: list[dict[str, Any]]
    failing: int
    to_review: int
    flagged: list[str] = field(default_factory=list)  # cell ids, in table order, for j/k


def shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    if isinstance(value, float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def cell_text(cell: CellOut) -> str:
    if cell.value is not None:
        return shown(cell.value)
    if cell.blank:
        return "—"
    return ""


def cell_marks(cell: CellOut, corrected: bool) -> list[Mark]:
    marks = []
    if corrected:
        marks.append(MARKS["corrected"])
    if cell.missing:
        marks.append(MARKS["missing"])
    if cell.repaired_by:
        marks.append(MARKS["repaired"])
    if cell.inferred:
        marks.append(MARKS["inferred"])
    if not corrected and not cell.missing and cell.confidence < LOW_CONFIDENCE:
        marks.append(MARKS["low"])
    if cell.review and not marks:
        marks.append(MARKS["review"])
    return marks


def check_view(c: CheckOut) -> CheckView:
    return CheckView(
        id=c.id,
        status=c.status,
        status_text=STATUS_TEXT.get(c.status, c.status),
        message=c.message,
        expected=shown(c.expected),
        actual=shown(c.actual),
        cells=list(c.cells),
        kind=c.kind,
    )


def document_view(served: ServedResult) -> DocumentView:
    result = served.result
    fmt = load_format(result.format)
    failing_cells = {cid for c in result.checks if c.status == "fail" for cid in c.cells}

    def cell(cid: str, label: str) -> CellView:
        out = result.cells.get(cid)
        if out is None:  # a schema cell the stored result predates: shown as missing
            out = CellOut.model_validate({"value": None, "confidence": 0.0, "missing": True, "review": True})
        return CellView(
            id=cid,
            value=cell_text(out),
            marks=cell_marks(out, cid in served.cell_marks),
            confidence=out.confidence,
            page=out.page,
            bbox=out.bbox,
            label=label,
            raw=out.raw,
            failing=cid in failing_cells,
        )

    tables = [*_active_tables(fmt, cell), *_requests_table(fmt, cell), *_appeals_table(fmt, cell)]
    statutory = set(fmt.cells)
    other = [cell(cid, cid.split(".", 1)[-1]) for cid, c in result.cells.items() if cid not in statutory]
    checks = sorted(
        (check_view(c) for c in result.checks), key=lambda c: (_STATUS_ORDER.get(c.status, 9), c.id)
    )
    paras = []
    n = 0
    for section in result.sections:
        for p in section.paragraphs:
            n += 1
            paras.append(
                ParagraphView(
                    n=n,
                    section=section.heading or section.key,
                    text=p.text,
                    label=p.label,
                    confidence=p.confidence,
                    page=p.page,
                    bbox=p.bbox,
                    corrected=n in served.paragraph_marks,
                )
            )
    flagged = [c.id for t in tables for r in t.rows for c in r.cells if c.marks or c.failing]
    flagged += [c.id for c in other if c.marks or c.failing]
    return DocumentView(
        format=result.format,
        tables=tables,
        other_cells=other,
        checks=checks,
        paragraphs=paras,
        pages=[p.model_dump(mode="json") for p in result.pages],
        failing=served.failing_count(),
        to_review=served.review_count(),
        flagged=flagged,
    )


def _active_tables(fmt: ReportFormat, cell: Any) -> list[TableView]:
    if not fmt.active_blocks:
        return []
    head: list[list[Header]] = []
    rows: list[Row] = []
    for block in fmt.active_blocks:
        # Each block prints its own header row: 信息内容 and its columns, under the item's title.
        rows.append(Row([Header(block.item, colspan=1 + max(len(b.columns) for b in fmt.active_blocks))], []))
        rows.append(Row([Header("信息内容"), *(Header(c.label) for c in block.columns)], []))
        for r in block.rows:
            rows.append(
                Row(
                    [Header(r.label)],
                    [
                        cell(f"{fmt.active_prefix}.{r.id}.{c.id}", f"{r.label} · {c.label}")
                        for c in block.columns
                    ],
                )
            )
    return [TableView("active", "二、主动公开政府信息情况", head, rows)]


def _requests_table(fmt: ReportFormat, cell: Any) -> list[TableView]:
    if not fmt.requests_rows:
        return []
    cols = fmt.requests_columns
    person, orgs, total = cols[0], cols[1:-1], cols[-1]
    head = [
        [Header("", rowspan=3, colspan=3), Header("申请人情况", colspan=len(cols))],
        [
            Header(person.label, rowspan=2),
            Header("法人或其他组织", colspan=len(orgs)),
            Header(total.label, rowspan=2),
        ],
        [Header(c.label) for c in orgs],
    ]
    groups = {g.id: g.label for g in fmt.requests_groups}
    results_label = "三、本年度办理结果"
    n_results = sum(
        1 for r in fmt.requests_rows if r.group and r.id not in ("new", "carried_in", "carried_out")
    )
    rows: list[Row] = []
    seen_results = False
    seen_groups: set[str] = set()
    for r in fmt.requests_rows:
        headers: list[Header] = []
        group_id = r.id.split(".", 1)[0] if "." in r.id else None
        in_results = r.group is not None
        if in_results and not seen_results:
            headers.append(Header(results_label, rowspan=n_results))
            seen_results = True
        if group_id is not None:
            if group_id not in seen_groups:
                size = sum(1 for x in fmt.requests_rows if x.id.startswith(group_id + "."))
                headers.append(Header(groups.get(group_id, group_id), rowspan=size))
                seen_groups.add(group_id)
            headers.append(Header(r.label))
        elif in_results:
            headers.append(Header(r.label, colspan=2))
        else:
            headers.append(Header(r.label, colspan=3))
        rows.append(Row(headers, [cell(f"requests.{r.id}.{c.id}", f"{r.label} · {c.label}") for c in cols]))
    return [TableView("requests", "三、收到和处理政府信息公开申请情况", head, rows)]


def _appeals_table(fmt: ReportFormat, cell: Any) -> list[TableView]:
    if not fmt.appeals_groups:
        return []
    review, *suits = fmt.appeals_groups
    fields = fmt.appeals_fields
    head = [
        [Header(review.label, colspan=len(fields)), Header("行政诉讼", colspan=len(fields) * len(suits))],
        [
            *(Header(f.label, rowspan=2) for f in fields),
            *(Header(g.label, colspan=len(fields)) for g in suits),
        ],
        [Header(f.label) for _ in suits for f in fields],
    ]
    cells = [
        cell(f"appeals.{g.id}.{f.id}", f"{g.label} · {f.label}") for g in fmt.appeals_groups for f in fields
    ]
    return [TableView("appeals", "四、政府信息公开行政复议、行政诉讼情况", head, [Row([], cells)])]
