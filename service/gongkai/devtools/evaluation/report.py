"""Presenting an evaluation: the ``Report``, its JSON, the printed tables, worst cells, the machine."""

from __future__ import annotations

import os
import platform
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from gongkai.devtools.evaluation.discovery import INPUT_KINDS, CorpusInfo
from gongkai.devtools.evaluation.metrics import DocScore, Summary, WrongCell, pool, pool_by

FORMAT_IDS: tuple[str, ...] = ("2021", "2019", "legacy")
NA = "—"
SCHEMA_VERSION = "gongkai-eval/1"


@dataclass
class Report:
    """One run: every document's score, pooled per input kind, per truth format and in total."""

    documents: list[DocScore]
    corpora: list[CorpusInfo]
    workers: int
    wall_seconds: float
    warm: bool = True
    # The OCR settings the harness chose for its workers, named by the variable that would override
    # them (GONGKAI_OCR_WORKERS=1): the "settings:" line and the JSON's "worker_env".
    worker_settings: dict[str, str] = field(default_factory=dict)
    by_kind: dict[str, Summary] = field(init=False)
    by_format: dict[str, Summary] = field(init=False)
    total: Summary = field(init=False)

    def __post_init__(self) -> None:
        self.by_kind = pool_by(self.documents, lambda d: d.kind)
        self.by_format = pool_by(self.documents, lambda d: d.truth_format)
        self.total = pool(self.documents)

    def to_json(self, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": options,
            "machine": machine_info(),
            "workers": self.workers,
            "warm_up": self.warm,
            "worker_env": self.worker_settings,
            "wall_seconds": round(self.wall_seconds, 2),
            "corpora": [asdict(c) for c in self.corpora],
            "kinds": {k: self.by_kind[k].to_json() for k in _ordered(self.by_kind, INPUT_KINDS)},
            "formats": {f: self.by_format[f].to_json() for f in _ordered(self.by_format, FORMAT_IDS)},
            "total": self.total.to_json(),
            "documents": [d.to_json() for d in self.documents],
        }


def _ordered(d: dict[str, Any], order: Sequence[str]) -> list[str]:
    return [k for k in order if k in d] + sorted(k for k in d if k not in order)


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
    settings = [f"{k}={v}" for k, v in report.worker_settings.items()]
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
