"""The result contract's version: 1.1 for new results, stored version-1 results still validate."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gongkai.pipeline.checks import Check, check_out
from gongkai.pipeline.markdown import render_markdown
from gongkai.pipeline.result import CONTRACT_VERSION, CellOut, ExtractionResult, json_schema


def _minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "source": {"filename": "a.pdf", "sha256": "0" * 64, "media_type": "application/pdf", "pages": 1},
        "format": "2021",
        "metadata": {},
        "pages": [{"number": 1, "text_source": "text_layer"}],
        "cells": {"requests.new.total": {"value": 3, "raw": "3", "confidence": 1.0}},
        "sections": [],
        "checks": [],
    }
    return data | changes


def test_new_results_are_version_1_1_with_a_review_flag_per_cell() -> None:
    result = ExtractionResult.model_validate(_minimal())
    assert CONTRACT_VERSION == "1.1" and result.contract_version == "1.1"
    cell = result.cells["requests.new.total"]
    assert cell.review is False and cell.review_reason is None
    dumped = result.model_dump(mode="json")
    assert dumped["cells"]["requests.new.total"]["review"] is False


def test_a_stored_version_1_result_still_validates() -> None:
    result = ExtractionResult.model_validate(_minimal(contract_version="1"))
    assert result.contract_version == "1"
    assert result.cells["requests.new.total"].review is False


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValidationError):
        ExtractionResult.model_validate(_minimal(contract_version="2"))


def test_the_schema_publishes_the_review_fields_and_both_versions() -> None:
    schema = json_schema()
    cell = schema["$defs"]["CellOut"]["properties"]  # type: ignore[index]
    assert {"review", "review_reason"} <= set(cell)
    assert set(schema["properties"]["contract_version"]["enum"]) == {"1", "1.1"}  # type: ignore[index]


def test_check_out_keeps_kind_status_and_numbers() -> None:
    out = check_out(Check("row_total:new", "identity", "fail", "总计…", ["a", "b"], expected=3, actual=2))
    assert (out.kind, out.status, out.expected, out.actual, out.cells) == (
        "identity",
        "fail",
        3,
        2,
        ["a", "b"],
    )
    with pytest.raises(ValidationError):
        CellOut.model_validate({"value": 1, "confidence": 1.0, "review": "maybe"})


def test_markdown_marks_the_cells_to_review() -> None:
    cells = {
        "requests.new.natural_person": {"value": 2, "confidence": 1.0},
        "requests.new.total": {"value": 3, "confidence": 0.5, "review": True, "review_reason": "x fail"},
    }
    text = render_markdown(ExtractionResult.model_validate(_minimal(cells=cells)))
    row = next(line for line in text.splitlines() if line.startswith("| 一、本年新收"))
    assert row.startswith("| 一、本年新收政府信息公开申请数量 | 2 | ?") and row.endswith("| 3 ⚑ |")
    assert "`⚑` to review" in text
