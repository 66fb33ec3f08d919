"""/v1/agencies/{name}/years: one agency's reports year by year, across the service's documents.

The agency is matched by the normalised name ``gongkai batch`` groups by (``gongkai.batch.agencies``:
widths folded, brackets and spaces dropped, a government suffix after a place removed), so
某区人民政府, 某区政府 and 某区人民政府办公室 are one agency. Per year: the documents, the one that
counts among re-issues (the batch's rule), its carried-in and carried-out requests, and the
cross-year checks against the year before (``gongkai.batch.crosscheck``). Values are the served ones,
with reviewers' corrections applied. Only done documents the caller may see take part.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from gongkai.batch.agencies import Candidate, agency_key, choose_counted
from gongkai.batch.crosscheck import COLUMNS, DocFacts, cross_document_checks
from gongkai.server.api.auth import Uploader
from gongkai.server.api.deps import DbDep
from gongkai.server.api.errors import ApiError
from gongkai.server.api.routes.common import ERRORS
from gongkai.server.review import served_result
from gongkai.server.storage import batches as batch_repo
from gongkai.server.storage.models import DocumentRow

router = APIRouter()

CheckStatus = Literal["pass", "warn", "not_assessable"]
_WORST = ("warn", "not_assessable", "pass")  # a year's status is its worst check


class YearDocument(BaseModel):
    id: str
    filename: str
    agency: str | None
    counted: bool
    failing_checks: int | None
    link: str


class CrossYearCheck(BaseModel):
    id: str
    status: CheckStatus
    expected: float | None = None
    actual: float | None = None
    message: str


class CrossYear(BaseModel):
    previous_year: int | None = Field(
        description="the year compared with (the year before), when there is one"
    )
    status: CheckStatus | None = Field(description="the worst of the checks; null without a year before")
    checks: list[CrossYearCheck]


class AgencyYear(BaseModel):
    year: int
    documents: list[YearDocument]
    counted: str = Field(description="id of the document that counts for this year")
    counted_reason: str
    carried_in: dict[str, float | None] = Field(description="requests.carried_in.<column> of the counted one")
    carried_out: dict[str, float | None] = Field(
        description="requests.carried_out.<column> of the counted one"
    )
    cross_year: CrossYear


class AgencyYears(BaseModel):
    agency: str
    agency_key: str
    names: list[str] = Field(description="the agency names the documents give")
    years: list[AgencyYear]


@router.get(
    "/v1/agencies/{name}/years",
    response_model=AgencyYears,
    responses=ERRORS,
    tags=["agencies"],
    summary="One agency's documents per year: the counted one, carried-in/out, cross-year checks",
)
def agency_years(caller: Uploader, db: DbDep, name: str = PathParam(min_length=1, max_length=200)) -> Any:
    key = agency_key(name)
    if key is None:
        raise ApiError(404, "not_found", f"no agency {name!r}")
    with db.session() as s:
        owner = None if caller.sees_all else caller.key_id
        docs = [d for d in batch_repo.done_documents_with_agency(s, owner) if agency_key(d.agency) == key]
        if not docs:
            raise ApiError(404, "not_found", f"no documents of agency {name!r}")
        cells: dict[str, dict[str, Any]] = {}
        failing: dict[str, int] = {}
        for d in docs:
            served = served_result(s, d.id)
            values = {cid: c.value for cid, c in served.result.cells.items()} if served else {}
            cells[d.id] = values
            failing[d.id] = served.failing_count() if served else (d.failing_checks or 0)
            found = sum(1 for c in served.result.cells.values() if not c.missing) if served else 0
            cells[d.id]["__found__"] = found
    return _view(name, key, docs, cells, failing)


def _view(
    name: str, key: str, docs: list[DocumentRow], cells: dict[str, dict[str, Any]], failing: dict[str, int]
) -> dict[str, Any]:
    by_year: dict[int, list[DocumentRow]] = defaultdict(list)
    for d in docs:
        by_year[int(d.year or 0)].append(d)
    counted: dict[int, tuple[str, str]] = {}
    for year, group in by_year.items():
        # The batch's re-issue rule; the upload time stands in for the file date.
        counted[year] = choose_counted(
            [
                Candidate(
                    d.id, failing[d.id], int(cells[d.id]["__found__"]), d.created_at.timestamp(), d.size
                )
                for d in group
            ]
        )
    facts = [
        DocFacts(
            d.id,
            key,
            d.agency,
            d.year,
            counted=counted[int(d.year or 0)][0] == d.id,
            cells={k: v for k, v in cells[d.id].items() if k != "__found__"},
        )
        for d in docs
    ]
    checks_by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in cross_document_checks([f for f in facts if f.counted]):
        if row["scope"] == "cross-year":
            checks_by_year[int(row["year"])].append(row)
    years = []
    for year in sorted(by_year):
        best, why = counted[year]
        rows = checks_by_year.get(year, [])
        status = next((s for s in _WORST if any(r["status"] == s for r in rows)), None)
        years.append(
            AgencyYear(
                year=year,
                documents=[
                    YearDocument(
                        id=d.id,
                        filename=d.filename,
                        agency=d.agency,
                        counted=d.id == best,
                        failing_checks=failing[d.id],
                        link=f"/v1/documents/{d.id}",
                    )
                    for d in by_year[year]
                ],
                counted=best,
                counted_reason=why,
                carried_in={c: _num(cells[best].get(f"requests.carried_in.{c}")) for c in COLUMNS},
                carried_out={c: _num(cells[best].get(f"requests.carried_out.{c}")) for c in COLUMNS},
                cross_year=CrossYear(
                    previous_year=year - 1 if (year - 1) in by_year else None,
                    status=status,  # type: ignore[arg-type]
                    checks=[
                        CrossYearCheck(
                            id=r["id"],
                            status=r["status"],
                            expected=r["expected"],
                            actual=r["actual"],
                            message=r["message"],
                        )
                        for r in rows
                    ],
                ),
            )
        )
    names = sorted({d.agency for d in docs if d.agency})
    return AgencyYears(agency=name, agency_key=key, names=names, years=years).model_dump()


def _num(v: Any) -> float | None:
    return None if v is None else float(v)
