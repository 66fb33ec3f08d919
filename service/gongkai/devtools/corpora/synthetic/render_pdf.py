"""Render a `ReportSpec` as a born-digital PDF (reportlab platypus), the way county offices publish them.

A4, title, paragraphs with a two-character first-line indent, headings 一、…六、, and the three statutory
tables ruled with visible grid lines. Tables split across pages without repeated headers. reportlab
will not split a table inside a row span (table 三's 22-row 三、本年度办理结果 would block every break),
so the tables are wrapped in `_GridFlowable`, which cuts the grid itself (`layout.cut_grid`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from gongkai.devtools.corpora.synthetic import fonts
from gongkai.devtools.corpora.synthetic.fonts import register_reportlab
from gongkai.devtools.corpora.synthetic.layout import (
    Grid,
    GridCell,
    active_grids,
    appeals_grid,
    cut_grid,
    requests_grid,
)
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec

# The default face: WenQuanYi Micro Hei, from Debian or from the corpus extra's font wheel (fonts.py).
FONT = fonts.FALLBACK.name

PAGE_W, PAGE_H = A4
MARGIN_LEFT, MARGIN_RIGHT = 2.8 * cm, 2.6 * cm
MARGIN_TOP, MARGIN_BOTTOM = 3.0 * cm, 2.8 * cm
FRAME_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
# a landscape page for wide tables: same margins, long side horizontal
LAND_W, LAND_H = landscape(A4)
LAND_FRAME_W = LAND_W - MARGIN_LEFT - MARGIN_RIGHT


@cache
def _register_font() -> str:
    # Noto CJK is CFF-based and unusable in reportlab; WenQuanYi Micro Hei is TrueType.
    return fonts.register_reportlab(None)


class _Styles:
    def __init__(self, size: float, options: RenderOptions | None = None) -> None:
        options = options or RenderOptions()
        body_font = register_reportlab(options.font) if options.font else FONT
        title_font = register_reportlab(options.title_font) if options.title_font else body_font
        table_font = register_reportlab(options.table_font) if options.table_font else body_font
        self.font = body_font
        self.body = ParagraphStyle(
            "body",
            fontName=body_font,
            fontSize=size,
            leading=size * 1.75,
            firstLineIndent=2 * size,
            wordWrap="CJK",
            spaceAfter=0,
        )
        self.title = ParagraphStyle(
            "title",
            fontName=title_font,
            fontSize=size + 6,
            leading=(size + 6) * 1.5,
            alignment=TA_CENTER,
            wordWrap="CJK",
            spaceAfter=size,
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=self.body,
            spaceBefore=size * 0.3,
            spaceAfter=size * 0.3,
        )
        t = options.table_font_size or max(7.5, round(size * 0.65, 1))
        self.cell_size = t
        self.cell = ParagraphStyle("cell", fontName=table_font, fontSize=t, leading=t * 1.3, wordWrap="CJK")
        self.cell_center = ParagraphStyle("cell_c", parent=self.cell, alignment=TA_CENTER)
        self.cell_left = ParagraphStyle("cell_l", parent=self.cell, alignment=TA_LEFT)
        self.closing = ParagraphStyle("closing", parent=self.body, firstLineIndent=0, alignment=TA_RIGHT)


def _cell_flowable(cell: GridCell, st: _Styles) -> Flowable:
    if cell.kind == "empty" or not cell.text:
        # a printed blank keeps the row as tall as a row of text, without any glyph in the text layer
        return Spacer(1, st.cell.leading)
    if cell.kind == "vertical":  # one character per line, as the template prints it
        return Paragraph("<br/>".join(escape(ch) for ch in cell.text), st.cell_center)
    style = st.cell_left if cell.kind in ("label", "note") else st.cell_center
    return Paragraph(escape(cell.text), style)


def _build_table(grid: Grid, st: _Styles, width: float = FRAME_W) -> Table:
    data: list[list[Flowable | str]] = [["" for _ in range(grid.n_cols)] for _ in range(grid.n_rows)]
    commands: list[tuple] = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("BOX", (0, 0), (-1, -1), 1.0, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for c in grid.cells:
        data[c.row][c.col] = _cell_flowable(c, st)
        if c.rowspan > 1 or c.colspan > 1:
            commands.append(("SPAN", (c.col, c.row), (c.col + c.colspan - 1, c.row + c.rowspan - 1)))
    total = sum(grid.col_weights)
    widths = [width * w / total for w in grid.col_weights]
    table = Table(data, colWidths=widths, repeatRows=0, hAlign="CENTER")
    table.setStyle(TableStyle(commands))
    return table


class _GridFlowable(Flowable):
    """A table that splits between any two rows, cutting row spans like a word processor does."""

    def __init__(self, grid: Grid, build: Callable[[Grid], Table], splittable: bool = True) -> None:
        super().__init__()
        self.grid = grid
        self._build = build
        self._table = build(grid)
        self._splittable = splittable

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = self._table.wrap(availWidth, availHeight)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        if not self._splittable:
            return []
        self._table.wrap(availWidth, availHeight)
        heights: list[float] = list(self._table._rowHeights)
        k, acc = 0, 0.0
        while k < len(heights) and acc + heights[k] <= availHeight:
            acc += heights[k]
            k += 1
        # never leave the header alone at a page bottom: at least one body row goes with it
        min_rows = self.grid.header_rows + 1
        while min_rows <= k < self.grid.n_rows:
            top, bottom = cut_grid(self.grid, k)
            first = self._build(top)
            if first.wrap(availWidth, availHeight)[1] <= availHeight:
                return [first, _GridFlowable(bottom, self._build)]
            k -= 1  # a cut span may have grown its rows: try one row less
        return []

    def draw(self) -> None:
        self._table.drawOn(self.canv, 0, 0)


class _FillToBottom(Flowable):
    """Blank space that leaves exactly room for `keep` at the bottom of the page (moving to a new page
    first when even that is not available): used to put table 四's header rows at a page bottom."""

    def __init__(self, keep: list[Flowable], slack: float = 2.0) -> None:
        super().__init__()
        self._keep = keep
        self._slack = slack

    def _needed(self, availWidth: float) -> float:
        total = 0.0
        for f in self._keep:
            total += f.wrap(availWidth, PAGE_H)[1] + f.getSpaceBefore() + f.getSpaceAfter()
        return total + self._slack

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        need = self._needed(availWidth)
        self.width = availWidth
        # too little room: claim more than available so the frame moves us to the next page
        self.height = availHeight - need if availHeight >= need else availHeight + 10
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        pass


