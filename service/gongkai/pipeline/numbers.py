"""Parse the numbers printed in table cells: full-width digits, commas, blanks, dashes, notes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from gongkai.pipeline.labels import fold_width

# Printed marks that mean "nothing written here" rather than a number.
_BLANK_MARKS = {"", "-", "—", "——", "–", "/", "／", "\\", "无", "空", "－", "---", "--", "/-"}
_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_SIGN_WORDS = (("增加", "+"), ("增", "+"), ("减少", "-"), ("减", "-"))


@dataclass(frozen=True)
class ParsedNumber:
    """A cell's reading: ``value`` None with ``blank`` True for a printed blank or dash."""

    value: int | Decimal | None
    raw: str
    blank: bool = False
    note: str | None = None
    unit: str | None = None
    error: str | None = None


def parse_number(text: str, *, kind: str = "int") -> ParsedNumber:
    """Read one cell. ``kind`` is ``int``, ``decimal`` (万元 amounts) or ``signed`` (本年增/减).

    ``22（其中修订16件）`` reads 22 with the note kept; ``251000元`` reads with unit 元.
    """
    raw = text
    t = fold_width(text).strip()
    t = re.sub(r"\s+", "", t)
    if t in _BLANK_MARKS:
        return ParsedNumber(None, raw, blank=True)
    if kind == "signed":
        if t in ("持平", "不变"):
            return ParsedNumber(0, raw)
        for word, sign in _SIGN_WORDS:
            if t.startswith(word):
                t = sign + t[len(word) :]
                break
    m = _NUMBER.match(t)
    if not m:
        return ParsedNumber(None, raw, error=f"not a number: {raw.strip()!r}")
    sign, whole, frac = m.group(1), m.group(2).replace(",", ""), m.group(3)
    rest = t[m.end() :]
    if re.match(r"[-+]\d", rest):
        # 20-10: two values in one cell (a lost rule between them). Digits on two lines are not
        # caught here: narrow cells of born-digital reports wrap long numbers (1283 / 31).
        return ParsedNumber(None, raw, error=f"two numbers in one cell: {raw.strip()!r}")
    unit = None
    for u in ("万元", "元", "件", "条", "项", "个", "次"):
        if rest.startswith(u):
            unit, rest = u, rest[len(u) :]
            break
    note = rest.strip("()（）") if rest else None
    if sign == "-" and kind != "signed":
        return ParsedNumber(None, raw, error=f"negative count: {raw.strip()!r}")
    if frac is not None or kind == "decimal":
        try:
            dec = Decimal(f"{sign}{whole}.{frac}" if frac is not None else f"{sign}{whole}")
        except InvalidOperation:  # pragma: no cover - regex guarantees digits
            return ParsedNumber(None, raw, error=f"not a number: {raw.strip()!r}")
        if kind != "decimal":
            if dec != dec.to_integral_value():
                return ParsedNumber(None, raw, note=note, error=f"fraction in a count: {raw.strip()!r}")
            return ParsedNumber(int(dec), raw, note=note or None, unit=unit)
        return ParsedNumber(dec, raw, note=note or None, unit=unit)
    value = int(f"{sign}{whole}")
    return ParsedNumber(value, raw, note=note or None, unit=unit)


def looks_numeric(text: str) -> bool:
    """True when a cell's text is a number or a blank mark (used to tell data cells from labels)."""
    t = re.sub(r"\s+", "", fold_width(text))
    return t in _BLANK_MARKS or bool(re.fullmatch(r"[+-]?[\d,]+(?:\.\d+)?(?:万元|元|件)?", t))
