"""The evaluation harness: run the whole pipeline on documents with known truth and score it.

Every accuracy and speed number Gongkai states comes from here (``gongkai evaluate``). A corpus is a
folder of ``<id>.truth.json`` files (``corpora.truth.Truth``) beside their documents; hand-made truth
files such as ``corpora/real/truth/*.json`` work too, their documents resolved against
``--documents-dir`` or ``../shared/corpus/real``.

Each document runs in a worker process (crash isolation, peak memory per document); the parent
scores the results against the truth and aggregates them per input kind. Nothing here changes the
pipeline's output: a wrong cell is reported with the document, the truth and what was extracted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import os
import platform
import re
import resource
import signal
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gongkai.devtools.corpora.truth import InputKind, Truth, load_truth
from gongkai.errors import GongkaiError, InputError
from gongkai.pipeline.labels import normalize_label
from gongkai.pipeline.result import ExtractionResult

INPUT_KINDS: tuple[InputKind, ...] = ("pdf", "scan_pdf", "image", "html", "docx")
LABELS: tuple[str, ...] = ("overview", "problems", "improvements", "other_matters")
FORMAT_IDS: tuple[str, ...] = ("2021", "2019", "legacy")
# Files the pipeline is meant to read; a truth file naming anything else (e.g. the haizhou .txt dump)
# is listed as skipped rather than counted as an extraction failure.
READABLE_SUFFIXES = frozenset(
    {".pdf", ".html", ".htm", ".docx", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)
# A cell below this confidence is "flagged": a reviewer is pointed at it.
FLAG_CONFIDENCE = 0.5
# Truth and extracted paragraphs pair up when their texts are at least this similar.
PARAGRAPH_MATCH = 0.6
NA = "—"
SCHEMA_VERSION = "gongkai-eval/1"
REPO = Path(__file__).resolve().parents[4]


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


# --------------------------------------------------------------------------- discovery


@dataclass
class CorpusInfo:
    path: str
    truth_files: int
    manifest: dict[str, Any] | None = None

    def describe(self) -> str:
        """One line naming the seeds and splits the corpus was made with (the held-out rule)."""
        if self.manifest is None:
            return f"{self.path}: {self.truth_files} truth files, no manifest.json (seed/split unknown)"
        m = self.manifest
        parts = [f"{self.path}: {self.truth_files} truth files"]
        for key in ("generator", "version", "seed", "n", "split"):
            if key in m and not isinstance(m[key], dict | list):
                parts.append(f"{key}={m[key]}")
        splits = m.get("splits")
        if isinstance(splits, dict):
            parts.append("splits " + ", ".join(f"{k}: {_brief(v)}" for k, v in splits.items()))
        return "; ".join(parts)


def _brief(v: Any) -> str:
    if isinstance(v, list):
        return f"{len(v)} documents"
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items() if not isinstance(x, dict | list))
    return str(v)


@dataclass
class Item:
    """One document to evaluate: its truth, where the document is, or why it is skipped."""

    truth_path: Path
    truth: Truth
    corpus: str
    document: Path | None
    split: str | None = None
    skip_reason: str | None = None

    @property
    def name(self) -> str:
        return self.truth.document


def default_documents_dir() -> Path | None:
    """Where real reports live: $GONGKAI_SHARED_DIR/corpus/real or ../shared/corpus/real."""
    env = os.environ.get("GONGKAI_SHARED_DIR")
    base = Path(env) if env else REPO.parent / "shared"
    path = base / "corpus" / "real"
    return path if path.is_dir() else None


def _truth_files(folder: Path) -> list[Path]:
    found = sorted(folder.rglob("*.truth.json"))
    if found:
        return found
    # Hand-made truth folders (corpora/real/truth) name files <id>.json: take those that parse.
    return sorted(p for p in folder.glob("*.json") if p.name != "manifest.json")


def _manifest(folder: Path) -> dict[str, Any] | None:
    for candidate in (folder / "manifest.json", folder.parent / "manifest.json"):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{candidate}: unreadable manifest ({exc})") from exc
            return data if isinstance(data, dict) else {"manifest": data}
    return None


def _split_of(truth: Truth, manifest: dict[str, Any] | None) -> str | None:
    extra = truth.model_extra or {}
    if isinstance(extra.get("split"), str):
        return str(extra["split"])
    if manifest is None:
        return None
    splits = manifest.get("splits")
    if isinstance(splits, dict):
        stem = truth.document.rsplit(".", 1)[0]
        for name, members in splits.items():
            if isinstance(members, list) and (truth.document in members or stem in members):
                return str(name)
    split = manifest.get("split")
    return str(split) if isinstance(split, str) else None


def discover(
    corpora: Sequence[str | Path], documents_dir: str | Path | None = None
) -> tuple[list[Item], list[CorpusInfo]]:
    """Every truth file under the corpus folders, with its document resolved (or a skip reason)."""
    doc_dirs = [Path(documents_dir)] if documents_dir else []
    shared = default_documents_dir()
    if shared is not None:
        doc_dirs.append(shared)
    items: list[Item] = []
    infos: list[CorpusInfo] = []
    for corpus in corpora:
        folder = Path(corpus)
        if not folder.is_dir():
            raise InputError(f"no such corpus folder: {folder}")
        manifest = _manifest(folder)
        files = _truth_files(folder)
        count = 0
        for tp in files:
            try:
                truth = load_truth(tp)
            except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                if tp.name.endswith(".truth.json"):
                    raise InputError(f"{tp}: not a valid truth file ({_first_line(exc)})") from exc
                continue  # a stray JSON file in a hand-made folder
            count += 1
            items.append(_item(tp, truth, str(folder), doc_dirs, manifest))
        if count == 0:
            raise InputError(f"no truth files (*.truth.json or truth *.json) in {folder}")
        infos.append(CorpusInfo(str(folder), count, manifest))
    return items, infos


def _item(tp: Path, truth: Truth, corpus: str, doc_dirs: list[Path], manifest: dict[str, Any] | None) -> Item:
    split = _split_of(truth, manifest)
    candidates = [tp.parent / truth.document, *(d / truth.document for d in doc_dirs)]
    doc = next((c for c in candidates if c.is_file()), None)
    if doc is None:
        where = ", ".join(str(c.parent) for c in candidates)
        return Item(
            tp, truth, corpus, None, split, f"document {truth.document} not found (looked in {where})"
        )
    if doc.suffix.lower() not in READABLE_SUFFIXES:
        reason = f"{doc.suffix} is not an input kind the pipeline reads (a reference text, not a document)"
        return Item(tp, truth, corpus, doc, split, reason)
    return Item(tp, truth, corpus, doc, split)


def select(items: list[Item], kinds: Sequence[str] | None = None, limit: int | None = None) -> list[Item]:
    """Filter by input kind; ``limit`` takes documents round-robin over kinds so a subset covers all."""
    chosen = [it for it in items if kinds is None or it.truth.kind in kinds]
    if limit is None or limit >= len(chosen):
        return chosen
    by_kind: dict[str, list[Item]] = {}
    for it in chosen:
        by_kind.setdefault(it.truth.kind, []).append(it)
    queues = [by_kind[k] for k in INPUT_KINDS if k in by_kind]
    out: list[Item] = []
    depth = 0
    while len(out) < limit:
        for q in queues:
            if depth < len(q) and len(out) < limit:
                out.append(q[depth])
        depth += 1
    return out


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    """What one worker run produced: a result or the error, and how long and how much memory."""

    result: ExtractionResult | None
    error: str | None
    error_type: str | None
    traceback: str | None
    seconds: float
    # Peak RSS of the process that ran the document, and of the largest subprocess it started and
    # reaped meanwhile (the OCR stage's page workers), when that set a new high.
    peak_rss_mb: float | None
    peak_child_rss_mb: float | None = None


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ≥ 4.0: writing 5 to clear_refs); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _maxrss_mb(who: int) -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return resource.getrusage(who).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _peak_rss_mb(reset_ok: bool) -> float | None:
    if reset_ok:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
    return _maxrss_mb(resource.RUSAGE_SELF)  # fallback: the lifetime peak, an upper bound


class DocumentTimeout(Exception):
    """One document ran longer than the harness's per-document limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise DocumentTimeout("the document took longer than the per-document time limit")