def _story(spec: ReportSpec, options: RenderOptions, st: _Styles) -> list[Flowable]:
    portrait_width = FRAME_W * min(1.0, max(0.5, options.table_width))
    landscape_width = LAND_FRAME_W * min(1.0, max(0.5, options.table_width))

    def portrait(g: Grid) -> Table:
        return _build_table(g, st, portrait_width)

    def wide(g: Grid) -> Table:
        return _build_table(g, st, landscape_width)

    build = portrait

    story: list[Flowable] = [Paragraph(escape(spec.title), st.title)]
    story += [Paragraph(escape(p), st.body) for p in spec.preamble]
    on_landscape = False
    for section in spec.sections:
        if options.landscape_tables:
            # sections 三 and 四 with their tables go on landscape pages, the rest stays portrait
            wants_landscape = section.key in ("requests", "appeals")
            if wants_landscape != on_landscape:
                story += [NextPageTemplate("landscape" if wants_landscape else "page"), PageBreak()]
                on_landscape = wants_landscape
                build = wide if wants_landscape else portrait
        heading = Paragraph(escape(section.heading), st.heading)
        body = [Paragraph(escape(p), st.body) for p in section.paragraphs]
        if section.key == "appeals" and options.appeals_header_data_split:
            header, data = cut_grid(appeals_grid(spec, options), 3)
            header_f = _GridFlowable(header, build, splittable=False)
            story += [_FillToBottom([heading, *body, header_f]), heading, *body, header_f]
            story.append(_GridFlowable(data, build, splittable=False))
            continue
        # a heading needs room for a few lines (or a table's header) after it; keepWithNext would
        # wrap heading + table in KeepTogether and push a splittable table 三 to a new page instead
        story += [CondPageBreak(st.body.leading * 5), heading, *body]
        if section.key == "active":
            for g in active_grids(spec, options):
                story += [_GridFlowable(g, build), Spacer(1, st.cell_size)]
        elif section.key == "requests":
            grid = requests_grid(spec, options)
            n = options.requests_break_after_row
            if n is not None and 0 < n < grid.n_rows - grid.header_rows:
                top, bottom = cut_grid(grid, grid.header_rows + n)
                story += [_GridFlowable(top, build), PageBreak(), _GridFlowable(bottom, build)]
            else:
                story.append(_GridFlowable(grid, build))
            story.append(Spacer(1, st.cell_size))
        elif section.key == "appeals":
            story += [
                _GridFlowable(appeals_grid(spec, options), build, splittable=False),
                Spacer(1, st.cell_size),
            ]
    if options.landscape_tables and on_landscape and spec.closing:
        story += [NextPageTemplate("page"), PageBreak()]
    if spec.closing:
        story.append(Spacer(1, st.body.leading))
        story += [Paragraph(escape(line), st.closing) for line in spec.closing]
    return story


def _page_decorator(
    options: RenderOptions, font: str = FONT, size: tuple[float, float] = (PAGE_W, PAGE_H)
) -> Callable[[Canvas, BaseDocTemplate], None]:
    width, height = size

    def decorate(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        if options.page_header:
            y = height - MARGIN_TOP + 0.9 * cm
            canvas.setFont(font, 9)
            canvas.drawCentredString(width / 2, y, options.page_header)
            canvas.setLineWidth(0.5)
            canvas.line(MARGIN_LEFT, y - 4, width - MARGIN_RIGHT, y - 4)
        if options.page_number_format:
            canvas.setFont(font, 11)
            canvas.drawCentredString(
                width / 2, MARGIN_BOTTOM - 1.3 * cm, options.page_number_format.format(n=doc.page)
            )
        canvas.restoreState()

    return decorate


def render_pdf(spec: ReportSpec, options: RenderOptions | None = None) -> bytes:
    """The report as PDF bytes; identical bytes for identical input (reportlab invariant mode)."""
    options = options or RenderOptions()
    _register_font()
    st = _Styles(options.font_size, options)
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=spec.title,
        author=spec.agency,
        creator="Gongkai synthetic renderer",
        invariant=1,  # fixed document id and dates: same spec, same bytes
    )
    frame = Frame(MARGIN_LEFT, MARGIN_BOTTOM, FRAME_W, PAGE_H - MARGIN_TOP - MARGIN_BOTTOM, id="body")
    templates = [PageTemplate(id="page", frames=[frame], onPage=_page_decorator(options, st.font))]
    if options.landscape_tables:
        land_frame = Frame(
            MARGIN_LEFT, MARGIN_BOTTOM, LAND_FRAME_W, LAND_H - MARGIN_TOP - MARGIN_BOTTOM, id="wide"
        )
        templates.append(
            PageTemplate(
                id="landscape",
                frames=[land_frame],
                pagesize=(LAND_W, LAND_H),
                onPage=_page_decorator(options, st.font, (LAND_W, LAND_H)),
            )
        )
    doc.addPageTemplates(templates)
    doc.build(_story(spec, options, st))
    return buf.getvalue()
