"""Scoring: one document's extraction against its truth, and the pooled numbers over groups of them.

Cell accuracy, false alarms, injected errors caught, silent errors, paragraph label F1 (truth and
extracted paragraphs paired by text similarity) and the OCR character error rate; ``Summary`` pools
them per input kind, per format or over everything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from typing import Any

from gongkai.devtools.corpora.truth import Truth
from gongkai.devtools.evaluation.discovery import Item
from gongkai.devtools.evaluation.runner import Outcome
from gongkai.pipeline.labels import normalize_label
from gongkai.pipeline.result import ExtractionResult

LABELS: tuple[str, ...] = ("overview", "problems", "improvements", "other_matters")
# A cell below this confidence is "flagged": a reviewer is pointed at it.
FLAG_CONFIDENCE = 0.5
# Truth and extracted paragraphs pair up when their texts are at least this similar.
PARAGRAPH_MATCH = 0.6


# --------------------------------------------------------------------------- text metrics


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute; each 1) in O(len(a) * len(b) / wordsize).

    Bit-parallel (Myers 1999, Hyyrö's formulation): one Python integer holds a whole DP column as
    vertical +1/-1 deltas, so each character of ``b`` costs a handful of big-integer operations
    instead of a Python loop over ``a``. OCR pages of a few thousand characters take milliseconds.
    """
    if len(a) < len(b):
        a, b = b, a  # the shorter string is the text scanned character by character
    m = len(a)
    if m == 0:
        return len(b)
    if not b:
        return m
    peq: dict[str, int] = {}
    for i, ch in enumerate(a):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for ch in b:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        # Row 0 of the global DP grows by one per column: shift a +1 into the horizontal deltas.
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def levenshtein_rowwise(a: str, b: str) -> int:
    """The textbook two-row dynamic programme; the reference ``levenshtein`` is tested against."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


_WHITESPACE = re.compile(r"\s+")


def char_errors(truth: str, extracted: str) -> tuple[int, int]:
    """(edit distance, truth length) with all whitespace removed: OCR spacing is not an error."""
    t = _WHITESPACE.sub("", truth)
    e = _WHITESPACE.sub("", extracted)
    return levenshtein(t, e), len(t)


def cer(truth: str, extracted: str) -> float | None:
    """Character error rate = edits / truth characters; None when the truth is empty."""
    edits, n = char_errors(truth, extracted)
    return edits / n if n else None


@dataclass
class LabelCounts:
    """Per-label true positives, false positives and false negatives (pooled over documents)."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    n: int = 0  # truth paragraphs that carry a label

    def add(self, truth: str | None, predicted: str | None) -> None:
        if truth is not None:
            self.n += 1
        if truth is not None and predicted == truth:
            self.tp[truth] += 1
            return
        if truth is not None:
            self.fn[truth] += 1
        if predicted is not None:
            self.fp[predicted] += 1

    def merge(self, other: LabelCounts) -> None:
        self.tp.update(other.tp)
        self.fp.update(other.fp)
        self.fn.update(other.fn)
        self.n += other.n

    def f1(self, label: str) -> float:
        tp, fp, fn = self.tp[label], self.fp[label], self.fn[label]
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0

    def macro_f1(self) -> float | None:
        """Mean F1 over the labels that occur in the truth or the predictions; None if none do."""
        present = [lab for lab in LABELS if self.tp[lab] + self.fp[lab] + self.fn[lab]]
        return sum(self.f1(lab) for lab in present) / len(present) if present else None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "macro_f1": self.macro_f1(),
            "per_label": {
                lab: {"tp": self.tp[lab], "fp": self.fp[lab], "fn": self.fn[lab], "f1": self.f1(lab)}
                for lab in LABELS
            },
        }


def macro_f1(pairs: Iterable[tuple[str | None, str | None]]) -> float | None:
    """Macro-F1 of (truth label, predicted label) pairs; a None truth is text that carries no label."""
    counts = LabelCounts()
    for truth, predicted in pairs:
        counts.add(truth, predicted)
    return counts.macro_f1()


def _para_key(text: str) -> str:
    return _WHITESPACE.sub("", text)


