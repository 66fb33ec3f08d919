"""The statutory tables as the review page lays them out: every row fills the printed grid exactly,
and every cell of the format appears once, in the table the schema puts it in."""

from __future__ import annotations

import pytest

from gongkai.pipeline.result import CellOut, ExtractionResult
from gongkai.pipeline.schema import FORMATS, load_format
from gongkai.server.review import ServedResult
from gongkai.server.web import views


def _result(format_id: str) -> ExtractionResult:
    fmt = load_format(format_id)  # type: ignore[arg-type]
    cells = {cid: {"value": 1, "confidence": 0.99} for cid in fmt.cells}
    return ExtractionResult.model_validate(
        {
            "source": {"filename": "x.pdf", "sha256": "0" * 64, "media_type": "application/pdf", "pages": 1},
            "format": format_id,
            "metadata": {},
            "pages": [{"number": 1, "width": 595.0, "height": 842.0, "text_source": "text_layer"}],
            "cells": cells,
            "sections": [],
            "checks": [],
        }
    )


def _widths(rows: list[list[views.Header]], data: list[int]) -> list[int]:
    """Simulate an HTML table's layout: the number of grid columns each row fills."""
    carried: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    widths = []
    for headers, n_data in zip(rows, data, strict=True):
        col, filled = 0, 0
        items = [(h.colspan, h.rowspan) for h in headers] + [(1, 1)] * n_data
        for colspan, rowspan in items:
            while carried.get(col, 0) > 0:
                col += 1
            for c in range(col, col + colspan):
                if rowspan > 1:
                    carried[c] = rowspan
            col += colspan
            filled = col
        filled = max([filled, *(c + 1 for c, left in carried.items() if left > 0)])
        widths.append(filled)
        carried = {c: left - 1 for c, left in carried.items() if left - 1 > 0}
    return widths


@pytest.mark.parametrize("format_id", [f for f in FORMATS if f != "legacy"])
def test_each_table_fills_its_grid_and_holds_every_cell_once(format_id: str) -> None:
    view = views.document_view(ServedResult(_result(format_id)))
    assert [t.id for t in view.tables] == ["active", "requests", "appeals"]
    seen: list[str] = []
    for table in view.tables:
        head = _widths(table.head, [0] * len(table.head)) if table.head else []
        body = _widths([r.headers for r in table.rows], [len(r.cells) for r in table.rows])
        if table.id == "active":  # each block has its own header row; blocks may be narrower
            blocks = load_format(format_id).active_blocks  # type: ignore[arg-type]
            assert max(body) == 1 + max(len(b.columns) for b in blocks)
        else:
            assert set(head) == set(body) == {head[0]}, (table.id, head, body)
        seen += [c.id for r in table.rows for c in r.cells]
    assert sorted(seen) == sorted(load_format(format_id).cells)  # type: ignore[arg-type]
    assert not view.other_cells


def test_marks_say_what_a_cell_is_without_colour() -> None:
    result = _result("2021")
    result.cells["requests.new.total"].confidence = 0.5
    result.cells["requests.new.total"].review = True
    result.cells["appeals.review.total"].repaired_by = "appeals_total:review"
    result.cells["active.fees.amount"].missing = True
    result.cells["active.fees.amount"].value = None
    view = views.document_view(ServedResult(result))
    cells = {c.id: c for t in view.tables for r in t.rows for c in r.cells}
    assert cells["requests.new.total"].flags == "low"
    assert cells["appeals.review.total"].flags == "repaired"
    assert cells["active.fees.amount"].flags == "missing" and cells["active.fees.amount"].value == ""
    assert all(m.symbol and m.text for c in cells.values() for m in c.marks)
    assert set(view.flagged) == {"requests.new.total", "appeals.review.total", "active.fees.amount"}


def test_legacy_figures_are_listed_as_printed() -> None:
    result = _result("legacy")
    result.cells["legacy.受理申请数"] = CellOut.model_validate(
        {"value": 12, "confidence": 0.9, "statutory": False}
    )
    view = views.document_view(ServedResult(result))
    assert [c.id for c in view.other_cells] == ["legacy.受理申请数"]
    assert view.other_cells[0].value == "12" and view.other_cells[0].label == "受理申请数"
