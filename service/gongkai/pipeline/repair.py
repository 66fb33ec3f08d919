"""Repair by reconciliation: when identities fail, search the OCR candidates of the cells involved.

For each group of failing identities (linked by shared cells) the search tries changing one cell,
then two, then three, to another of its OCR candidates, and keeps the assignments under which every
identity of the group passes and no identity that passed before fails. Among the assignments with
the fewest changes, the one with the highest joint probability is applied only when it is the only
one or clearly better than the next (``MARGIN`` times as likely). The original reading stays in
``raw``; the cell records the check that justified the change in ``repaired_by``. Applied means
returned: ``repair`` never changes the readings it is given, it returns new ones
(``RepairOutcome.readings``) for the caller to reconcile again.

Anything else is left as read and reported for review, naming the cells to look at (lowest
confidence first); those cells, and OCR cells read with low confidence, are ``RepairOutcome.review``.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from gongkai.pipeline.checks.model import Num
from gongkai.pipeline.checks.reconcile import Reconciliation
from gongkai.pipeline.confidence import REVIEW_BELOW, repaired_confidence
from gongkai.pipeline.mapping import CellReading, MappingResult
from gongkai.pipeline.numbers import parse_number
from gongkai.pipeline.schema import ReportFormat

# The best repair must be this many times as likely as the runner-up to be applied.
MARGIN = 20.0
# A candidate this unlikely is not a reading of the cell, whatever the identities say.
MIN_CANDIDATE_P = 1e-7
# Reports do print sums that do not add up (the real 洪泽区 2023 report fails two identities), so a
# repair must be plausible as a misreading: the recogniser must find the changed readings, taken
# together, at least this likely relative to what it read. Otherwise the report's own numbers
# stand and the failing check is left for review.
MIN_LIKELIHOOD_RATIO = 0.01
MAX_CHANGES = 3
MAX_TRIALS = 200_000


@dataclass
class Repair:
    cell_id: str
    old: str
    new: str
    check_id: str
    probability: float  # of the applied candidate, as the recogniser gave it
    margin: float  # how much likelier than the runner-up assignment (inf = the only one)


@dataclass
class RepairOutcome:
    repairs: list[Repair] = field(default_factory=list)
    # The repaired readings by cell id: new objects; the mapping given to ``repair`` is unchanged.
    readings: dict[str, CellReading] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Cells a person should look at → why, in the order the warnings name them.
    review: dict[str, str] = field(default_factory=dict)

    @property
    def review_cells(self) -> list[str]:
        return list(self.review)


@dataclass
class _Identity:
    id: str
    lhs: list[str]
    rhs: list[str]

    def holds(self, value: dict[str, Num]) -> bool:
        return sum((value.get(c, 0) for c in self.lhs), 0) == sum((value.get(c, 0) for c in self.rhs), 0)


def _identities(fmt: ReportFormat, rec: Reconciliation) -> tuple[list[_Identity], list[_Identity]]:
    """(assessable identities that pass, identities to repair) from the reconciliation's checks."""
    lhs_len = {i.id: len(i.lhs) for i in fmt.identities}
    passing, failing = [], []
    for chk in rec.checks:
        if chk.kind != "identity" or not chk.cells:
            continue
        n = lhs_len.get(chk.id, 1)
        ident = _Identity(chk.id, list(chk.cells[:n]), list(chk.cells[n:]))
        if chk.status == "pass":
            passing.append(ident)
        elif chk.status == "fail":
            failing.append(ident)
        elif chk.status == "not_assessable":
            # Assessable once unreadable OCR cells take a numeric candidate.
            states = [rec.cells.get(c) for c in chk.cells]
            if all(s is not None and not s.missing for s in states) and any(
                s is not None and s.error for s in states
            ):
                failing.append(ident)
    return passing, failing


def _options(reading: CellReading) -> list[tuple[Num, float, str]]:
    """(value, probability, text) per numeric candidate, best first, one entry per value."""
    seen: dict[Num, tuple[Num, float, str]] = {}
    for text, p in reading.candidates:
        parsed = parse_number(text, kind="int")
        if parsed.value is None or parsed.error or p < MIN_CANDIDATE_P:
            continue
        if parsed.value not in seen or seen[parsed.value][1] < p:
            seen[parsed.value] = (parsed.value, p, text)
    return sorted(seen.values(), key=lambda o: -o[1])


def _reading_of(mapping: MappingResult, cid: str) -> CellReading | None:
    return mapping.readings.get(cid) or mapping.extra.get(cid)


