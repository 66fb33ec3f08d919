"""Parse ../shared/corpus/real/haizhou-2022.txt (海州区人民政府办公室 2022 report as text) into a ReportSpec.

The text is a PDF-to-text dump: narrative as blank-line separated paragraphs (a page break can cut a
paragraph in two), tables as tab-separated lines (one table 三 row lost its leading tabs at a page
break). The parser is specific to that layout, but every number comes from the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec, SectionSpec
from gongkai.pipeline.schema import Label, load_format

_HEADING = re.compile(r"^([一二三四五六])、\s*(\S.*)$")
_SUBHEADING = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_ITEM = re.compile(r"^第二十条第[（(][一二三四五六七八九十]+[）)]项$")
_SENTENCE_END = ("。", "：", ":", "；", "！", "？", "”")


def _norm(text: str) -> str:
    """Fold what this file varies on: spaces, half-width brackets."""
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


def _match(printed: str, labels: tuple[Label, ...]) -> Label | None:
    p = _norm(printed)
    for lab in labels:
        if any(_norm(x) == p for x in lab.all_labels):
            return lab
    return None


def _record_variant(printed: str, lab: Label, variants: dict[str, str]) -> None:
    # Only wording differences count as variants; bracket width and spacing are typography.
    if _norm(printed) != _norm(lab.label):
        variants[lab.label] = _norm(printed)


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs, re-joining one cut by a page break (no sentence end)."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append("".join(current))
            current = []
    out: list[str] = []
    for b in blocks:
        if (
            out
            and not out[-1].endswith(_SENTENCE_END)
            and not _SUBHEADING.match(out[-1])
            and not _SUBHEADING.match(b)
        ):
            out[-1] += b
        else:
            out.append(b)
    return out


def _split_fields(line: str) -> tuple[str | None, list[str]]:
    """A table line's label (last non-numeric field) and its trailing numbers."""
    fields = [f.strip() for f in line.split("\t") if f.strip()]
    numbers: list[str] = []
    while fields and _NUMBER.match(fields[-1]):
        numbers.insert(0, fields.pop())
    return (fields[-1] if fields else None), numbers


def haizhou_spec_and_options(path: str | Path) -> tuple[ReportSpec, RenderOptions]:
    """The spec of the report in `path`, and the options that print its label variants."""
    fmt = load_format("2021")
    section_keys = {s.number: s.key for s in fmt.sections}
    lines = Path(path).read_text(encoding="utf-8").splitlines()

    title_at = next(i for i, line in enumerate(lines) if "年度报告" in line)
    title = lines[title_at].strip()
    m = re.match(r"^(.*?)\s*(\d{4})\s*年", title)
    if m is None:
        raise ValueError(f"no agency/year in title {title!r}")
    agency, year = m.group(1), int(m.group(2))

    # Split into preamble and numbered sections; tab lines are table rows, never headings
    # (table 三 prints 四、结转下年度继续办理 just before the heading 四、…).
    chunks: list[tuple[str | None, str, list[str]]] = [(None, "", [])]
    for line in lines[title_at + 1 :]:
        hm = _HEADING.match(line.strip())
        if "\t" not in line and hm and hm.group(1) in section_keys:
            chunks.append((section_keys[hm.group(1)], line.strip(), []))
        else:
            chunks[-1][2].append(line)

    cells: dict[str, str] = {}
    variants: dict[str, str] = {}
    sections: list[SectionSpec] = []
    preamble: list[str] = []
    for key, heading, body in chunks:
        table_lines = [ln for ln in body if "\t" in ln]
        text_lines = [ln for ln in body if "\t" not in ln]
        paragraphs = _paragraphs(text_lines)
        if key is None:
            preamble = paragraphs
            continue
        sections.append(SectionSpec(key, heading, paragraphs))
        if key == "active":
            _parse_active(table_lines, cells, variants)
        elif key == "requests":
            _parse_requests(table_lines, cells, variants)
        elif key == "appeals":
            _parse_appeals(table_lines, cells)
    spec = ReportSpec("2021", year, title, agency, preamble, sections, cells)
    return spec, RenderOptions(label_variants=variants)


def haizhou_spec(path: str | Path) -> ReportSpec:
    return haizhou_spec_and_options(path)[0]


def _parse_active(table_lines: list[str], cells: dict[str, str], variants: dict[str, str]) -> None:
    fmt = load_format("2021")
    blocks = {_norm(b.item): b for b in fmt.active_blocks}
    block = None
    columns: list[Label] = []
    for line in table_lines:
        fields = [f.strip() for f in line.split("\t") if f.strip()]
        if not fields:
            continue
        if _ITEM.match(_norm(fields[0])):
            block = blocks[_norm(fields[0])]
            continue
        if block is None:
            raise ValueError(f"table 二 row before any 第二十条 item: {line!r}")
        if _norm(fields[0]) == "信息内容":  # header: the printed column labels, in order
            columns = []
            for printed in fields[1:]:
                col = _match(printed, block.columns)
                if col is None:
                    raise ValueError(f"unknown table 二 column {printed!r}")
                _record_variant(printed, col, variants)
                columns.append(col)
            continue
        row = _match(fields[0], block.rows)
        if row is None:
            raise ValueError(f"unknown table 二 row {fields[0]!r}")
        _record_variant(fields[0], row, variants)
        for col, value in zip(columns, fields[1:], strict=True):
            cells[f"{fmt.active_prefix}.{row.id}.{col.id}"] = value


def _parse_requests(table_lines: list[str], cells: dict[str, str], variants: dict[str, str]) -> None:
    fmt = load_format("2021")
    columns = fmt.requests_columns
    for line in table_lines:
        label, numbers = _split_fields(line)
        if label is None:
            continue
        if not numbers:
            # header rows: the one with the five organisation columns may print variants (社会组织)
            fields = [f.strip() for f in line.split("\t") if f.strip()]
            if len(fields) == 5:
                for printed, col in zip(fields, columns[1:6], strict=True):
                    _record_variant(printed, col, variants)
            continue
        row = _match(label, fmt.requests_rows)
        if row is None:
            raise ValueError(f"unknown table 三 row {label!r}")
        _record_variant(label, row, variants)
        if len(numbers) != len(columns):
            raise ValueError(f"table 三 row {label!r} has {len(numbers)} numbers, expected {len(columns)}")
        for col, value in zip(columns, numbers, strict=True):
            cells[f"requests.{row.id}.{col.id}"] = value


def _parse_appeals(table_lines: list[str], cells: dict[str, str]) -> None:
    fmt = load_format("2021")
    ids = [f"appeals.{g.id}.{f.id}" for g in fmt.appeals_groups for f in fmt.appeals_fields]
    rows = [
        nums for label, nums in map(_split_fields, table_lines) if label is None and len(nums) == len(ids)
    ]
    if len(rows) != 1:
        raise ValueError(f"expected one data row of {len(ids)} numbers in table 四, found {len(rows)}")
    cells.update(zip(ids, rows[0], strict=True))
