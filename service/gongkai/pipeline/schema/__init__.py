"""The statutory schema of the annual reports, loaded from the YAML files beside this module.

One place for every table, row, column, label variant and identity: the mapper, the reconciler,
the CLI and (later) the API and review UI all read it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

FormatId = Literal["2021", "2019", "legacy"]
FORMATS: tuple[FormatId, ...] = ("2021", "2019", "legacy")
ValueType = Literal["int", "decimal", "signed"]


@dataclass(frozen=True)
class Label:
    """An official label with the variants real reports print, and distinctive keys."""

    id: str
    label: str
    variants: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    group: str | None = None
    exact: bool = False
    type: ValueType = "int"
    unit: str | None = None

    @property
    def all_labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


@dataclass(frozen=True)
class SectionDef:
    key: str
    official: str
    number: str | None = None
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActiveBlock:
    """One sub-table of table 二, e.g. 第二十条第（一）项."""

    item: str
    rows: tuple[Label, ...]
    columns: tuple[Label, ...]


@dataclass(frozen=True)
class CellDef:
    """A statutory cell: its id, the table it belongs to, its official row/column labels."""

    id: str
    table: str
    row: str
    column: str
    type: ValueType = "int"
    unit: str | None = None


@dataclass(frozen=True)
class IdentityInstance:
    """One concrete identity, e.g. balance:natural_person: sum(lhs) == sum(rhs)."""

    id: str
    family: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class ReportFormat:
    id: FormatId
    title: str
    years: tuple[int | None, int | None]
    strong_markers: tuple[str, ...]
    absent_markers: tuple[str, ...]
    sections: tuple[SectionDef, ...]
    active_prefix: str
    active_blocks: tuple[ActiveBlock, ...]
    requests_columns: tuple[Label, ...]
    requests_rows: tuple[Label, ...]
    requests_groups: tuple[Label, ...]
    appeals_groups: tuple[Label, ...]
    appeals_fields: tuple[Label, ...]
    identities: tuple[IdentityInstance, ...] = field(default=())
    cells: dict[str, CellDef] = field(default_factory=dict)

    @property
    def has_statutory_tables(self) -> bool:
        return self.id != "legacy"

    @property
    def result_rows(self) -> tuple[Label, ...]:
        """Rows under 三、本年度办理结果 whose sum is （七）总计."""
        return tuple(
            r for r in self.requests_rows if r.id not in ("new", "carried_in", "results_total", "carried_out")
        )

    def cell_ids(self) -> list[str]:
        return list(self.cells)


def _labels(items: list[dict[str, Any]] | None) -> tuple[Label, ...]:
    out = []
    for it in items or []:
        out.append(
            Label(
                id=str(it["id"]),
                label=str(it["label"]),
                variants=tuple(it.get("variants", ())),
                keys=tuple(it.get("keys", ())),
                exclude=tuple(it.get("exclude", ())),
                group=it.get("group"),
                exact=bool(it.get("exact", False)),
                type=it.get("type", "int"),
                unit=it.get("unit"),
            )
        )
    return tuple(out)


# libyaml's safe loader builds the same objects as PyYAML's pure-Python one, about 5x faster (the
# schema is read at every cold start).
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_SAFE_LOADER)
    if not isinstance(data, dict):
        # A schema authoring error: name the file so the fix is obvious.
        raise ValueError(
            f"schema file {__package__}/{name} must hold a YAML mapping, not {type(data).__name__}"
        )
    return data


def _expand_identities(fmt: ReportFormat, specs: list[dict[str, Any]]) -> tuple[IdentityInstance, ...]:
    """One instance per row, column or group; terms become cell ids through ``cell(instance, term)``."""
    results = [r.id for r in fmt.result_rows]
    each: dict[str, tuple[list[str], Callable[[str, str], str]]] = {
        "row": ([r.id for r in fmt.requests_rows], lambda row, col: f"requests.{row}.{col}"),
        "column": ([c.id for c in fmt.requests_columns], lambda col, row: f"requests.{row}.{col}"),
        "group": ([g.id for g in fmt.appeals_groups], lambda group, field: f"appeals.{group}.{field}"),
    }
    out: list[IdentityInstance] = []
    for spec in specs:
        if spec["for_each"] not in each:  # pragma: no cover - schema authoring error
            raise ValueError(f"unknown for_each in identity {spec['id']}")
        instances, cell = each[spec["for_each"]]
        lhs = list(spec["lhs"])
        rhs = [x for term in spec["rhs"] for x in (results if term == "@results" else [term])]
        for inst in instances:
            out.append(
                IdentityInstance(
                    f"{spec['id']}:{inst}",
                    spec["id"],
                    tuple(cell(inst, t) for t in lhs),
                    tuple(cell(inst, t) for t in rhs),
                    spec["message"],
                )
            )
    return tuple(out)


def _cells(fmt: ReportFormat) -> dict[str, CellDef]:
    cells: dict[str, CellDef] = {}
    for block in fmt.active_blocks:
        for r in block.rows:
            for c in block.columns:
                cid = f"{fmt.active_prefix}.{r.id}.{c.id}"
                cells[cid] = CellDef(cid, "active", r.label, c.label, c.type, c.unit)
    for r in fmt.requests_rows:
        for c in fmt.requests_columns:
            cid = f"requests.{r.id}.{c.id}"
            cells[cid] = CellDef(cid, "requests", r.label, c.label)
    for g in fmt.appeals_groups:
        for f in fmt.appeals_fields:
            cid = f"appeals.{g.id}.{f.id}"
            cells[cid] = CellDef(cid, "appeals", g.label, f.label)
    return cells


@cache
def load_format(format_id: FormatId) -> ReportFormat:
    """The schema of one template generation (cached: the schema is immutable data)."""
    if format_id not in FORMATS:
        raise KeyError(f"unknown report format {format_id!r}; known: {', '.join(FORMATS)}")
    common = _read("common.yaml")
    own = _read(f"format-{format_id}.yaml")
    sections = own.get("sections", common["sections"])
    years = own["years"]
    active = own.get("active", {"prefix": "active", "blocks": []})
    is_tabular = format_id != "legacy"
    rows = (
        _labels(common["requests_rows_head"] + own["requests_other_rows"] + common["requests_rows_tail"])
        if is_tabular
        else ()
    )
    fmt = ReportFormat(
        id=format_id,
        title=str(own["title"]),
        years=(years[0], years[1]),
        strong_markers=tuple(own["markers"]["strong"]),
        absent_markers=tuple(own["markers"]["absent"]),
        sections=tuple(
            SectionDef(
                key=s["key"],
                official=s["official"],
                number=s.get("number"),
                variants=tuple(s.get("variants", ())),
            )
            for s in sections
        ),
        active_prefix=str(active["prefix"]),
        active_blocks=tuple(
            ActiveBlock(item=b["item"], rows=_labels(b["rows"]), columns=_labels(b["columns"]))
            for b in active["blocks"]
        ),
        requests_columns=_labels(common["requests_columns"]) if is_tabular else (),
        requests_rows=rows,
        requests_groups=_labels(common["requests_groups"]) if is_tabular else (),
        appeals_groups=_labels(common["appeals_groups"]) if is_tabular else (),
        appeals_fields=_labels(common["appeals_fields"]) if is_tabular else (),
    )
    identities = _expand_identities(fmt, common["identities"]) if is_tabular else ()
    object.__setattr__(fmt, "identities", identities)
    object.__setattr__(fmt, "cells", _cells(fmt))
    return fmt


def format_for_year(year: int | None) -> FormatId | None:
    if year is None:
        return None
    if year >= 2021:
        return "2021"
    if year >= 2019:
        return "2019"
    return "legacy"


__all__ = [
    "FORMATS",
    "ActiveBlock",
    "CellDef",
    "FormatId",
    "IdentityInstance",
    "Label",
    "ReportFormat",
    "SectionDef",
    "format_for_year",
    "load_format",
]