def repair(fmt: ReportFormat, mapping: MappingResult, rec: Reconciliation) -> RepairOutcome:
    """The unambiguous repairs as new readings (``mapping`` is not changed), and what stays
    unresolved: warnings and the cells to review."""
    out = RepairOutcome()
    passing, failing = _identities(fmt, rec)
    value: dict[str, Num] = {
        cid: (st.value if st.value is not None else 0) for cid, st in rec.cells.items() if not st.missing
    }
    for group in _groups(failing):
        cells = sorted({c for ident in group for c in (*ident.lhs, *ident.rhs)})
        options: dict[str, list[tuple[Num, float, str]]] = {}
        for cid in cells:
            reading = _reading_of(mapping, cid)
            st = rec.cells.get(cid)
            if reading is None or st is None or st.inferred or not reading.candidates:
                continue
            opts = _options(reading)
            if len(opts) > 1 or (st.error and opts):
                options[cid] = opts
        ids = "、".join(i.id for i in group)
        solutions = _search(group, passing, value, options, rec)
        if solutions:
            solutions.sort(key=lambda s: -s[0])
            best_score, best = solutions[0]
            margin = math.inf if len(solutions) == 1 else best_score / max(solutions[1][0], 1e-300)
            if margin >= MARGIN and best_score >= MIN_LIKELIHOOD_RATIO:
                for cid, (v, p, text) in best.items():
                    reading = _reading_of(mapping, cid)
                    if reading is None:  # only cells with readings get options; a bug otherwise
                        raise RuntimeError(f"repair chose {cid}, which has no reading")
                    check_id = next(i.id for i in group if cid in (*i.lhs, *i.rhs))
                    out.repairs.append(Repair(cid, reading.raw, text, check_id, p, margin))
                    out.readings[cid] = dataclasses.replace(
                        reading,
                        parsed=parse_number(text, kind="int"),
                        repaired_by=check_id,
                        # How decisively the identities chose it.
                        ocr_confidence=repaired_confidence(margin),
                    )
                    value[cid] = v
                continue
            alternatives = "; ".join(
                ", ".join(f"{c}={o[2]}" for c, o in sol.items()) for _, sol in solutions[:3]
            )
            if margin >= MARGIN:
                reason = f"{ids} fail; only an unlikely misreading of the OCR candidates would fix them"
                out.warnings.append(
                    f"review: {ids} fail; only an unlikely misreading would fix them ({alternatives}, "
                    f"{best_score:.1e} as likely as the printed reading); nothing was changed"
                )
            else:
                reason = f"{ids} fail; several readings of the OCR candidates fit about equally well"
                out.warnings.append(
                    f"review: {ids} fail; {len(solutions)} readings of the OCR candidates fit about "
                    f"equally well ({alternatives}); nothing was changed"
                )
        elif options:
            reason = f"{ids} fail and no OCR candidate reading satisfies them"
            out.warnings.append(f"review: {reason}")
        else:
            # Text-layer (or confidently read) cells: the printed numbers themselves disagree.
            reason = f"{ids} fail as printed"
            out.warnings.append(f"review: {ids} fail as printed; there is no other reading to try")
        look = sorted(cells, key=lambda c: _confidence(mapping, c))[:6]
        for c in look:
            out.review.setdefault(c, reason)
        out.warnings.append(f"review: cells to look at for {ids}: {', '.join(look)}")
    low = [
        (cid, r)
        for cid, r in _after_repairs(mapping, out.readings)
        if r.candidates and r.repaired_by is None and r.ocr_confidence < REVIEW_BELOW
    ]
    if low:
        listed = ", ".join(sorted(cid for cid, _ in low))
        out.warnings.append(f"review: OCR read {len(low)} cells with low confidence: {listed}")
        for cid, r in low:
            out.review.setdefault(
                cid, f"OCR read it with probability {r.ocr_confidence} (below {REVIEW_BELOW})"
            )
    return out


def _after_repairs(
    mapping: MappingResult, repaired: dict[str, CellReading]
) -> Iterator[tuple[str, CellReading]]:
    """Every (cell id, reading) of ``mapping`` with the repaired readings in place of the ones they
    replace (the reading ``_reading_of`` finds)."""
    for cid, r in (*mapping.readings.items(), *mapping.extra.items()):
        if cid in repaired and _reading_of(mapping, cid) is r:
            yield cid, repaired[cid]
        else:
            yield cid, r


def _confidence(mapping: MappingResult, cid: str) -> float:
    r = _reading_of(mapping, cid)
    return r.ocr_confidence * r.match if r is not None else 1.0


def _groups(failing: list[_Identity]) -> list[list[_Identity]]:
    """Failing identities linked by shared cells."""
    groups: list[list[_Identity]] = []
    for ident in failing:
        cells = {*ident.lhs, *ident.rhs}
        linked = [g for g in groups if any(cells & {*i.lhs, *i.rhs} for i in g)]
        merged = [ident]
        for g in linked:
            merged += g
            groups.remove(g)
        groups.append(merged)
    return groups


def _search(
    group: list[_Identity],
    passing: list[_Identity],
    value: dict[str, Num],
    options: dict[str, list[tuple[Num, float, str]]],
    rec: Reconciliation,
) -> list[tuple[float, dict[str, tuple[Num, float, str]]]]:
    """All assignments with the fewest changes that make the group pass and break nothing."""
    variables = sorted(options)
    base_p = {c: _current_p(options[c], rec, c) for c in variables}
    trials = 0
    for k in range(1, min(MAX_CHANGES, len(variables)) + 1):
        found: list[tuple[float, dict[str, tuple[Num, float, str]]]] = []
        for subset in itertools.combinations(variables, k):
            alts = [[o for o in options[c] if not _is_current(o, rec, c)] for c in subset]
            for choice in itertools.product(*alts):
                trials += 1
                if trials > MAX_TRIALS:
                    return found
                trial = dict(value)
                for c, o in zip(subset, choice, strict=True):
                    trial[c] = o[0]
                if not all(i.holds(trial) for i in group):
                    continue
                touched = set(subset)
                if any(not i.holds(trial) for i in passing if touched & {*i.lhs, *i.rhs}):
                    continue
                score = math.prod(o[1] / max(base_p[c], 1e-300) for c, o in zip(subset, choice, strict=True))
                found.append((score, dict(zip(subset, choice, strict=True))))
        if found:
            return found
    return []


def _is_current(option: tuple[Num, float, str], rec: Reconciliation, cid: str) -> bool:
    st = rec.cells[cid]
    return st.error is None and st.value == option[0]


def _current_p(opts: list[tuple[Num, float, str]], rec: Reconciliation, cid: str) -> float:
    return next((o[1] for o in opts if _is_current(o, rec, cid)), 1.0)
