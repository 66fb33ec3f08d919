"""What a rendered report says (`ReportSpec`) and how it is printed (`RenderOptions`).

The spec holds text exactly as printed: a cell's value is the string in the table cell ("" = a printed
blank), so notes such as ``22（其中修订16件）`` and decimals survive unchanged. Labels are not part of
the spec: the renderers take them from the schema (gongkai.pipeline.schema), optionally swapped for a variant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from gongkai.devtools.corpora.synthetic.fonts import FontFamily
from gongkai.pipeline.schema import load_format

SpecFormat = Literal["2021", "2019"]

# A 2021-format report that still prints （六）其他处理 as one row (as 2019 does) uses these ids.
OTHER_TOTAL_ROW = "other.total"


@dataclass
class SectionSpec:
    """One numbered section: `key` from the schema, the heading as printed, its paragraphs."""

    key: str
    heading: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class RenderOptions:
    """How to print a spec; defaults give a clean report in the official wording."""

    # official label -> the variant to print, e.g. {"社会公益组织": "社会组织"}
    label_variants: dict[str, str] = field(default_factory=dict)
    # force a page break inside table 三 after this many body rows (no repeated header after it)
    requests_break_after_row: int | None = None
    # table 四's three header rows at the bottom of a page, its data row at the top of the next
    appeals_header_data_split: bool = False
    # print （六）其他处理 as one row (cells requests.other.total.*) in a 2021-format table
    other_single_row: bool = False
    # running header on every page (None = none), e.g. "XX区人民政府2022年政府信息公开工作年度报告"
    page_header: str | None = None
    # page number format; "{n}" is the page number (None = no page numbers)
    page_number_format: str | None = "- {n} -"
    # body text size in points (tables use a smaller size derived from it)
    font_size: float = 14.0
    # font families (synthetic.fonts: song/fangsong/kai/hei); None = the default Hei font.
    # A family not installed here falls back to WenQuanYi Micro Hei.
    font: FontFamily | None = None
    table_font: FontFamily | None = None
    title_font: FontFamily | None = None
    # table size in points; None = derived from font_size (0.65 of it, at least 7.5)
    table_font_size: float | None = None
    # width of the statutory tables as a fraction of the text width (PDF and DOCX)
    table_width: float = 1.0
    # print section 三 and 四 (with their tables) on landscape pages (PDF only)
    landscape_tables: bool = False

    def label(self, official: str) -> str:
        return self.label_variants.get(official, official)


@dataclass
class ReportSpec:
    """A whole report: metadata, narrative and the text of every statutory cell by cell id."""

    format: SpecFormat
    year: int
    title: str
    agency: str
    preamble: list[str] = field(default_factory=list)
    sections: list[SectionSpec] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    # lines after the last section, printed right-aligned: the issuing agency and the date
    closing: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.format not in ("2021", "2019"):
            raise ValueError(f"ReportSpec renders formats 2021 and 2019, not {self.format!r}")

    def with_cell(self, cell_id: str, text: str) -> ReportSpec:
        """A copy with one cell's printed text changed (the original is left untouched)."""
        if cell_id not in known_cell_ids(self.format):
            raise KeyError(f"unknown cell id {cell_id!r} for format {self.format}")
        cells = dict(self.cells)
        cells[cell_id] = text
        return dataclasses.replace(
            self,
            preamble=list(self.preamble),
            closing=list(self.closing),
            sections=[dataclasses.replace(s, paragraphs=list(s.paragraphs)) for s in self.sections],
            cells=cells,
        )

    def section(self, key: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.key == key), None)


def known_cell_ids(format_id: SpecFormat) -> set[str]:
    """The schema's cell ids plus the one-row （六）其他处理 ids a 2021 report may print instead."""
    fmt = load_format(format_id)
    extra = {f"requests.{OTHER_TOTAL_ROW}.{c.id}" for c in fmt.requests_columns}
    return set(fmt.cells) | extra


def blank_spec(format_id: SpecFormat, year: int, agency: str, value: str = "0") -> ReportSpec:
    """A minimal spec with official headings, one paragraph per narrative section and every cell = value."""
    fmt = load_format(format_id)
    sections = []
    for s in fmt.sections:
        paragraphs = (
            [] if s.key in ("active", "requests", "appeals") else [f"{year}年，{agency}认真落实有关要求。"]
        )
        sections.append(SectionSpec(s.key, f"{s.number}、{s.official}", paragraphs))
    return ReportSpec(
        format=format_id,
        year=year,
        title=f"{agency}{year}年政府信息公开工作年度报告",
        agency=agency,
        preamble=[
            f"本报告根据《中华人民共和国政府信息公开条例》要求编制，统计期限自{year}年1月1日起至{year}年12月31日止。"
        ],
        sections=sections,
        cells=dict.fromkeys(fmt.cells, value),
    )
