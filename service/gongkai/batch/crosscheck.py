"""Checks across documents of one agency (soft checks of the spec: plausible, not certain).

- ``cross_year:carried:<column>``: last year's ``requests.carried_out.<column>`` = this year's
  ``requests.carried_in.<column>``.
- ``cross_year:in_force:<row>``: this year's ``active.<row>.in_force`` = last year's in_force +
  this year's issued − repealed.
- ``cross_year:jump:<cell>``: a statutory count that grows or shrinks tenfold (and by at least
  ``JUMP_MIN``) from one year to the next.
- ``same_year:reissue``: the agency published more than one different report for one year.

Only the documents that count (one per agency and year, see ``agencies.choose_counted``) take part
in the year-to-year checks. A status is ``pass``, ``warn`` or ``not_assessable`` (a value missing).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Value = int | float | None

COLUMNS = ("natural_person", "commercial", "research", "nonprofit", "legal_services", "other_org", "total")
IN_FORCE_ROWS = ("regulations", "normative_docs")
JUMP_CELLS = (
    "requests.new.total",
    "requests.results_total.total",
    "appeals.review.total",
    "appeals.suit_direct.total",
    "appeals.suit_after_review.total",
)
JUMP_FACTOR = 10.0
JUMP_MIN = 50  # below this, tenfold is 3 → 30: normal for a small agency


@dataclass
class DocFacts:
    sha256: str
    agency_key: str | None
    agency: str | None
    year: int | None
    counted: bool = True
    cells: dict[str, Value] = field(default_factory=dict)
    reissue_of: list[str] = field(default_factory=list)  # the other documents of its agency and year
    reissue_reason: str | None = None


def check_row(
    scope: str,
    doc: DocFacts,
    check_id: str,
    status: str,
    message: str,
    *,
    other: DocFacts | None = None,
    expected: Value = None,
    actual: Value = None,
    cells: Iterable[str] = (),
) -> dict[str, Any]:
    return {
        "scope": scope,
        "document": doc.sha256,
        "other_document": other.sha256 if other else None,
        "agency": doc.agency,
        "agency_key": doc.agency_key,
        "year": doc.year,
        "id": check_id,
        "kind": "soft",
        "status": status,
        "expected": None if expected is None else float(expected),
        "actual": None if actual is None else float(actual),
        "cells": " ".join(cells),
        "message": message,
    }


def cross_document_checks(docs: list[DocFacts]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    by_agency: dict[str, list[DocFacts]] = defaultdict(list)
    for d in docs:
        if d.agency_key and d.year is not None:
            if d.counted:
                by_agency[d.agency_key].append(d)
            else:
                rows.append(_reissue_row(d))
    for series in by_agency.values():
        series.sort(key=lambda d: d.year or 0)
        for prev, cur in itertools.pairwise(series):
            if cur.year != (prev.year or 0) + 1:
                continue
            rows += _carried(prev, cur) + _in_force(prev, cur) + _jumps(prev, cur)
    return rows


def _reissue_row(d: DocFacts) -> dict[str, Any]:
    others = ", ".join(s[:12] for s in d.reissue_of)
    return check_row(
        "cross-document",
        d,
        "same_year:reissue",
        "warn",
        f"{d.agency} published more than one different report for {d.year}; this one does not count "
        f"(counted: {others}; rule: {d.reissue_reason})",
    )


def _carried(prev: DocFacts, cur: DocFacts) -> list[dict[str, Any]]:
    rows = []
    for col in COLUMNS:
        out_id, in_id = f"requests.carried_out.{col}", f"requests.carried_in.{col}"
        if out_id not in prev.cells and in_id not in cur.cells:
            continue  # neither report has table 三 in this form (legacy years)
        last, this = prev.cells.get(out_id), cur.cells.get(in_id)
        status = "not_assessable" if last is None or this is None else ("pass" if last == this else "warn")
        message = (
            f"{prev.year} carried out {_n(last)} to the next year, {cur.year} carried in {_n(this)} ({col})"
        )
        rows.append(
            check_row(
                "cross-year",
                cur,
                f"cross_year:carried:{col}",
                status,
                message,
                other=prev,
                expected=last,
                actual=this,
                cells=(f"{prev.year}:{out_id}", f"{cur.year}:{in_id}"),
            )
        )
    return rows


def _in_force(prev: DocFacts, cur: DocFacts) -> list[dict[str, Any]]:
    rows = []
    for row in IN_FORCE_ROWS:
        ids = [f"active.{row}.{f}" for f in ("in_force", "issued", "repealed")]
        last = prev.cells.get(ids[0])
        now, issued, repealed = (cur.cells.get(i) for i in ids)
        if ids[0] not in prev.cells and ids[0] not in cur.cells:
            continue
        known = None not in (last, now, issued, repealed)
        expected = (last or 0) + (issued or 0) - (repealed or 0) if known else None
        status = "not_assessable" if not known else ("pass" if expected == now else "warn")
        rows.append(
            check_row(
                "cross-year",
                cur,
                f"cross_year:in_force:{row}",
                status,
                f"{prev.year} in force {_n(last)} + {cur.year} issued {_n(issued)} − repealed {_n(repealed)}"
                f" should be {cur.year} in force {_n(now)}",
                other=prev,
                expected=expected,
                actual=now,
                cells=[f"{prev.year}:{ids[0]}", *(f"{cur.year}:{i}" for i in ids)],
            )
        )
    return rows


def _jumps(prev: DocFacts, cur: DocFacts) -> list[dict[str, Any]]:
    rows = []
    for cid in JUMP_CELLS:
        a, b = prev.cells.get(cid), cur.cells.get(cid)
        if a is None or b is None:
            continue
        lo, hi = min(a, b), max(a, b)
        jump = hi >= JUMP_MIN and hi >= JUMP_FACTOR * max(lo, 1)
        rows.append(
            check_row(
                "cross-year",
                cur,
                f"cross_year:jump:{cid}",
                "warn" if jump else "pass",
                f"{cid}: {_n(a)} in {prev.year}, {_n(b)} in {cur.year}"
                + (f" (a change of {JUMP_FACTOR:g}× or more)" if jump else ""),
                other=prev,
                expected=a,
                actual=b,
                cells=(f"{prev.year}:{cid}", f"{cur.year}:{cid}"),
            )
        )
    return rows


def _n(v: Value) -> str:
    if v is None:
        return "?"
    return str(int(v)) if float(v).is_integer() else str(v)