def match_paragraphs(truth: Sequence[str], extracted: Sequence[str]) -> dict[int, int]:
    """Truth index → extracted index, one to one, greedily by text similarity (≥ PARAGRAPH_MATCH)."""
    tkeys = [_para_key(t) for t in truth]
    ekeys = [_para_key(e) for e in extracted]
    pairs: list[tuple[float, int, int]] = []
    for i, t in enumerate(tkeys):
        for j, e in enumerate(ekeys):
            if not t or not e:
                continue
            if t == e:
                pairs.append((1.0, i, j))
                continue
            # Length ratio bounds the similarity ratio from above: skip hopeless pairs cheaply.
            if 2 * min(len(t), len(e)) / (len(t) + len(e)) < PARAGRAPH_MATCH:
                continue
            sm = SequenceMatcher(None, t, e, autojunk=False)
            if sm.quick_ratio() < PARAGRAPH_MATCH:
                continue
            r = sm.ratio()
            if r >= PARAGRAPH_MATCH:
                pairs.append((r, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


# --------------------------------------------------------------------------- scoring


def _decimal(v: Any) -> Decimal | None:
    if v is None:
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def same_value(truth: Any, extracted: Any) -> bool:
    """Numbers compare exactly as decimals (7730.28 == 7730.280); null only equals null."""
    if truth is None or extracted is None:
        return truth is None and extracted is None
    return _decimal(truth) == _decimal(extracted)


def _json_number(v: Any) -> Any:
    # Truth decimals come in as Decimal (exact compare); JSON wants plain numbers.
    return float(v) if isinstance(v, Decimal) else v


@dataclass
class WrongCell:
    cell: str
    truth: Any
    extracted: Any
    raw: str | None
    confidence: float
    in_failing_check: bool
    silent: bool  # wrong, in no failing check and confidence ≥ FLAG_CONFIDENCE
    inferred: bool = False  # the pipeline computed the value from an identity (the cell was blank)

    @property
    def kind(self) -> str:
        """missing (truth has a number, nothing extracted), extra (truth null, a value extracted), misread."""
        if self.extracted is None:
            return "missing"
        return "extra" if self.truth is None else "misread"


@dataclass
class InjectedOutcome:
    cell: str
    printed: Any
    consistent: Any
    caught: bool
    caught_by: list[str]  # failing check ids, and/or "low_confidence"


@dataclass
class OcrText:
    """The OCR pages of a document, compared as one text (see ``score``)."""

    pages: list[int]
    edits: int
    truth_chars: int


@dataclass
class DocScore:
    """Everything measured for one document; the JSON's per-document record."""

    document: str
    truth_file: str
    corpus: str
    kind: str
    split: str | None
    status: str  # ok | failed | skipped
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    truth_format: str = ""
    detected_format: str | None = None
    truth_year: int | None = None
    detected_year: int | None = None
    pages: int | None = None
    seconds: float | None = None
    peak_rss_mb: float | None = None
    peak_child_rss_mb: float | None = None  # largest OCR subprocess, if any
    cells_scored: int = 0
    cells_right: int = 0
    wrong_cells: list[WrongCell] = field(default_factory=list)
    consistent: bool = True  # the truth satisfies every identity (no injected or printed errors)
    failing_identities: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)  # failing identities the truth does not expect
    expected_not_failing: list[str] = field(default_factory=list)
    injected: list[InjectedOutcome] = field(default_factory=list)
    silent_errors: int = 0
    paragraphs: LabelCounts = field(default_factory=LabelCounts)
    paragraphs_truth: int = 0
    paragraphs_matched: int = 0
    ocr: OcrText | None = None

    @property
    def all_cells_right(self) -> bool:
        return self.status == "ok" and self.cells_scored > 0 and self.cells_right == self.cells_scored

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paragraphs"] = self.paragraphs.to_json()
        data["all_cells_right"] = self.all_cells_right
        for wc, obj in zip(data["wrong_cells"], self.wrong_cells, strict=True):
            wc["truth"], wc["extracted"] = _json_number(wc["truth"]), _json_number(wc["extracted"])
            wc["kind"] = obj.kind
        for inj in data["injected"]:
            inj["printed"], inj["consistent"] = _json_number(inj["printed"]), _json_number(inj["consistent"])
        return data


def _legacy_lookup(result: ExtractionResult, cell_id: str) -> Any:
    """A legacy cell id is its printed label: fall back to a label-normalized match."""
    prefix = "legacy."
    want = normalize_label(cell_id[len(prefix) :])
    for cid, cell in result.cells.items():
        if cid.startswith(prefix) and normalize_label(cid[len(prefix) :]) == want:
            return cell
    return None


def _expected_checks(truth: Truth, injected: Any) -> list[str]:
    own = getattr(injected, "expected_failing_checks", None) or (injected.model_extra or {}).get(
        "expected_failing_checks"
    )
    return list(own) if own else list(truth.expected_failing_checks)


def score(item: Item, outcome: Outcome | None) -> DocScore:
    """Compare one extraction (or its failure) with the truth."""
    t = item.truth
    ds = DocScore(
        document=t.document,
        truth_file=str(item.truth_path),
        corpus=item.corpus,
        kind=t.kind,
        split=item.split,
        status="ok",
        truth_format=t.format,
        truth_year=t.year,
        consistent=not t.injected_errors and not t.expected_failing_checks,
    )
    ds.paragraphs_truth = sum(p.label is not None for p in t.paragraphs)
    if item.skip_reason is not None:
        ds.status, ds.error = "skipped", item.skip_reason
        return ds
    ds.cells_scored = len(t.cells)
    if outcome is None or outcome.result is None:
        ds.status = "failed"
        if outcome is not None:
            ds.error, ds.error_type, ds.traceback = outcome.error, outcome.error_type, outcome.traceback
            ds.seconds = round(outcome.seconds, 4)
            ds.peak_rss_mb = _round(outcome.peak_rss_mb)
            ds.peak_child_rss_mb = _round(outcome.peak_child_rss_mb)
        # A failed document scores no cell, label or caught error: failure is never rewarded.
        for lab in (p.label for p in t.paragraphs):
            ds.paragraphs.add(lab, None)
        for inj in t.injected_errors:
            ds.injected.append(InjectedOutcome(inj.cell, inj.printed, inj.consistent, False, []))
        return ds

    r = outcome.result
    ds.seconds = round(outcome.seconds, 4)
    ds.peak_rss_mb = _round(outcome.peak_rss_mb)
    ds.peak_child_rss_mb = _round(outcome.peak_child_rss_mb)
    ds.pages = r.source.pages
    ds.detected_format = r.format
    ds.detected_year = r.metadata.year

    failing = r.failing_checks()
    # Soft checks never fail, they warn; a warning that names a cell still points a reviewer at it.
    raised = [c for c in r.checks if c.status in ("fail", "warn")]
    failing_ids = {c.id for c in raised}
    in_failing = {cid for c in raised for cid in c.cells}
    ds.failing_identities = sorted(c.id for c in failing if c.kind == "identity")
    expected = set(t.expected_failing_checks)
    for inj in t.injected_errors:
        expected.update(_expected_checks(t, inj))
    ds.false_alarms = [cid for cid in ds.failing_identities if cid not in expected]
    ds.expected_not_failing = sorted(expected - failing_ids)

    for cid, want in t.cells.items():
        cell = r.cells.get(cid)
        if cell is None and cid.startswith("legacy."):
            cell = _legacy_lookup(r, cid)
        got = cell.value if cell is not None else None
        if same_value(want, got):
            ds.cells_right += 1
            continue
        confidence = cell.confidence if cell is not None else 0.0
        flagged_by_check = cid in in_failing
        silent = not flagged_by_check and confidence >= FLAG_CONFIDENCE
        ds.silent_errors += silent
        inferred = bool(cell is not None and cell.inferred)
        raw = cell.raw if cell is not None else None
        ds.wrong_cells.append(WrongCell(cid, want, got, raw, confidence, flagged_by_check, silent, inferred))

    for inj in t.injected_errors:
        by = sorted(set(_expected_checks(t, inj)) & failing_ids)
        cell = r.cells.get(inj.cell)
        if cell is None or cell.confidence < FLAG_CONFIDENCE:
            by.append("low_confidence")
        ds.injected.append(InjectedOutcome(inj.cell, inj.printed, inj.consistent, bool(by), by))

    extracted = [p for s in r.sections for p in s.paragraphs]
    matches = match_paragraphs([p.text for p in t.paragraphs], [p.text for p in extracted])
    ds.paragraphs_matched = sum(1 for i in matches if t.paragraphs[i].label is not None)
    for i, tp in enumerate(t.paragraphs):
        predicted = extracted[matches[i]].label if i in matches else None
        ds.paragraphs.add(tp.label, predicted)

    # The OCR pages are compared as one text, in page order: a paragraph that runs onto the next
    # page is reported on its first page, so a page-by-page comparison would count its tail twice.
    truth_pages = truth_page_texts(t.page_texts)
    ocr_pages = [
        p.number
        for p in r.pages
        if p.text_source == "ocr"
        and p.number <= len(truth_pages)
        and _WHITESPACE.sub("", truth_pages[p.number - 1])
    ]
    if ocr_pages:
        edits, chars = char_errors(
            "\n".join(truth_pages[n - 1] for n in ocr_pages),
            "\n".join(extracted_page_text(r, n) for n in ocr_pages),
        )
        ds.ocr = OcrText(ocr_pages, edits, chars)
    return ds


_PAGE_NUMBER_LINE = re.compile(r"^[-—–－\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*共\s*\d{1,4}\s*页)?[-—–－\s]*$")


def truth_page_texts(page_texts: Sequence[str]) -> list[str]:
    """The truth's page texts without what the pipeline drops by design: page numbers and running
    headers/footers (a line repeated as the first or last line of two or more pages)."""
    pages = [[ln for ln in text.splitlines() if ln.strip()] for text in page_texts]
    edge_lines = Counter(
        _para_key(ln) for lines in pages for ln in {*(lines[:1]), *(lines[-1:])} if not _is_page_number(ln)
    )
    running = {k for k, count in edge_lines.items() if count >= 2}
    return [
        "\n".join(ln for ln in lines if not _is_page_number(ln) and _para_key(ln) not in running)
        for lines in pages
    ]


def _is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER_LINE.match(line))