def run_one(path: str, timeout: float | None = None) -> Outcome:
    """Extract one document in this process; every exception becomes part of the outcome.

    ``timeout`` (seconds) interrupts the extraction with SIGALRM (main thread, POSIX only); native
    code that never returns to Python cannot be interrupted this way.
    """
    from gongkai.pipeline.extract import extract_path

    use_alarm = bool(timeout) and hasattr(signal, "setitimer") and _on_main_thread()
    reset_ok = _reset_peak_rss()
    children_before = _maxrss_mb(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result: ExtractionResult | None = None
    error = error_type = tb = None
    previous = signal.signal(signal.SIGALRM, _on_alarm) if use_alarm else None
    try:
        if use_alarm and timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        result = extract_path(path)
    except GongkaiError as exc:  # bad input, as the CLI would report it
        error, error_type = str(exc), type(exc).__name__
    except DocumentTimeout as exc:
        error, error_type = f"{exc} ({timeout:g} s)", "Timeout"
    except Exception as exc:  # a pipeline bug: keep the traceback for the lead
        error, error_type = _first_line(exc), type(exc).__name__
        tb = traceback.format_exc(limit=8)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
    seconds = time.perf_counter() - t0
    children_after = _maxrss_mb(resource.RUSAGE_CHILDREN)
    child_peak = children_after if children_after > children_before else None
    return Outcome(result, error, error_type, tb, seconds, _peak_rss_mb(reset_ok), child_peak)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def warm_up(path: str | None, env: dict[str, str]) -> None:
    """Prepare a worker: settings, imports, and one untimed extraction.

    The first extraction in a process loads what the pipeline loads lazily (word lists, narrative
    models: seconds); a service pays that once at start, so no document's time should carry it.
    """
    os.environ.update(env)
    from gongkai.pipeline.extract import extract_path

    if path is not None:
        # Errors do not matter here: the document is run (and scored) again later.
        with contextlib.suppress(Exception):
            extract_path(path)


def _pool(workers: int, cfg: RunConfig) -> ProcessPoolExecutor:
    args = (cfg.warm_document, cfg.worker_env)
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Workers fork from a server that has the pipeline imported: fast start, no parent state.
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(["gongkai.pipeline.extract"])
        return ProcessPoolExecutor(workers, mp_context=server, initializer=warm_up, initargs=args)
    spawn = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=spawn, initializer=warm_up, initargs=args)


