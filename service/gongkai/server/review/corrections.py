"""A reviewer's correction as typed data, and how a corrected cell value is read.

Corrections are stored as JSON (``corrections.new_json``); ``CellChange`` and ``ParagraphChange``
are that JSON validated. Numbers are ``int | Decimal`` as in the result contract and dump to JSON
numbers, so a stored change reads back exactly as it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.result import CellOut, Number, ParagraphLabel, ParagraphOut
from gongkai.pipeline.schema import FormatId, load_format

Target = Literal["cell", "paragraph"]


class BadCorrection(ValueError):
    """The correction cannot apply (a value that is not a number, …)."""


class CellChange(BaseModel):
    """What a cell reads after a correction (also the history's record of what it read before).

    The defaults stand for keys absent from a stored change, read as missing values.
    """

    value: Number | None = None
    raw: str | None = None
    blank: bool = False
    note: str | None = None

    @classmethod
    def of(cls, current: CellOut) -> CellChange:
        """The reading a cell is served with now: what a correction replaces."""
        return cls(value=current.value, raw=current.raw, blank=current.blank, note=current.note)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ParagraphChange(BaseModel):
    """A paragraph's new text and/or label. Only the fields that were given belong to the change
    (``model_fields_set``): a label given as None clears the label, an absent one keeps it."""

    text: str | None = None
    label: ParagraphLabel | None = None

    @property
    def sets_text(self) -> bool:
        return "text" in self.model_fields_set

    @property
    def sets_label(self) -> bool:
        return "label" in self.model_fields_set

    def replaced_in(self, current: ParagraphOut) -> ParagraphChange:
        """The same fields as they read in ``current`` now: what this change replaces."""
        return ParagraphChange.model_validate({k: getattr(current, k) for k in self.model_fields_set})

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


@dataclass(frozen=True)
class Correction:
    """One stored correction: ``target_id`` is a cell id, or a paragraph number (1-based, in
    reading order across sections) for a paragraph change."""

    id: int
    target_id: str
    change: CellChange | ParagraphChange
    reason: str
    by: str  # the key id
    at: datetime


def value_kind(format_id: FormatId, cell_id: str) -> str:
    cell = load_format(format_id).cells.get(cell_id)
    return cell.type if cell is not None else "int"


def parse_cell_value(format_id: FormatId, cell_id: str, value: object) -> CellChange:
    """A reviewer's value (a number, text as printed, or None for a blank) → the change to store.

    Raises BadCorrection.
    """
    kind = value_kind(format_id, cell_id)
    if value is None:
        return CellChange(value=None, raw="", blank=True, note=None)
    if isinstance(value, bool):
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    if isinstance(value, int | float):
        if isinstance(value, float) and value != value:  # NaN
            raise BadCorrection("not a number: NaN")
        text = str(value) if isinstance(value, int) or kind == "decimal" else _float_text(value)
    elif isinstance(value, str):
        text = value
        if len(text) > 200:
            raise BadCorrection("a cell value is at most 200 characters")
    else:
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    parsed = parse_number(text, kind=kind)
    if parsed.error:
        raise BadCorrection(parsed.error)
    return CellChange(value=parsed.value, raw=text, blank=parsed.blank, note=parsed.note)


def _float_text(v: float) -> str:
    return str(int(v)) if v == int(v) else repr(v)
