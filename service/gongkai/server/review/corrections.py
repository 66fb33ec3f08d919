"""A reviewer's correction as typed data, and how a corrected cell value is read.

Corrections are stored as JSON (``corrections.new_json``); ``CellChange`` and ``ParagraphChange``
are that JSON validated. Numbers are ``int | Decimal`` as in the result contract and dump to JSON
numbers, so a stored change reads back exactly as it was written.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gongkai.pipeline.labels import fold_width
from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.result import CellOut, Number, ParagraphLabel, ParagraphOut
from gongkai.pipeline.schema import FormatId, load_format

Target = Literal["cell", "paragraph"]

# What a corrected cell may hold: the xlsx export and the JSON float of an amount stay exact below these.
MAX_VALUE = 10**12
MAX_DECIMALS = 4  # amounts are 万元 to the 元
# A number in exponent form, which the printed-cell reader would take as a number and a note ("1e5").
_EXPONENT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")
_NOTE_LIKE_EXPONENT = re.compile(r"[eE][+-]?\d")


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

    model_config = ConfigDict(strict=True)  # a label or text of another type is refused, not coerced

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

    The stored value equals the number sent exactly, or the value is refused: counts are integers
    in [0, 10^12) (signed cells in (-10^12, 10^12)); amounts are finite, in [0, 10^12), with at most
    4 decimals, and read back the same from their JSON float. Raises BadCorrection.
    """
    kind = value_kind(format_id, cell_id)
    if value is None:
        return CellChange(value=None, raw="", blank=True, note=None)
    if isinstance(value, bool):  # before int: True is an int to Python, not a number to a reviewer
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    if isinstance(value, str):
        return _parse_text(kind, value)
    number: int | Decimal
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadCorrection(f"not a number: {value}")
        # repr is the shortest text that reads back as this float: the number the JSON body held.
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise BadCorrection(f"not a number: {value}")
        number = value
    else:
        raise BadCorrection("a cell value is a number, a string as printed, or null for a blank")
    checked = checked_value(kind, number)
    return CellChange(value=checked, raw=_plain(checked), blank=False, note=None)


def _parse_text(kind: str, text: str) -> CellChange:
    if len(text) > 200:
        raise BadCorrection("a cell value is at most 200 characters")
    folded = re.sub(r"\s+", "", fold_width(text))
    if _EXPONENT.fullmatch(folded):
        try:
            number = Decimal(folded)
        except InvalidOperation as exc:  # an exponent past what Decimal holds
            raise BadCorrection(f"not a number: {text.strip()!r}") from exc
        return CellChange(value=checked_value(kind, number), raw=text, blank=False, note=None)
    parsed = parse_number(text, kind=kind)
    if parsed.error:
        raise BadCorrection(parsed.error)
    if parsed.note is not None and _NOTE_LIKE_EXPONENT.match(parsed.note):
        raise BadCorrection(f"not a number: {text.strip()!r}")  # "1e5x": not an exponent, not a note
    value = None if parsed.value is None else checked_value(kind, parsed.value)
    return CellChange(value=value, raw=text, blank=parsed.blank, note=parsed.note)


def checked_value(kind: str, number: int | Decimal) -> int | Decimal:
    """``number`` (finite) as a ``kind`` cell stores it, exactly; BadCorrection when it cannot be."""
    # Magnitude first: nothing below has to handle 1E+999999.
    if number < 0 and kind != "signed":
        raise BadCorrection(f"a cell value cannot be negative: {_shown(number)}")
    if not -MAX_VALUE < number < MAX_VALUE:
        raise BadCorrection(f"a cell value is below {MAX_VALUE:,}: {_shown(number)}")
    if kind != "decimal":
        if isinstance(number, Decimal):
            if number != number.to_integral_value():
                raise BadCorrection(f"fraction in a count: {_shown(number)}")
            return int(number)
        return number
    amount = Decimal(number)
    if amount == 0:
        return Decimal(0)  # not -0 or 0E-7
    if -_decimals_exponent(amount) > MAX_DECIMALS:
        raise BadCorrection(f"an amount has at most {MAX_DECIMALS} decimals: {_shown(amount)}")
    plain = Decimal(format(amount, "f"))
    # Amounts are served (and stored) as JSON floats: one that a float cannot carry would change.
    if (served := Decimal(repr(float(plain)))) != plain:  # only above 2^39 (5.5e11) with 4 decimals
        raise BadCorrection(f"an amount this large has fewer decimals: {plain} would read {served}")
    return plain


def _decimals_exponent(d: Decimal) -> int:
    """The exponent of ``d``'s last non-zero digit (no context rounding, unlike normalize())."""
    t = d.as_tuple()
    assert isinstance(t.exponent, int)  # finite
    digits = "".join(map(str, t.digits))
    return t.exponent + len(digits) - len(digits.rstrip("0"))


def _plain(v: int | Decimal) -> str:
    return str(v) if isinstance(v, int) else format(v, "f")


def _shown(v: int | Decimal) -> str:
    """``v`` for a message: plain unless that is long (1E-999999 would be a million zeros)."""
    d = Decimal(v)  # an int too: str() of one past 4300 digits raises
    return f"{d:.6g}" if abs(d.adjusted()) > 30 else _plain(v)