def extracted_page_text(result: ExtractionResult, page: int) -> str:
    """What the result says is the text of a page outside tables: the title (page 1), section
    headings and paragraphs on that page, in reading order."""
    parts: list[str] = []
    if page == 1 and result.metadata.title:
        parts.append(result.metadata.title)
    for section in result.sections:
        if section.heading and section.page == page:
            parts.append(section.heading)
        parts += [p.text for p in section.paragraphs if p.page == page]
    return "\n".join(parts)


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


# --------------------------------------------------------------------------- aggregation


@dataclass
class Summary:
    """Pooled numbers over a group of documents (an input kind, a format, or all)."""

    documents: int = 0
    failed: int = 0
    skipped: int = 0
    cells_scored: int = 0
    cells_right: int = 0
    all_right: int = 0
    consistent: int = 0
    false_alarm_docs: int = 0
    false_alarm_checks: int = 0
    injected: int = 0
    injected_caught: int = 0
    silent_errors: int = 0
    format_right: int = 0
    year_right: int = 0
    paragraphs: LabelCounts = field(default_factory=LabelCounts)
    ocr_pages: int = 0
    ocr_edits: int = 0
    ocr_chars: int = 0
    pages: int = 0
    seconds: float = 0.0
    peak_rss_mb: float | None = None

    def add(self, d: DocScore) -> None:
        if d.status == "skipped":
            self.skipped += 1
            return
        self.documents += 1
        self.failed += d.status == "failed"
        self.cells_scored += d.cells_scored
        self.cells_right += d.cells_right
        self.all_right += d.all_cells_right
        if d.consistent:
            self.consistent += 1
            self.false_alarm_docs += bool(d.false_alarms)
            self.false_alarm_checks += len(d.false_alarms)
        self.injected += len(d.injected)
        self.injected_caught += sum(i.caught for i in d.injected)
        self.silent_errors += d.silent_errors
        self.format_right += d.detected_format == d.truth_format
        self.year_right += d.detected_year == d.truth_year
        self.paragraphs.merge(d.paragraphs)
        if d.ocr is not None:
            self.ocr_pages += len(d.ocr.pages)
            self.ocr_edits += d.ocr.edits
            self.ocr_chars += d.ocr.truth_chars
        if d.status == "ok" and d.pages and d.seconds is not None:
            self.pages += d.pages
            self.seconds += d.seconds
        for peak in (d.peak_rss_mb, d.peak_child_rss_mb):
            if peak is not None:
                self.peak_rss_mb = max(self.peak_rss_mb or 0.0, peak)

    @property
    def cell_accuracy(self) -> float | None:
        return self.cells_right / self.cells_scored if self.cells_scored else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarm_docs / self.consistent if self.consistent else None

    @property
    def cer(self) -> float | None:
        return self.ocr_edits / self.ocr_chars if self.ocr_chars else None

    @property
    def seconds_per_page(self) -> float | None:
        return self.seconds / self.pages if self.pages else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["paragraphs"] = self.paragraphs.to_json()
        data.update(
            cell_accuracy=self.cell_accuracy,
            false_alarm_rate=self.false_alarm_rate,
            injected_caught_rate=self.injected_caught / self.injected if self.injected else None,
            format_accuracy=self.format_right / self.documents if self.documents else None,
            year_accuracy=self.year_right / self.documents if self.documents else None,
            cer=self.cer,
            seconds_per_page=self.seconds_per_page,
        )
        return data


def pool(documents: Iterable[DocScore]) -> Summary:
    """The numbers of ``documents`` pooled into one ``Summary``."""
    summary = Summary()
    for d in documents:
        summary.add(d)
    return summary


def pool_by(documents: Iterable[DocScore], key: Callable[[DocScore], str]) -> dict[str, Summary]:
    """One ``Summary`` per group (input kind, truth format), groups in order of first appearance."""
    groups: dict[str, Summary] = {}
    for d in documents:
        groups.setdefault(key(d), Summary()).add(d)
    return groups
