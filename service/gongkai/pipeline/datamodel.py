"""The document model every ingest backend produces and every later stage reads.

Pages hold text blocks as ``TextBlock``s (layoutparser's layout element, reduced to the attributes the
pipeline reads: layoutparser itself imports pandas, OpenCV and PIL, about a second of start-up that
a born-digital document does not need) plus reconstructed tables as cell grids. Coordinates are
PDF points, origin top-left; HTML and DOCX documents have one pseudo page without geometry. The
layout stage turns pages into ``Element``s in reading order, which the table, mapping, check and
narrative stages read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

BBox = tuple[float, float, float, float]


class TextSource(StrEnum):
    TEXT_LAYER = "text_layer"
    OCR = "ocr"
    HTML = "html"
    DOCX = "docx"
    TEXT = "text"  # plain text crawled from a site (gongkai batch)


class BlockType(StrEnum):
    """Types a block can carry in ``TextBlock.type``."""

    LINE = "line"  # one visual line of a PDF text layer, before paragraphs are formed
    PARAGRAPH = "paragraph"
    TITLE = "title"
    HEADING = "heading"
    HEADER = "header"  # running page header
    FOOTER = "footer"  # running page footer
    PAGE_NUMBER = "page_number"
    TABLE = "table"  # placeholder in reading order; ``id`` indexes ``Page.tables``


@dataclass(slots=True)
class TextBlock:
    """A block of text (or a region) on a page: a rectangle with text, a type, an id and a score.

    It has layoutparser ``TextBlock``'s interface as far as the pipeline uses it (``coordinates``,
    ``block.x_1``…, ``text``, ``type``, ``id``, ``score``, ``scale``), so code written against
    layoutparser's blocks reads these unchanged.
    """

    x_1: float
    y_1: float
    x_2: float
    y_2: float
    text: str = ""
    type: str | None = None
    id: int | None = None
    score: float | None = None
    # Text-layer and OCR lines: the rendered font size in points (the layout stage finds titles by it).
    font_size: float = 0.0

    @property
    def coordinates(self) -> BBox:
        return (self.x_1, self.y_1, self.x_2, self.y_2)

    @property
    def block(self) -> TextBlock:
        # layoutparser keeps the rectangle in ``.block``; here the block is its own rectangle.
        return self

    def scale(self, factor: float | tuple[float, float]) -> TextBlock:
        """The same block with its coordinates multiplied (``(sx, sy)`` or one factor for both)."""
        sx, sy = factor if isinstance(factor, tuple) else (factor, factor)
        return TextBlock(
            self.x_1 * sx,
            self.y_1 * sy,
            self.x_2 * sx,
            self.y_2 * sy,
            self.text,
            self.type,
            self.id,
            self.score,
            self.font_size,
        )


# A page's blocks in reading order. The stages also read a layoutparser ``Layout`` of layoutparser
# ``TextBlock``s unchanged (tests/pipeline/test_layout.py builds its pages that way), so documents
# made with layoutparser's own tools can be fed to the later stages.
Layout = list[TextBlock]


@dataclass
class GridCell:
    """One anchor cell of a table grid; a merged cell covers row_span x col_span positions."""

    row: int
    col: int
    text: str
    row_span: int = 1
    col_span: int = 1
    bbox: BBox | None = None
    page: int | None = None
    confidence: float = 1.0
    # OCR only: the recogniser's top readings of a numeric cell with their probabilities, best
    # first (the repair stage searches them when an identity fails).
    candidates: list[tuple[str, float]] = field(default_factory=list)
    # Set when a table joined across pages mixes readers (a text page and a scanned page); None
    # means the table's own source.
    source: TextSource | None = None


@dataclass
class TableGrid:
    """A reconstructed table: anchor cells on an n_rows x n_cols grid (spans included)."""

    n_rows: int
    n_cols: int
    cells: list[GridCell]
    source: TextSource
    page: int | None = None  # first page the table is on (1-based)
    bbox: BBox | None = None
    # Set when the table continues on the next page and was joined by the table stage.
    pages: list[int] = field(default_factory=list)
    # Column boundaries (x, points) on the table's first page; a joined table keeps the first
    # part's, since its later parts may sit elsewhere on their pages (mirrored margins).
    col_edges: list[float] | None = None

    def matrix(self) -> list[list[GridCell | None]]:
        """Every grid position mapped to the anchor cell covering it (spans filled in)."""
        m: list[list[GridCell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for c in self.cells:
            for r in range(c.row, min(c.row + c.row_span, self.n_rows)):
                for k in range(c.col, min(c.col + c.col_span, self.n_cols)):
                    m[r][k] = c
        return m

    def text_matrix(self) -> list[list[str]]:
        return [[c.text if c else "" for c in row] for row in self.matrix()]


@dataclass
class Page:
    number: int  # 1-based
    width: float | None
    height: float | None
    text_source: TextSource
    blocks: Layout = field(default_factory=list)
    tables: list[TableGrid] = field(default_factory=list)
    # Set by the PDF backend when the page has no usable text layer (the OCR stage takes it).
    needs_ocr: bool = False
    # OCR pages: the resolution the image was read at (bbox points = pixels x 72 / dpi).
    ocr_dpi: float | None = None
    # OCR pages: regions found by the layout model (CDLA labels in ``type``), in PDF points; empty
    # when no line lies in the header/footer bands, the only lines the model decides.
    regions: Layout = field(default_factory=list)


@dataclass
class SourceInfo:
    filename: str
    sha256: str
    media_type: str
    size: int


@dataclass
class Document:
    source: SourceInfo
    pages: list[Page]
    warnings: list[str] = field(default_factory=list)
    # A web page's own title (<meta name="ArticleTitle"> or <title>): metadata when the article
    # body prints no title of its own.
    page_title: str | None = None


class ElementKind(StrEnum):
    TITLE = "title"
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    TABLE = "table"


@dataclass
class Element:
    """One item of the document in reading order, as the layout stage forms it."""

    kind: ElementKind
    text: str
    page: int
    bbox: BBox | None
    source: TextSource
    section_key: str | None = None  # for headings: the section they open
    table: TableGrid | None = None
    # Every page the element covers (a paragraph or a joined table may cross a page break).
    pages: list[int] = field(default_factory=list)


def text_block(
    text: str,
    bbox: BBox | None,
    block_type: BlockType,
    *,
    block_id: int | None = None,
    score: float | None = None,
) -> TextBlock:
    """A text block; documents without geometry get a zero rectangle."""
    x0, y0, x1, y1 = bbox if bbox is not None else (0.0, 0.0, 0.0, 0.0)
    return TextBlock(x0, y0, x1, y1, text=text, type=str(block_type), id=block_id, score=score)


def block_bbox(block: TextBlock) -> BBox | None:
    x0, y0, x1, y1 = block.coordinates
    if x0 == y0 == x1 == y1 == 0:
        return None
    return (float(x0), float(y0), float(x1), float(y1))


def flow_document(
    source: SourceInfo, items: list[str | TableGrid], text_source: TextSource, what: str
) -> Document:
    """A document without pages (HTML, DOCX): paragraphs and tables in reading order on one pseudo page.

    ``what`` names the input in the error for a document with no text ("the HTML page").
    """
    from gongkai.errors import EmptyDocumentError  # the data model stays import-light

    blocks: list[TextBlock] = []
    tables: list[TableGrid] = []
    for item in items:
        if isinstance(item, TableGrid):
            blocks.append(text_block("", None, BlockType.TABLE, block_id=len(tables)))
            tables.append(item)
        else:
            blocks.append(text_block(item, None, BlockType.PARAGRAPH))
    if not any(b.text for b in blocks) and not any(c.text for t in tables for c in t.cells):
        raise EmptyDocumentError(f"{what} has no text")
    page = Page(1, None, None, text_source, blocks, tables, needs_ocr=False)
    return Document(source=source, pages=[page])
