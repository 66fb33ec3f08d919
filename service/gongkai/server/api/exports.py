"""Exports of the served result (corrections applied): JSON, CSV (cells) and XLSX (all parts)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from gongkai.pipeline.schema import load_format

CELL_COLUMNS = [
    "cell_id",
    "table",
    "row",
    "column",
    "value",
    "raw",
    "blank",
    "missing",
    "inferred",
    "statutory",
    "confidence",
    "page",
    "corrected",
    "corrected_by",
    "corrected_at",
    "machine_value",
]


def cell_rows(result: dict[str, Any]) -> list[list[Any]]:
    try:
        defs = load_format(result["format"]).cells
    except (KeyError, ValueError):
        defs = {}
    rows = []
    for cid, cell in result.get("cells", {}).items():
        d = defs.get(cid)
        corr = cell.get("corrected") or {}
        rows.append(
            [
                cid,
                d.table if d else "",
                d.row if d else "",
                d.column if d else "",
                cell.get("value"),
                cell.get("raw"),
                bool(cell.get("blank")),
                bool(cell.get("missing")),
                bool(cell.get("inferred")),
                bool(cell.get("statutory", True)),
                cell.get("confidence"),
                cell.get("page"),
                bool(corr),
                corr.get("by"),
                corr.get("at"),
                corr.get("machine_value") if corr else None,
            ]
        )
    return rows


def to_json(result: dict[str, Any]) -> bytes:
    return json.dumps(result, ensure_ascii=False, indent=1).encode()


def to_csv(result: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CELL_COLUMNS)
    for row in cell_rows(result):
        w.writerow(["" if v is None else v for v in row])
    # A BOM so that spreadsheet programs read the Chinese labels as UTF-8.
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(result: dict[str, Any], history: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if ws is None:  # a new Workbook always has one sheet; typed Optional all the same
        raise RuntimeError("openpyxl made a workbook without a worksheet")
    ws.title = "cells"
    ws.append(CELL_COLUMNS)
    for row in cell_rows(result):
        ws.append(row)
    checks = wb.create_sheet("checks")
    checks.append(["id", "kind", "status", "expected", "actual", "message", "cells"])
    for c in result.get("checks", []):
        checks.append(
            [
                c.get("id"),
                c.get("kind"),
                c.get("status"),
                c.get("expected"),
                c.get("actual"),
                c.get("message"),
                ", ".join(c.get("cells", [])),
            ]
        )
    paras = wb.create_sheet("paragraphs")
    paras.append(["n", "section", "label", "confidence", "page", "corrected", "text"])
    n = 0
    for s in result.get("sections", []):
        for p in s.get("paragraphs", []):
            n += 1
            paras.append(
                [
                    n,
                    s.get("key"),
                    p.get("label"),
                    p.get("confidence"),
                    p.get("page"),
                    "corrected" in p,
                    p["text"],
                ]
            )
    hist = wb.create_sheet("corrections")
    hist.append(["id", "target", "target_id", "by", "at", "old", "new", "reason"])
    for h in history:
        hist.append(
            [
                h["id"],
                h["target"],
                h["target_id"],
                h["by"],
                h["at"],
                json.dumps(h["old"], ensure_ascii=False),
                json.dumps(h["new"], ensure_ascii=False),
                h["reason"],
            ]
        )
    meta = wb.create_sheet("document")
    for k, v in (result.get("metadata") or {}).items():
        meta.append([k, v])
    for k, v in (result.get("source") or {}).items():
        meta.append([f"source.{k}", v])
    meta.append(["format", result.get("format")])
    meta.append(["contract_version", result.get("contract_version")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
