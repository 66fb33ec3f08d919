"""Render a `ReportSpec` as a Word document (python-docx), built like the national template file.

Merged cells use `cell.merge`; a forced break inside table 三 (or table 四's header/data split) becomes
two tables with a page break between, which is what a report assembled from page-broken parts looks
like in Word. The zip is rewritten with fixed timestamps so the same spec gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table

from gongkai.devtools.corpora.synthetic.layout import (
    Grid,
    active_grids,
    appeals_grid,
    cut_grid,
    requests_grid,
)
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
# the font names Word documents of government offices use for each family
DOCX_FONT_NAMES = {"song": "宋体", "fangsong": "仿宋_GB2312", "kai": "楷体_GB2312", "hei": "黑体"}
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _set_east_asian_font(run_or_style: object, name: str) -> None:
    element = run_or_style.element  # type: ignore[attr-defined]
    rpr = element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        rfonts.set(qn(attr), name)


def _add_table(doc: DocxDocument, grid: Grid, size: float, width: float = 15.6) -> Table:
    table = doc.add_table(rows=grid.n_rows, cols=grid.n_cols)
    table.style = "Table Grid"  # single ruled lines on every cell border, like the template
    total = sum(grid.col_weights)
    # width: cm of text width
    for j, w in enumerate(grid.col_weights):
        for cell in table.columns[j].cells:
            cell.width = Cm(width * w / total)
    for c in grid.cells:
        cell = table.cell(c.row, c.col)
        if c.rowspan > 1 or c.colspan > 1:
            cell = cell.merge(table.cell(c.row + c.rowspan - 1, c.col + c.colspan - 1))
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        para = cell.paragraphs[0]
        para.alignment = WD_ALIGN_PARAGRAPH.LEFT if c.kind in ("label", "note") else WD_ALIGN_PARAGRAPH.CENTER
        text = "\n".join(c.text) if c.kind == "vertical" else c.text
        if text:
            run = para.add_run(text)
            run.font.size = Pt(size)
    return table


def _page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def render_docx(spec: ReportSpec, options: RenderOptions | None = None) -> bytes:
    """The report as DOCX bytes (deterministic: fixed core-property dates and zip timestamps)."""
    options = options or RenderOptions()
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.8)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(options.font_size)
    _set_east_asian_font(normal, DOCX_FONT_NAMES[options.font] if options.font else BODY_FONT)
    if options.page_header:
        section.header.paragraphs[0].text = options.page_header
        section.header.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(spec.title)
    run.font.size = Pt(options.font_size + 6)
    _set_east_asian_font(run, DOCX_FONT_NAMES[options.title_font] if options.title_font else TITLE_FONT)

    def para(text: str) -> None:
        p = doc.add_paragraph(text)
        p.paragraph_format.first_line_indent = Pt(2 * options.font_size)

    table_size = options.table_font_size or max(7.5, round(options.font_size * 0.65, 1))
    table_cm = 15.6 * min(1.0, max(0.5, options.table_width))
    for text in spec.preamble:
        para(text)
    for sec in spec.sections:
        para(sec.heading)
        for text in sec.paragraphs:
            para(text)
        if sec.key == "active":
            for g in active_grids(spec, options):
                _add_table(doc, g, table_size, table_cm)
                doc.add_paragraph()
        elif sec.key == "requests":
            grid = requests_grid(spec, options)
            n = options.requests_break_after_row
            if n is not None and 0 < n < grid.n_rows - grid.header_rows:
                top, bottom = cut_grid(grid, grid.header_rows + n)
                _add_table(doc, top, table_size, table_cm)
                _page_break(doc)
                _add_table(doc, bottom, table_size, table_cm)
            else:
                _add_table(doc, grid, table_size, table_cm)
        elif sec.key == "appeals":
            grid = appeals_grid(spec, options)
            if options.appeals_header_data_split:
                header, data = cut_grid(grid, grid.header_rows)
                _add_table(doc, header, table_size, table_cm)
                _page_break(doc)
                _add_table(doc, data, table_size, table_cm)
            else:
                _add_table(doc, grid, table_size, table_cm)

    for line in spec.closing:
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    props = doc.core_properties
    props.title, props.author, props.last_modified_by = spec.title, spec.agency, spec.agency
    props.created = props.modified = dt.datetime(spec.year + 1, 1, 15, 9, 0, 0)
    props.revision = 1
    raw = io.BytesIO()
    doc.save(raw)
    return _normalise_zip(raw.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    # python-docx stamps zip members with the current time; fixed stamps make the bytes reproducible.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                zipfile.ZipInfo(info.filename, _FIXED_ZIP_TIME), src.read(info.filename), zipfile.ZIP_DEFLATED
            )
    return out.getvalue()