Progress = Callable[[int, int, "Item", Outcome], None]
# What a worker calls per document (a module-level function, so that it pickles): run_one by default.
Runner = Callable[[str, float | None], Outcome]


@dataclass
class RunConfig:
    workers: int = 2
    timeout: float | None = None
    runner: Runner = run_one
    warm_document: str | None = None
    worker_env: dict[str, str] = field(default_factory=dict)


def _warm_document(items: Sequence[Item]) -> str | None:
    """A born-digital document of the run (fast), else the first one."""
    runnable = [it for it in items if it.skip_reason is None and it.document is not None]
    digital = [it for it in runnable if it.truth.kind in ("pdf", "html", "docx")]
    chosen = digital or runnable
    return str(chosen[0].document) if chosen else None


def worker_env(workers: int) -> dict[str, str]:
    """With several documents in parallel the cores are taken: the OCR stage should not fan each
    document's pages out over its own processes, nor its ONNX sessions over several threads
    (unless the user set GONGKAI_OCR_WORKERS / GONGKAI_OCR_THREADS)."""
    if workers < 2:
        return {}
    return {name: "1" for name in ("GONGKAI_OCR_WORKERS", "GONGKAI_OCR_THREADS") if name not in os.environ}


def run_items(
    items: Sequence[Item],
    workers: int = 2,
    progress: Progress | None = None,
    timeout: float | None = None,
    runner: Runner | None = None,
    warm: bool = True,
) -> list[Outcome]:
    """Outcomes in the order of ``items`` (skipped items are not run: their slot is never read).

    ``workers`` ≥ 1 runs documents in that many worker processes; a worker that dies (segfault,
    out of memory) fails only its document: the pool is rebuilt and the others rerun one by one.
    ``workers`` = 0 runs in this process (no isolation; for tests and debugging). With ``warm``,
    each worker first extracts one document untimed (see ``warm_up``).
    """
    runnable = [i for i, it in enumerate(items) if it.skip_reason is None and it.document is not None]
    cfg = RunConfig(
        workers=min(workers, max(1, len(runnable))),  # no idle workers warming up for nothing
        timeout=timeout,
        runner=runner or run_one,
        warm_document=_warm_document(items) if warm else None,
        worker_env=worker_env(workers),
    )
    outcomes: dict[int, Outcome] = {}
    done = 0

    def finished(i: int, out: Outcome) -> None:
        nonlocal done
        outcomes[i] = out
        done += 1
        if progress is not None:
            progress(done, len(runnable), items[i], out)

    if workers <= 0:
        if runnable:
            warm_up(cfg.warm_document, cfg.worker_env)
        for i in runnable:
            finished(i, cfg.runner(str(items[i].document), timeout))
        return [outcomes.get(i) or _not_run() for i in range(len(items))]

    pending = runnable
    while pending:
        crashed = _run_batch(items, pending, cfg, finished)
        # Which document killed the pool is unknown. The pool works roughly in submission order, so
        # the culprit is among the first workers + 1 casualties (running or queued): rerun those
        # alone (one that crashes again has failed) and the rest together in a fresh pool.
        suspects, pending = crashed[: cfg.workers + 1], crashed[cfg.workers + 1 :]
        for i in suspects:
            try:
                with _pool(1, dataclasses.replace(cfg, warm_document=None)) as solo:
                    out = solo.submit(cfg.runner, str(items[i].document), timeout).result()
            except BrokenProcessPool as exc:
                out = Outcome(None, f"the worker process died ({exc})", "WorkerCrash", None, 0.0, None)
            finished(i, out)
    return [outcomes.get(i) or _not_run() for i in range(len(items))]


