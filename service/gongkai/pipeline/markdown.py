"""Render a result for a person: the three tables and every check that did not pass."""

from __future__ import annotations

from gongkai.pipeline.result import CellOut, ExtractionResult
from gongkai.pipeline.schema import load_format


def _fmt(cell: CellOut | None) -> str:
    if cell is None or cell.missing:
        return "?"
    return _value(cell) + (" ⚑" if cell.review else "")


def _value(cell: CellOut) -> str:
    if cell.inferred:
        return f"（空，推算{cell.inferred_value}）*"
    if cell.blank:
        return "（空）"
    text = "" if cell.value is None else str(cell.value)
    if cell.note:
        text += f"（{cell.note}）"
    if cell.value is None and cell.raw:
        text = f"⚠{cell.raw.strip()}"
    return text


def render_markdown(result: ExtractionResult) -> str:
    lines: list[str] = []
    md = result.metadata
    lines.append(f"# {md.title or result.source.filename}")
    lines.append("")
    lines.append(
        f"- format: `{result.format}`  year: {md.year or '?'}  agency: {md.agency or '?'}  "
        f"pages: {result.source.pages}  sha256: `{result.source.sha256[:12]}…`"
    )
    failing = [c for c in result.checks if c.status == "fail"]
    lines.append(
        f"- checks: {sum(c.status == 'pass' for c in result.checks)} pass, {len(failing)} fail, "
        f"{sum(c.status == 'warn' for c in result.checks)} warn, "
        f"{sum(c.status == 'not_assessable' for c in result.checks)} not assessable"
    )
    lines.append("")
    fmt = load_format(result.format)
    if fmt.has_statutory_tables:
        lines += ["## 二、主动公开政府信息情况", ""]
        for block in fmt.active_blocks:
            lines.append(f"**{block.item}**")
            lines.append("")
            lines.append("| 信息内容 | " + " | ".join(c.label for c in block.columns) + " |")
            lines.append("|---" * (len(block.columns) + 1) + "|")
            for r in block.rows:
                vals = [_fmt(result.cells.get(f"{fmt.active_prefix}.{r.id}.{c.id}")) for c in block.columns]
                lines.append(f"| {r.label} | " + " | ".join(vals) + " |")
            lines.append("")
        lines += ["## 三、收到和处理政府信息公开申请情况", ""]
        lines.append("| 行 | " + " | ".join(c.label for c in fmt.requests_columns) + " |")
        lines.append("|---" * (len(fmt.requests_columns) + 1) + "|")
        for r in fmt.requests_rows:
            vals = [_fmt(result.cells.get(f"requests.{r.id}.{c.id}")) for c in fmt.requests_columns]
            lines.append(f"| {r.label} | " + " | ".join(vals) + " |")
        # Numbers printed on group rows (or a one-row （六）其他处理 in a 2021 table).
        for g in fmt.requests_groups:
            extra = [result.cells.get(f"requests.{g.id}.total.{c.id}") for c in fmt.requests_columns]
            if any(e is not None and not e.statutory for e in extra):
                lines.append(f"| {g.label}（报告合并列示） | " + " | ".join(_fmt(e) for e in extra) + " |")
        lines += ["", "## 四、政府信息公开行政复议、行政诉讼情况", ""]
        lines.append("| | " + " | ".join(f.label for f in fmt.appeals_fields) + " |")
        lines.append("|---" * (len(fmt.appeals_fields) + 1) + "|")
        for g in fmt.appeals_groups:
            vals = [_fmt(result.cells.get(f"appeals.{g.id}.{f.id}")) for f in fmt.appeals_fields]
            lines.append(f"| {g.label} | " + " | ".join(vals) + " |")
        lines += [
            "",
            "`*` inferred from its row; `（空）` printed blank; `?` not found; `⚠` unreadable; "
            "`⚑` to review (the cell's `review_reason` in the JSON result).",
            "",
        ]
    lines += ["## Checks that did not pass", ""]
    shown = [c for c in result.checks if c.status != "pass"]
    if not shown:
        lines.append("All checks pass.")
    for c in shown:
        detail = f" (expected {c.expected}, printed {c.actual})" if c.expected is not None else ""
        cells = ", ".join(f"`{x}`" for x in c.cells[:8]) + (" …" if len(c.cells) > 8 else "")
        lines.append(f"- **{c.status}** `{c.id}`: {c.message}{detail} — {cells}")
    if result.warnings:
        lines += ["", "## Warnings", ""]
        lines += [f"- {w}" for w in result.warnings]
    lines.append("")
    return "\n".join(lines)
