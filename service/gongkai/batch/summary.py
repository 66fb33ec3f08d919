"""summary.html: one self-contained page (plots embedded as PNG data URIs) about the whole batch."""

from __future__ import annotations

import base64
import io
from collections import Counter, defaultdict
from html import escape
from pathlib import Path
from typing import Any

from gongkai.batch.dataset import Dataset
from gongkai.fonts import packaged_cjk_font

_MAX_LISTED = 500  # rows per list on the page; the CSVs have all of them
_MAX_AGENCIES_PLOTTED = 12
_CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def write_summary(path: Path, ds: Dataset, title: str = "Gongkai batch") -> None:
    docs = ds.documents
    by_status = Counter(d["status"] for d in docs)
    years = Counter(d["year"] for d in docs if d["status"] == "done" and d["counted"] and d["year"])
    status_year: dict[Any, Counter[str]] = defaultdict(Counter)
    for d in docs:
        status_year[d["year"] or "unknown"][d["status"]] += 1
    failures: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in docs:
        if d["status"] == "failed":
            failures[d["error_code"] or "unknown"].append(d)
    cross_warn = [c for c in ds.checks if c["scope"] != "document" and c["status"] == "warn"]
    statuses = sorted(by_status)
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<h2>Documents by status</h2>",
        _table(["status", "files"], [[s, by_status[s]] for s in statuses]),
        "<h2>By year and status</h2>",
        _table(
            ["year", *statuses],
            [[y, *(status_year[y][s] for s in statuses)] for y in sorted(status_year, key=str)],
        ),
        "<h2>Documents per year (counted reports)</h2>",
        _img(_bar(years)) if years else "<p>No report with a year yet.</p>",
        "<h2>Requests received per year (requests.new.total), by agency</h2>",
        _img(_lines(ds.requests_by_agency)) if ds.requests_by_agency else "<p>No counts yet.</p>",
        "<h2>Failures, grouped by reason</h2>",
    ]
    if not failures:
        parts.append("<p>None.</p>")
    for code, rows in sorted(failures.items(), key=lambda kv: -len(kv[1])):
        parts.append(f"<h3>{escape(code)} ({len(rows)})</h3>")
        parts.append(_table(["file", "reason"], [[r["file"], r["error"] or ""] for r in rows[:_MAX_LISTED]]))
    parts.append(f"<h2>Needing review ({len(ds.review)}; all in review.csv)</h2>")
    parts.append(
        _table(
            ["file", "status", "reason"],
            [[r["file"], r["status"], r["reason"]] for r in ds.review[:_MAX_LISTED]],
        )
    )
    parts.append(f"<h2>Cross-document warnings ({len(cross_warn)})</h2>")
    parts.append(
        _table(
            ["agency", "year", "check", "message"],
            [[c["agency"] or "", c["year"] or "", c["id"], c["message"]] for c in cross_warn[:_MAX_LISTED]],
        )
    )
    html = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:70em}}"
        "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:left;vertical-align:top}img{max-width:100%}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: bytes) -> str:
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display, no GUI toolkit
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = _cjk_font()
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        name = font_manager.FontProperties(fname=str(font)).get_name()
        plt.rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
        plt.rcParams["axes.unicode_minus"] = False
    return plt


def _cjk_font() -> Path | None:
    """A font with Chinese glyphs for agency names: Debian's, or the corpus extra's WenQuanYi."""
    for path in _CJK_FONTS:
        if path.is_file():
            return path
    return packaged_cjk_font()


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def _bar(years: Counter[int]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3))
    xs = sorted(years)
    ax.bar([str(x) for x in xs], [years[x] for x in xs], color="#4a7ab5")
    ax.set_xlabel("year")
    ax.set_ylabel("documents")
    png = _png(fig)
    plt.close(fig)
    return png


def _lines(series: dict[str, dict[int, float]]) -> bytes:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    # The agencies with the most requests overall; a plot of hundreds of lines says nothing.
    top = sorted(series, key=lambda a: -sum(series[a].values()))[:_MAX_AGENCIES_PLOTTED]
    for agency in top:
        xs = sorted(series[agency])
        ax.plot(xs, [series[agency][x] for x in xs], marker="o", label=agency)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # years, not 2022.2
    ax.set_xlabel("year")
    ax.set_ylabel("requests received")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    png = _png(fig)
    plt.close(fig)
    return png