def _run_batch(
    items: Sequence[Item], batch: list[int], cfg: RunConfig, finished: Callable[[int, Outcome], None]
) -> list[int]:
    """Run ``batch`` in one pool; the indices whose futures died with the pool, in order."""
    crashed: list[int] = []
    with _pool(cfg.workers, cfg) as pool:
        futures: dict[Future[Outcome], int] = {
            pool.submit(cfg.runner, str(items[i].document), cfg.timeout): i for i in batch
        }
        for fut, i in futures.items():
            try:
                finished(i, fut.result())
            except BrokenProcessPool:
                crashed.append(i)
    return crashed


def _not_run() -> Outcome:
    return Outcome(None, "not run", "Skipped", None, 0.0, None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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


@dataclass
class Report:
    documents: list[DocScore]
    corpora: list[CorpusInfo]
    workers: int
    wall_seconds: float
    warm: bool = True
    worker_env: dict[str, str] = field(default_factory=dict)
    by_kind: dict[str, Summary] = field(default_factory=dict)
    by_format: dict[str, Summary] = field(default_factory=dict)
    total: Summary = field(default_factory=Summary)

    def __post_init__(self) -> None:
        for d in self.documents:
            self.by_kind.setdefault(d.kind, Summary()).add(d)
            self.by_format.setdefault(d.truth_format, Summary()).add(d)
            self.total.add(d)

    def to_json(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": options,
            "machine": machine_info(),
            "workers": self.workers,
            "warm_up": self.warm,
            "worker_env": self.worker_env,
            "wall_seconds": round(self.wall_seconds, 2),
            "corpora": [asdict(c) for c in self.corpora],
            "kinds": {k: self.by_kind[k].to_json() for k in _ordered(self.by_kind, INPUT_KINDS)},
            "formats": {f: self.by_format[f].to_json() for f in _ordered(self.by_format, FORMAT_IDS)},
            "total": self.total.to_json(),
            "documents": [d.to_json() for d in self.documents],
        }


def _ordered(d: dict[str, Any], order: Sequence[str]) -> list[str]:
    return [k for k in order if k in d] + sorted(k for k in d if k not in order)


def evaluate(
    corpora: Sequence[str | Path],
    *,
    documents_dir: str | Path | None = None,
    kinds: Sequence[str] | None = None,
    limit: int | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    timeout: float | None = None,
    warm: bool = True,
) -> Report:
    """Discover, run and score: the library entry point behind ``gongkai evaluate``."""
    if kinds is not None:
        unknown = sorted(set(kinds) - set(INPUT_KINDS))
        if unknown:
            raise InputError(f"unknown input kind(s) {', '.join(unknown)}; known: {', '.join(INPUT_KINDS)}")
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    items, infos = discover(corpora, documents_dir)
    items = select(items, kinds, limit)
    if not items:
        raise InputError("no documents left to evaluate after the --kinds filter")
    t0 = time.perf_counter()
    outcomes = run_items(items, workers=workers, progress=progress, timeout=timeout, warm=warm)
    scores = [
        score(it, out if it.skip_reason is None else None) for it, out in zip(items, outcomes, strict=True)
    ]
    return Report(scores, infos, workers, time.perf_counter() - t0, warm, worker_env(workers))


# --------------------------------------------------------------------------- presentation


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}%" if den else NA


