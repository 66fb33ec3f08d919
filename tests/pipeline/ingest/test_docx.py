"""DOCX ingest: body order, merged-cell grids from the XML, content controls, bad input, the real template."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from pathlib import Path

import docx
import pytest

from gongkai.errors import CorruptDocumentError, EmptyDocumentError
from gongkai.pipeline.datamodel import BlockType, Document, GridCell, SourceInfo, TableGrid, TextSource
from gongkai.pipeline.ingest import DOCX, load_document
from gongkai.pipeline.ingest.docx import read_docx

TEMPLATE = Path("/work/shared/corpus/real/template-2021-blank.docx")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _source(data: bytes) -> SourceInfo:
    return SourceInfo("report.docx", hashlib.sha256(data).hexdigest(), DOCX, len(data))


def _read(data: bytes) -> Document:
    return read_docx(data, _source(data))


def _items(doc: Document) -> list[str]:
    return [f"<table {b.id}>" if b.type == BlockType.TABLE else b.text for b in doc.pages[0].blocks]


def _spans(table: TableGrid) -> list[tuple[int, int, int, int, str]]:
    return [(c.row, c.col, c.row_span, c.col_span, c.text) for c in table.cells]


def _save(document: docx.document.Document) -> bytes:
    buf = BytesIO()
    document.save(buf)
    return buf.getvalue()


def _package(document_xml: str | bytes) -> bytes:
    """A minimal DOCX package around a given word/document.xml."""
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        zf.writestr("word/document.xml", document_xml)
    return buf.getvalue()


def _body(inner: str) -> str:
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}">'
    return f"{head}<w:body>{inner}</w:body></w:document>"


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space='preserve'>{text}</w:t></w:r></w:p>"


def _tc(text: str, span: int = 1, vmerge: str | None = None) -> str:
    props = ""
    if span > 1:
        props += f"<w:gridSpan w:val='{span}'/>"
    if vmerge == "restart":
        props += "<w:vMerge w:val='restart'/>"
    elif vmerge == "continue":
        props += "<w:vMerge/>"  # no val: "continue", as Word writes it
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(text) if text else '<w:p/>'}</w:tc>"


# --- built with python-docx ---------------------------------------------------------------------------


def _merged_report() -> bytes:
    d = docx.Document()
    d.add_heading("某某局2022年政府信息公开工作年度报告", level=1)
    d.add_paragraph("一、总体情况")
    d.add_paragraph("")  # empty paragraphs are skipped
    d.add_paragraph("\u3000\u3000本年度共受理申请3件。\u3000")
    t = d.add_table(rows=4, cols=4)
    t.style = "Table Grid"
    # 3x3 block in the top-left like table 三's note corner is too big for 4x4; use 2x2 + merges around it.
    t.cell(0, 0).merge(t.cell(1, 1)).text = "注"
    t.cell(0, 2).merge(t.cell(0, 3)).text = "申请人情况"  # horizontal
    t.cell(1, 2).text = "自然人"
    t.cell(1, 3).merge(t.cell(3, 3)).text = "总计"  # vertical, 3 rows
    t.cell(2, 0).merge(t.cell(2, 1)).text = "一、本年新收"
    t.cell(2, 2).text = "3"
    t.cell(3, 0).text = "二、上年结转"
    t.cell(3, 1).text = "\u3000"
    t.cell(3, 2).text = "0"
    d.add_paragraph("四、结转下年度继续办理")
    return _save(d)


def test_paragraphs_and_table_interleave_in_body_order() -> None:
    doc = _read(_merged_report())
    page = doc.pages[0]
    assert (page.number, page.width, page.height, page.needs_ocr) == (1, None, None, False)
    assert page.text_source == TextSource.DOCX
    assert _items(doc) == [
        "某某局2022年政府信息公开工作年度报告",
        "一、总体情况",
        "本年度共受理申请3件。",
        "<table 0>",
        "四、结转下年度继续办理",
    ]
    assert {b.type for b in page.blocks if b.type != BlockType.TABLE} == {BlockType.PARAGRAPH}


def test_merged_cells_are_single_anchors_with_exact_spans() -> None:
    table = _read(_merged_report()).pages[0].tables[0]
    assert (table.n_rows, table.n_cols, table.source, table.page) == (4, 4, TextSource.DOCX, 1)
    assert _spans(table) == [
        (0, 0, 2, 2, "注"),
        (0, 2, 1, 2, "申请人情况"),
        (1, 2, 1, 1, "自然人"),
        (1, 3, 3, 1, "总计"),
        (2, 0, 1, 2, "一、本年新收"),
        (2, 2, 1, 1, "3"),
        (3, 0, 1, 1, "二、上年结转"),
        (3, 1, 1, 1, ""),
        (3, 2, 1, 1, "0"),
    ]
    assert sum(c.row_span * c.col_span for c in table.cells) == 16
    assert all(cell is not None for row in table.matrix() for cell in row)


def test_document_without_text_is_empty() -> None:
    d = docx.Document()
    d.add_paragraph("  \u3000 ")
    d.add_table(rows=2, cols=2)
    with pytest.raises(EmptyDocumentError, match="has no text"):
        _read(_save(d))


# --- hand-written XML for what python-docx cannot build ------------------------------------------------


def test_vmerge_without_val_grid_before_after_and_multi_paragraph_cells() -> None:
    xml = _body(
        "<w:tbl><w:tblGrid>" + "<w:gridCol/>" * 4 + "</w:tblGrid>"
        "<w:tr>"
        + _tc("三、本年度办理结果", vmerge="restart")
        + _tc("（一）予以公开", span=2)
        + _tc("1")
        + "</w:tr>"
        "<w:tr>"
        + _tc("", vmerge="continue")
        + "<w:tc><w:tcPr><w:gridSpan w:val='2'/></w:tcPr>"
        + _p("（二）部分公开")
        + "<w:p/>"
        + _p("（区分处理的）")
        + "</w:tc>"
        + _tc("2")
        + "</w:tr>"
        "<w:tr><w:trPr><w:gridBefore w:val='1'/><w:gridAfter w:val='1'/></w:trPr>"
        + _tc("x")
        + _tc("y")
        + "</w:tr>"
        "</w:tbl>"
    )
    table = _read(_package(xml)).pages[0].tables[0]
    assert (table.n_rows, table.n_cols) == (3, 4)
    assert _spans(table) == [
        (0, 0, 2, 1, "三、本年度办理结果"),
        (0, 1, 1, 2, "（一）予以公开"),
        (0, 3, 1, 1, "1"),
        (1, 1, 1, 2, "（二）部分公开\n（区分处理的）"),
        (1, 3, 1, 1, "2"),
        (2, 1, 1, 1, "x"),  # gridBefore shifts the row right
        (2, 2, 1, 1, "y"),
    ]


def test_continue_without_restart_joins_the_cell_above() -> None:
    xml = _body(
        "<w:tbl><w:tr>"
        + _tc("a")
        + _tc("b")
        + "</w:tr><w:tr>"
        + _tc("c", vmerge="continue")
        + _tc("d")
        + "</w:tr></w:tbl>"
    )
    table = _read(_package(xml)).pages[0].tables[0]
    # Policy: a "continue" joins whatever cell is above it even without a "restart" there, and stray text
    # in a continuation cell is kept on the anchor rather than lost.
    assert _spans(table)[0] == (0, 0, 2, 1, "a\nc")


def test_content_controls_nested_tables_and_revisions() -> None:
    nested = "<w:tbl><w:tr>" + _tc("0") + _tc("元") + "</w:tr></w:tbl>"
    xml = _body(
        "<w:sdt><w:sdtPr><w:alias w:val='标题'/></w:sdtPr><w:sdtContent>"
        + _p("2023年政府信息公开工作年度报告")
        + "</w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>本年</w:t></w:r><w:del><w:r><w:delText>删掉</w:delText></w:r></w:del>"
        "<w:sdt><w:sdtContent><w:r><w:t>收费</w:t></w:r></w:sdtContent></w:sdt>"
        "<w:r><w:fldChar w:fldCharType='begin'/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
        "<w:r><w:br/><w:t>情况如下</w:t></w:r></w:p>"
        "<w:tbl><w:tr>"
        + _tc("收费")
        + "<w:tc><w:p/>"
        + nested
        + "<w:p/></w:tc>"
        + "</w:tr><w:sdt><w:sdtContent><w:tr>"
        + _tc("合计")
        + _tc("0")
        + "</w:tr></w:sdtContent></w:sdt></w:tbl>"
        + _p("结束")
    )
    doc = _read(_package(xml))
    assert _items(doc) == ["2023年政府信息公开工作年度报告", "本年收费\n情况如下", "<table 0>", "结束"]
    assert len(doc.pages[0].tables) == 1  # the nested table is cell text, not a table of its own
    assert _spans(doc.pages[0].tables[0]) == [
        (0, 0, 1, 1, "收费"),
        (0, 1, 1, 1, "0\n元"),
        (1, 0, 1, 1, "合计"),
        (1, 1, 1, 1, "0"),
    ]


def test_headers_and_footers_are_ignored() -> None:
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "某某市人民政府办公室"
    d.sections[0].footer.paragraphs[0].text = "- 1 -"
    d.add_paragraph("正文")
    assert _items(_read(_save(d))) == ["正文"]


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xml",
    [
        b"<w:document xmlns:w='" + W_NS.encode() + b"'><w:body><w:p><w:r><w:t>unclosed",
        b"\x00\x01 not xml at all",
        b"<?xml version='1.0'?><root>not word</root>",
        b"<?xml version='1.0'?><w:document xmlns:w='" + W_NS.encode() + b"'/>",
    ],
)
def test_broken_document_xml_is_corrupt(xml: bytes) -> None:
    with pytest.raises(CorruptDocumentError) as err:
        _read(_package(xml))
    assert "\n" not in str(err.value)


def test_broken_document_xml_through_load_document() -> None:
    with pytest.raises(CorruptDocumentError):
        load_document(_package(b"<w:document><w:body>"), "broken.docx")


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 truncated zip",
        b"definitely not a zip file",
        _package(_body(_p("x")))[:-40],  # central directory cut off
    ],
)
def test_unopenable_zip_is_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptDocumentError):
        _read(data)


def test_missing_main_part_is_corrupt() -> None:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/styles.xml", "<x/>")
    with pytest.raises(CorruptDocumentError, match="no main part"):
        _read(buf.getvalue())


# --- the real blank 2021 template -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> Document:
    if not TEMPLATE.is_file():
        pytest.skip(f"real sample {TEMPLATE} is not available in this checkout")
    return load_document(TEMPLATE.read_bytes(), TEMPLATE.name)


def test_template_body_order(template: Document) -> None:
    items = _items(template)
    assert items[:5] == [
        "政府信息公开工作年度报告格式模板",
        "一、总体情况",
        "（文字描述）",
        "二、主动公开政府信息情况",
        "<table 0>",
    ]
    assert items.index("三、收到和处理政府信息公开申请情况") == items.index("<table 1>") - 1
    assert items.index("四、政府信息公开行政复议、行政诉讼情况") == items.index("<table 2>") - 1
    assert items[-1] == "（文字描述，收取信息处理费情况在此处报告。）"


def test_template_tables(template: Document) -> None:
    tables = template.pages[0].tables
    assert len(tables) == 3
    active, requests, appeals = tables
    assert (active.n_rows, active.n_cols) == (14, 4)
    assert (requests.n_rows, requests.n_cols) == (28, 10)
    assert (appeals.n_rows, appeals.n_cols) == (4, 15)

    by_text = {c.text: c for c in requests.cells if c.text}
    corner = next(c for c in requests.cells if c.text.startswith("（本列数据的勾稽关系为"))
    assert (corner.row, corner.col, corner.row_span, corner.col_span) == (0, 0, 3, 3)
    assert _pos(by_text["申请人情况"]) == (0, 3, 1, 7)
    assert _pos(by_text["自然人"]) == (1, 3, 2, 1)
    assert _pos(by_text["法人或其他组织"]) == (1, 4, 1, 5)
    assert _pos(by_text["总计"]) == (1, 9, 2, 1)
    assert _pos(by_text["三、本年度办理结果"]) == (5, 0, 22, 1)
    assert _pos(by_text["（三）不予公开"]) == (7, 1, 8, 1)
    assert _pos(by_text["四、结转下年度继续办理"]) == (27, 0, 1, 3)
    # Header words printed on two lines in the template are two paragraphs in one cell.
    assert by_text["商业\n企业"].col == 4
    # Blank data cells (some hold only U+3000) are empty, and the grid has no holes or overlaps.
    assert requests.text_matrix()[3][3:] == [""] * 7
    assert sum(c.row_span * c.col_span for c in requests.cells) == 28 * 10

    review = next(c for c in appeals.cells if c.text == "行政复议")
    assert _pos(review) == (0, 0, 1, 5)
    assert _pos(next(c for c in appeals.cells if c.text == "行政诉讼")) == (0, 5, 1, 10)
    assert [_pos(c) for c in appeals.cells if c.row == 1][:5] == [(1, k, 2, 1) for k in range(5)]
    assert sum(c.row_span * c.col_span for c in appeals.cells) == 4 * 15


def _pos(cell: GridCell) -> tuple[int, int, int, int]:
    return (cell.row, cell.col, cell.row_span, cell.col_span)
