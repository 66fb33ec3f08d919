"""The dataset in the output folder, rebuilt from the manifest and ``results/*.json`` after every run.

documents.csv/.parquet (one row per file met), cells.csv/.parquet (one row per cell of every
processed document), checks.csv/.parquet (each document's own checks and the cross-document ones,
with ``scope``), review.csv (what needs a person) and summary.html. Rebuilding from scratch keeps
the files consistent with the manifest whatever happened to earlier runs.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gongkai.batch.agencies import Candidate, administrative_level, agency_key, choose_counted
from gongkai.batch.crosscheck import DocFacts, cross_document_checks
from gongkai.batch.manifest import DocRow, Manifest

RESULTS_DIR = "results"

DOCUMENT_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("sha256", pa.string()),
        ("status", pa.string()),  # done, failed, duplicate, queued (not reached yet)
        ("error_code", pa.string()),
        ("error", pa.string()),
        ("kind", pa.string()),  # what the bytes are: pdf, html, docx, image, doc, text, other
        ("format", pa.string()),  # the report template: 2021, 2019, legacy
        ("year", pa.int32()),
        ("agency", pa.string()),
        ("agency_key", pa.string()),
        ("region", pa.string()),
        ("level", pa.string()),
        ("pages", pa.int32()),
        ("seconds", pa.float64()),
        ("size", pa.int64()),
        ("attempts", pa.int32()),
        ("failing_checks", pa.string()),  # ids of failing identity checks, space-separated
        ("n_failing_checks", pa.int32()),
        ("review_cells", pa.string()),  # cells flagged for review, space-separated
        ("n_review_cells", pa.int32()),
        ("duplicate_of", pa.string()),  # the file processed in its place (same bytes)
        ("reissue_group", pa.string()),  # agency_key/year when the agency has several reports that year
        ("counted", pa.bool_()),  # the one document of its agency and year that counts
        ("counted_reason", pa.string()),
    ]
)
CELL_SCHEMA = pa.schema(
    [
        ("document", pa.string()),
        ("file", pa.string()),
        ("agency", pa.string()),
        ("agency_key", pa.string()),
        ("year", pa.int32()),
        ("format", pa.string()),
        ("counted", pa.bool_()),
        ("cell", pa.string()),
        ("value", pa.float64()),
        ("raw", pa.string()),
        ("confidence", pa.float64()),
        ("flags", pa.string()),  # missing, blank, inferred, repaired, review, note (space-separated)
        ("page", pa.int32()),
    ]
)
CHECK_SCHEMA = pa.schema(
    [
        ("scope", pa.string()),  # document, cross-year, cross-document
        ("document", pa.string()),
        ("other_document", pa.string()),
        ("agency", pa.string()),
        ("agency_key", pa.string()),
        ("year", pa.int32()),
        ("id", pa.string()),
        ("kind", pa.string()),
        ("status", pa.string()),
        ("expected", pa.float64()),
        ("actual", pa.float64()),
        ("cells", pa.string()),
        ("message", pa.string()),
    ]
)
REVIEW_COLUMNS = ("file", "sha256", "status", "reason")


@dataclass
class Dataset:
    documents: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)
    # (agency, year) -> requests.new.total of the counted document, for the summary's plot
    requests_by_agency: dict[str, dict[int, float]] = field(default_factory=dict)


def result_path(out_dir: Path, sha256: str) -> Path:
    return out_dir / RESULTS_DIR / f"{sha256}.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary name in the same folder, fsync, rename: readers see all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_result(out_dir: Path, sha256: str) -> dict[str, Any] | None:
    p = result_path(out_dir, sha256)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def result_fields(result: dict[str, Any]) -> dict[str, Any]:
    """What the manifest keeps of a result (the rest is read from the file when needed)."""
    meta = result.get("metadata") or {}
    cells = result.get("cells") or {}
    checks = result.get("checks") or []
    return {
        "pages": (result.get("source") or {}).get("pages"),
        "format": result.get("format"),
        "title": meta.get("title"),
        "year": meta.get("year"),
        "agency": meta.get("agency"),
        "region": meta.get("region"),
        "failing_checks": sum(1 for c in checks if c.get("status") == "fail" and c.get("kind") == "identity"),
        "review_cells": sum(1 for c in cells.values() if c.get("review")),
    }


def build(out_dir: Path, manifest: Manifest) -> Dataset:
    """Write every dataset file; returns what the summary needs."""
    # Only contents some file still has: a file that changed since an earlier run leaves its old
    # content's row behind, which is history, not part of the dataset.
    live = {f["sha256"] for f in manifest.files() if f["sha256"]}
    docs = {d.sha256: d for d in manifest.documents() if d.sha256 in live}
    results = {sha: r for sha in docs if docs[sha].status == "done" and (r := load_result(out_dir, sha))}
    counted, reasons, groups = _reissues(docs, results)
    ds = Dataset()
    facts: list[DocFacts] = []
    for sha, r in results.items():
        d = docs[sha]
        cells = {cid: c.get("value") for cid, c in (r.get("cells") or {}).items()}
        fact = DocFacts(
            sha,
            agency_key(d.agency),
            d.agency,
            d.year,
            counted=counted.get(sha, True),
            cells=cells,
            reissue_of=[s for s in groups.get(sha, []) if s != sha and counted.get(s)],
            reissue_reason=reasons.get(sha),
        )
        facts.append(fact)
        if (
            fact.counted
            and fact.agency
            and fact.year is not None
            and cells.get("requests.new.total") is not None
        ):
            ds.requests_by_agency.setdefault(fact.agency_key or fact.agency, {})[fact.year] = float(
                cells["requests.new.total"] or 0
            )
    cross = cross_document_checks(facts)
    ds.documents = list(_document_rows(manifest, docs, results, counted, reasons, groups))
    ds.checks = list(_document_checks(results, docs)) + cross
    ds.review = _review_rows(ds.documents, cross)
    _write_table(out_dir, "documents", DOCUMENT_SCHEMA, ds.documents)
    _write_table(out_dir, "checks", CHECK_SCHEMA, ds.checks)
    _write_table(out_dir, "cells", CELL_SCHEMA, _cell_rows(results, docs, counted))
    _write_csv(out_dir / "review.csv", REVIEW_COLUMNS, ds.review)
    return ds


def _reissues(
    docs: dict[str, DocRow], results: dict[str, dict[str, Any]]
) -> tuple[dict[str, bool], dict[str, str], dict[str, list[str]]]:
    by_key: dict[tuple[str, int], list[str]] = defaultdict(list)
    for sha in results:
        d = docs[sha]
        key = agency_key(d.agency)
        if key and d.year is not None:
            by_key[(key, d.year)].append(sha)
    counted: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for shas in by_key.values():
        if len(shas) < 2:
            continue
        cands = [
            Candidate(
                s,
                docs[s].failing_checks or 0,
                sum(1 for c in (results[s].get("cells") or {}).values() if not c.get("missing")),
                docs[s].mtime,
                docs[s].size,
            )
            for s in shas
        ]
        best, why = choose_counted(cands)
        for s in shas:
            counted[s] = s == best
            reasons[s] = why
            groups[s] = sorted(shas)
    return counted, reasons, groups


def _document_rows(
    manifest: Manifest,
    docs: dict[str, DocRow],
    results: dict[str, dict[str, Any]],
    counted: dict[str, bool],
    reasons: dict[str, str],
    groups: dict[str, list[str]],
) -> Iterator[dict[str, Any]]:
    for f in manifest.files():
        sha = f["sha256"]
        d = docs.get(sha) if sha else None
        if d is None:
            yield _row(
                file=f["path"],
                sha256=sha,
                status="failed",
                error_code=f["error_code"],
                error=f["error"],
                size=f["size"],
            )
            continue
        r = results.get(sha, {})
        checks = r.get("checks") or []
        failing = [c["id"] for c in checks if c.get("status") == "fail" and c.get("kind") == "identity"]
        review = [cid for cid, c in (r.get("cells") or {}).items() if c.get("review")]
        duplicate = f["path"] != d.path
        key = agency_key(d.agency)
        yield _row(
            file=f["path"],
            sha256=sha,
            status="duplicate" if duplicate else d.status,
            error_code=d.error_code,
            error=d.error,
            kind=d.kind,
            format=d.format,
            year=d.year,
            agency=d.agency,
            agency_key=key,
            region=d.region,
            level=administrative_level(d.region),
            pages=d.pages,
            seconds=None if duplicate else d.seconds,
            size=d.size,
            attempts=d.attempts,
            failing_checks=" ".join(failing),
            n_failing_checks=len(failing) if r else None,
            review_cells=" ".join(review),
            n_review_cells=len(review) if r else None,
            duplicate_of=d.path if duplicate else None,
            reissue_group=f"{key}/{d.year}" if sha in groups else None,
            counted=counted.get(sha, True) if d.status == "done" and not duplicate else False,
            counted_reason=reasons.get(sha),
        )


def _row(**values: Any) -> dict[str, Any]:
    return {name: values.get(name) for name in DOCUMENT_SCHEMA.names}


def _document_checks(results: dict[str, dict[str, Any]], docs: dict[str, DocRow]) -> Iterator[dict[str, Any]]:
    for sha, r in results.items():
        d = docs[sha]
        for c in r.get("checks") or []:
            yield {
                "scope": "document",
                "document": sha,
                "other_document": None,
                "agency": d.agency,
                "agency_key": agency_key(d.agency),
                "year": d.year,
                "id": c.get("id"),
                "kind": c.get("kind"),
                "status": c.get("status"),
                "expected": _num(c.get("expected")),
                "actual": _num(c.get("actual")),
                "cells": " ".join(c.get("cells") or []),
                "message": c.get("message"),
            }


def _cell_rows(
    results: dict[str, dict[str, Any]], docs: dict[str, DocRow], counted: dict[str, bool]
) -> Iterator[dict[str, Any]]:
    for sha, r in results.items():
        d = docs[sha]
        key = agency_key(d.agency)
        for cid, c in (r.get("cells") or {}).items():
            flags = [
                name
                for name, on in (
                    ("missing", c.get("missing")),
                    ("blank", c.get("blank")),
                    ("inferred", c.get("inferred")),
                    ("repaired", c.get("repaired_by")),
                    ("review", c.get("review")),
                    ("note", c.get("note")),
                )
                if on
            ]
            yield {
                "document": sha,
                "file": d.path,
                "agency": d.agency,
                "agency_key": key,
                "year": d.year,
                "format": d.format,
                "counted": counted.get(sha, True),
                "cell": cid,
                "value": _num(c.get("value")),
                "raw": c.get("raw"),
                "confidence": c.get("confidence"),
                "flags": " ".join(flags),
                "page": c.get("page"),
            }


def _review_rows(documents: list[dict[str, Any]], cross: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every file a person should look at, with the reasons in one line."""
    cross_by_doc: dict[str, list[str]] = defaultdict(list)
    for c in cross:
        if c["status"] == "warn":
            cross_by_doc[c["document"]].append(c["id"])
    rows = []
    for d in documents:
        if d["status"] == "duplicate":
            continue  # its twin, the file that was processed, is listed
        reasons = []
        if d["status"] == "failed":
            reasons.append(f"{d['error_code']}: {d['error']}")
        if d["n_failing_checks"]:
            reasons.append(f"{d['n_failing_checks']} failing identity checks")
        if d["n_review_cells"]:
            reasons.append(f"{d['n_review_cells']} cells to review")
        if d["status"] == "done" and d["sha256"] in cross_by_doc:
            reasons.append("cross-document checks: " + " ".join(sorted(set(cross_by_doc[d["sha256"]]))))
        if reasons:
            rows.append(
                {
                    "file": d["file"],
                    "sha256": d["sha256"],
                    "status": d["status"],
                    "reason": "; ".join(reasons),
                }
            )
    return rows


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    return None


def _write_table(out_dir: Path, name: str, schema: pa.Schema, rows: Iterable[dict[str, Any]]) -> None:
    """``name``.parquet and ``name``.csv from the same rows, streamed in batches."""
    parquet_tmp = out_dir / f".{name}.parquet.tmp"
    csv_tmp = out_dir / f".{name}.csv.tmp"
    batch: list[dict[str, Any]] = []
    # utf-8-sig: Excel, where archivists open CSVs, needs the BOM to read Chinese.
    with (
        pq.ParquetWriter(parquet_tmp, schema) as writer,
        csv_tmp.open("w", encoding="utf-8-sig", newline="") as fh,
    ):
        out = csv.DictWriter(fh, fieldnames=schema.names)
        out.writeheader()

        def flush() -> None:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            out.writerows(batch)
            batch.clear()

        for row in rows:
            batch.append(row)
            if len(batch) >= 50_000:
                flush()
        flush()
    os.replace(parquet_tmp, out_dir / f"{name}.parquet")
    os.replace(csv_tmp, out_dir / f"{name}.csv")


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(columns))
        out.writeheader()
        out.writerows(rows)
    os.replace(tmp, path)