def _ratio(num: int, den: int) -> str:
    return f"{num}/{den} ({100 * num / den:.0f}%)" if den else NA


def _row(name: str, s: Summary) -> list[str]:
    f1 = s.paragraphs.macro_f1()
    return [
        name,
        str(s.documents),
        str(s.failed),
        _pct(s.cells_right, s.cells_scored),
        _ratio(s.all_right, s.documents),
        f"{s.false_alarm_docs}/{s.consistent} ({100 * s.false_alarm_docs / s.consistent:.0f}%)"
        if s.consistent
        else NA,
        _ratio(s.injected_caught, s.injected),
        str(s.silent_errors),
        f"{f1:.3f} (n={s.paragraphs.n})" if f1 is not None else NA,
        f"{100 * s.cer:.2f}% ({s.ocr_pages} p)" if s.cer is not None else NA,
        f"{s.seconds_per_page:.3f}" if s.seconds_per_page is not None else NA,
        f"{s.peak_rss_mb:.0f}" if s.peak_rss_mb is not None else NA,
    ]


MAIN_HEADER = [
    "kind",
    "docs",
    "failed",
    "cell accuracy",
    "docs all cells right",
    "false alarms (docs)",
    "injected errors caught",
    "silent errors",
    "paragraph macro-F1",
    "OCR CER",
    "s/page",
    "peak MB",
]
FORMAT_HEADER = ["truth format", "docs", "format detected", "year right", "cell accuracy"]


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def render_tables(report: Report) -> str:
    """The printed report: corpora (seeds, splits), the per-kind table, the per-format table."""
    out = ["corpora:"]
    out += [f"  {c.describe()}" for c in report.corpora]
    splits = Counter(d.split or "unspecified" for d in report.documents)
    out.append("  splits evaluated: " + ", ".join(f"{k} {v}" for k, v in sorted(splits.items())))
    out.append("")
    rows = [_row(k, report.by_kind[k]) for k in _ordered(report.by_kind, INPUT_KINDS)]
    rows.append(_row("**total**", report.total))
    out.append(_markdown(MAIN_HEADER, rows))
    out.append("")
    frows = []
    for f in [*_ordered(report.by_format, FORMAT_IDS), "total"]:
        s = report.total if f == "total" else report.by_format[f]
        frows.append(
            [
                "**total**" if f == "total" else f,
                str(s.documents),
                _pct(s.format_right, s.documents),
                _pct(s.year_right, s.documents),
                _pct(s.cells_right, s.cells_scored),
            ]
        )
    out.append(_markdown(FORMAT_HEADER, frows))
    skipped = [d for d in report.documents if d.status == "skipped"]
    failed = [d for d in report.documents if d.status == "failed"]
    wrong = [wc for d in report.documents for wc in d.wrong_cells]
    if wrong:
        kinds = Counter(wc.kind for wc in wrong)
        silent = [wc for wc in wrong if wc.silent]
        inferred = sum(wc.inferred and wc.truth is None for wc in silent)
        out.append("")
        out.append(
            f"wrong cells: {len(wrong)} = {kinds['missing']} missing (not found), {kinds['extra']} "
            f"extra (truth blank or not printed, a value extracted), {kinds['misread']} misread; "
            f"silent: {len(silent)}, of which {inferred} are blank cells the pipeline inferred "
            "(marked inferred, confidence ≥ 0.5)"
        )
    # Printed errors the truth expects the checks to find (injected or in a real report as published).
    unmet = [d for d in report.documents if d.status == "ok" and d.expected_not_failing]
    expecting = [d for d in report.documents if d.status == "ok" and not d.consistent]
    if expecting:
        out.append("")
        out.append(
            f"expected failing checks: all found in {len(expecting) - len(unmet)} of {len(expecting)} "
            "documents whose truth expects some"
        )
        out += [f"  {d.document}: did not fail: {', '.join(d.expected_not_failing)}" for d in unmet[:20]]
    if failed:
        out.append("")
        out.append(f"failed ({len(failed)}):")
        out += [f"  {d.document}: {d.error_type}: {d.error}" for d in failed[:20]]
        if len(failed) > 20:
            out.append(f"  … and {len(failed) - 20} more (see the JSON)")
    if skipped:
        out.append("")
        out.append(f"skipped ({len(skipped)}):")
        out += [f"  {d.document}: {d.error}" for d in skipped]
    out.append("")
    out.append(
        f"{report.total.documents} document(s), {report.total.pages} pages in "
        f"{report.wall_seconds:.1f} s wall with {report.workers or 'no'} worker process(es); {machine_line()}"
    )
    settings = [f"{k}={v}" for k, v in report.worker_env.items()]
    settings.append("one untimed warm-up extraction per worker" if report.warm else "no warm-up")
    out.append("settings: " + "; ".join(settings))
    return "\n".join(out)


def worst_cells(report: Report, n: int = 15) -> list[tuple[str, int, list[WrongCell], list[str]]]:
    """The cells most often wrong: (cell, times wrong, example wrong readings, example documents)."""
    seen: dict[str, tuple[int, list[WrongCell], list[str]]] = {}
    for d in report.documents:
        for wc in d.wrong_cells:
            count, examples, docs = seen.get(wc.cell, (0, [], []))
            if len(examples) < 3:
                examples.append(wc)
                docs.append(d.document)
            seen[wc.cell] = (count + 1, examples, docs)
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1][0], kv[0]))[:n]
    return [(cell, count, ex, docs) for cell, (count, ex, docs) in ranked]


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        info["ram_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        info["ram_gb"] = None
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line() -> str:
    m = machine_info()
    ram = f", {m['ram_gb']} GB RAM" if m.get("ram_gb") else ""
    return f"{m['processor']}, {m['cpus']} CPUs{ram}, Python {m['python']}"
