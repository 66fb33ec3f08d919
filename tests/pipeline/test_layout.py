"""Layout stage on hand-made pages: furniture, paragraphs, headings and the title (no PDFs rendered)."""

from __future__ import annotations

import layoutparser as lp
import pytest

from gongkai.pipeline.datamodel import (
    BlockType,
    Document,
    ElementKind,
    GridCell,
    Page,
    SourceInfo,
    TableGrid,
    TextSource,
    flow_document,
    text_block,
)
from gongkai.pipeline.layout import analyze, match_section_heading

# An A4 page with the body set between x=72 and x=523 in 10.5 pt type.
WIDTH, HEIGHT = 595.0, 842.0
LEFT, RIGHT, SIZE = 72.0, 523.0, 10.5
INDENT = LEFT + 2 * SIZE  # a paragraph's first line is indented by two characters
SOURCE = SourceInfo("report.pdf", "0" * 64, "application/pdf", 1)

HEADINGS = [
    ("一、总体情况", "overview"),
    ("二、主动公开政府信息情况", "active"),
    ("三、收到和处理政府信息公开申请情况", "requests"),
    ("四、政府信息公开行政复议、行政诉讼情况", "appeals"),
    ("五、存在的主要问题及改进情况", "problems_improvements"),
    ("六、其他需要报告的事项", "other_matters"),
]


def line(text: str, y: float, *, x0: float = LEFT, x1: float = RIGHT) -> lp.TextBlock:
    """One visual line of a PDF text layer, as the PDF backend makes it."""
    block = text_block(text, (x0, y, x1, y + SIZE), BlockType.LINE)
    block.font_size = SIZE
    return block


def page(number: int, blocks: list[lp.TextBlock], tables: list[TableGrid] | None = None) -> Page:
    return Page(number, WIDTH, HEIGHT, TextSource.TEXT_LAYER, lp.Layout(blocks), tables or [])


def document(*pages: Page) -> Document:
    return Document(SOURCE, list(pages))


def body(y: float, n: int = 3) -> list[lp.TextBlock]:
    """A short paragraph: an indented full line, full lines, and a short last line."""
    lines = [line("本机关认真贯彻落实《中华人民共和国政府信息公开条例》，不断完善工作机制，", y, x0=INDENT)]
    lines += [line("进一步规范依申请公开办理流程，提升公开质量和实效，", y + 20 * k) for k in range(1, n - 1)]
    lines.append(line("取得了较好成效。", y + 20 * (n - 1), x1=LEFT + 8 * SIZE))
    return lines


def texts(doc: Document) -> list[str]:
    return [e.text for e in analyze(doc).elements]


# --------------------------------------------------------------------------- furniture


def test_running_header_and_page_numbers_are_furniture() -> None:
    header = "某某县人民政府2023年政府信息公开工作年度报告"
    p1 = page(1, [line(header, 40, x0=180, x1=415), *body(100), line("- 1 -", 800, x0=285, x1=310)])
    p2 = page(2, [line(header, 40, x0=180, x1=415), *body(100), line("第 2 页", 800, x0=280, x1=315)])
    result = analyze(document(p1, p2))
    assert sorted(result.furniture) == sorted([header, header, "- 1 -", "第 2 页"])
    kept = [e.text for e in result.elements]
    assert not any(header in t or "- 1 -" in t or "第 2 页" in t for t in kept)
    assert len(kept) == 2 and all(e.kind == ElementKind.PARAGRAPH for e in result.elements)


def test_text_in_a_margin_band_is_kept_unless_repeated_or_a_page_number() -> None:
    # A body line that runs into the bottom band on one page only is text, not a footer.
    late = "本报告所列数据的统计期限自2023年1月1日起至2023年12月31日止。"
    p1 = page(1, [*body(100), line(late, 770, x0=INDENT)])
    p2 = page(2, body(100))
    result = analyze(document(p1, p2))
    assert result.furniture == []
    assert late in [e.text for e in result.elements]


def test_running_header_varying_only_in_digits_is_furniture() -> None:
    # Headers that carry the page number ("第1页" / "第2页") fold to one text.
    p1 = page(1, [line("某某县政务公开第1页", 40, x0=250, x1=345), *body(100)])
    p2 = page(2, [line("某某县政务公开第2页", 40, x0=250, x1=345), *body(100)])
    assert analyze(document(p1, p2)).furniture == ["某某县政务公开第1页", "某某县政务公开第2页"]


def test_blocks_typed_as_furniture_are_dropped_wherever_they_are() -> None:
    # The OCR layout model types headers, footers and page numbers itself.
    blocks = [
        text_block("政务公开专栏", (72, 300, 200, 310), BlockType.HEADER),
        text_block("某某县人民政府办公室印发", (72, 400, 300, 410), BlockType.FOOTER),
        text_block("3", (290, 420, 300, 430), BlockType.PAGE_NUMBER),
        *body(500),
    ]
    result = analyze(document(page(1, blocks)))
    assert result.furniture == ["政务公开专栏", "某某县人民政府办公室印发", "3"]
    assert len(result.elements) == 1


# --------------------------------------------------------------------------- paragraphs


def test_wrapped_lines_join_into_paragraphs() -> None:
    result = analyze(document(page(1, [*body(100), *body(200, n=2)])))
    paras = result.elements
    assert [e.kind for e in paras] == [ElementKind.PARAGRAPH, ElementKind.PARAGRAPH]
    assert paras[0].text == (
        "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，不断完善工作机制，"
        "进一步规范依申请公开办理流程，提升公开质量和实效，取得了较好成效。"
    )
    assert paras[1].text.endswith("工作机制，取得了较好成效。")
    # The paragraph's box grows over its lines on the page.
    assert paras[0].bbox == (LEFT, 100.0, RIGHT, 140.0 + SIZE)
    assert paras[0].pages == [1]


def test_enumerated_items_and_table_like_rows_start_new_paragraphs() -> None:
    blocks = [
        line("本机关主动公开政府信息情况如下，各项工作均按照规定的时限和程序完成，", 100, x0=INDENT),
        line("（一）主动公开规章和规范性文件，全年制发规范性文件四件，", 120),
        line("规章 0 0 0", 140, x1=RIGHT),
        line("规范性文件全部按时公开。", 160, x1=LEFT + 12 * SIZE),
    ]
    assert texts(document(page(1, blocks))) == [
        "本机关主动公开政府信息情况如下，各项工作均按照规定的时限和程序完成，",
        "（一）主动公开规章和规范性文件，全年制发规范性文件四件，",
        "规章 0 0 0",
        "规范性文件全部按时公开。",
    ]


def test_unfinished_sentence_continues_across_the_page_break() -> None:
    p1 = page(1, [*body(100), line("全年共受理政府信息公开申请六件，均在法定期限内", 740, x0=INDENT)])
    p2 = page(2, [line("予以答复。", 90, x1=LEFT + 5 * SIZE), *body(120)])
    elements = analyze(document(p1, p2)).elements
    assert len(elements) == 3
    crossing = elements[1]
    assert crossing.text == "全年共受理政府信息公开申请六件，均在法定期限内予以答复。"
    assert (crossing.page, crossing.pages) == (1, [1, 2])
    # The box stays the one on the first page.
    assert crossing.bbox == (INDENT, 740.0, RIGHT, 740.0 + SIZE)


def test_finished_paragraph_does_not_continue_on_the_next_page() -> None:
    p1 = page(1, [*body(100), line("全年共受理政府信息公开申请六件。", 740, x0=INDENT, x1=300)])
    p2 = page(2, [line("均在法定期限内予以答复，未发生行政复议和行政诉讼。", 90, x1=400), *body(120)])
    elements = analyze(document(p1, p2)).elements
    assert [e.text for e in elements][1:3] == [
        "全年共受理政府信息公开申请六件。",
        "均在法定期限内予以答复，未发生行政复议和行政诉讼。",
    ]
    assert [e.pages for e in elements] == [[1], [1], [2], [2]]


# --------------------------------------------------------------------------- headings


@pytest.mark.parametrize(("text", "key"), HEADINGS)
def test_section_headings_are_matched(text: str, key: str) -> None:
    assert match_section_heading(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("五、政府信息公开工作存在的主要问题及改进情况", "problems_improvements"),
        ("一、总体情况概述", "overview"),
        ("二．主动公开政府信息情况", "active"),  # full-width dot
        ("其他需要报告的事项", "other_matters"),  # no ordinal at all
    ],
)
def test_heading_variants_are_matched(text: str, key: str) -> None:
    assert match_section_heading(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("五存在的主要问题和改进措施", "problems_improvements"),  # the 、 after the ordinal lost
        ("四、政府信息公开行政复议行政诉讼情况", "appeals"),  # the 、 inside lost
        ("二、主动公开政府信息情况。", "active"),
        ("六其他需要报告的事项", "other_matters"),
    ],
)
def test_headings_read_with_punctuation_lost_are_matched(text: str, key: str) -> None:
    assert match_section_heading(text) == key


@pytest.mark.parametrize(
    "text",
    [
        "五是加强政务公开工作培训",  # 一是…五是…: enumerations in the text, not headings
        "一般情况下依申请公开",
        "三本年度办理结果",  # a table row label, its 、 lost
        "二十余件申请已办结",
    ],
)
def test_unmarked_ordinals_open_a_section_only_with_its_heading_text(text: str) -> None:
    assert match_section_heading(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "一、本年新收政府信息公开申请数量",  # table 三's row labels look like headings
        "三、本年度办理结果",
        "四、结转下年度继续办理",
        "（一）总体情况",  # a sub-section, never one of the six
        "1.总体情况",
        "2023年，本机关总体情况良好，主动公开政府信息情况见下表。",
    ],
)
def test_row_labels_and_sub_sections_are_not_headings(text: str) -> None:
    assert match_section_heading(text) is None


def test_six_headings_open_their_sections_in_a_pdf() -> None:
    blocks: list[lp.TextBlock] = []
    y = 100.0
    for text, _ in HEADINGS:
        blocks += [line(text, y, x1=LEFT + len(text) * SIZE), *body(y + 20, n=2)]
        y += 60
    elements = analyze(document(page(1, blocks))).elements
    headings = [e for e in elements if e.kind == ElementKind.HEADING]
    assert [(e.text, e.section_key) for e in headings] == HEADINGS
    assert [e.kind for e in elements] == [ElementKind.HEADING, ElementKind.PARAGRAPH] * 6


def test_ordinals_inside_a_table_are_not_headings() -> None:
    # Table 三 as a ruled grid: its row labels start with 一、二、三、四、 like section headings.
    labels = ["一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果"]
    table = TableGrid(
        3,
        2,
        [GridCell(r, c, text) for r, label in enumerate(labels) for c, text in enumerate([label, "5"])],
        TextSource.TEXT_LAYER,
        page=1,
        bbox=(LEFT, 140, RIGHT, 200),
    )
    blocks = [
        line("三、收到和处理政府信息公开申请情况", 100, x1=300),
        text_block("", (LEFT, 140, RIGHT, 200), BlockType.TABLE, block_id=0),
        # The same row printed as a text line (a table without rulings) is no heading either.
        line("四、结转下年度继续办理 0 0 0 0 0 0 0", 220),
    ]
    elements = analyze(document(page(1, blocks, [table]))).elements
    assert [(e.kind, e.section_key) for e in elements] == [
        (ElementKind.HEADING, "requests"),
        (ElementKind.TABLE, None),
        (ElementKind.PARAGRAPH, None),
    ]
    assert elements[1].table is table and elements[1].pages == [1]


def test_table_placeholder_without_a_table_is_an_error() -> None:
    blocks = [*body(100), text_block("", (LEFT, 200, RIGHT, 300), BlockType.TABLE)]
    with pytest.raises(ValueError, match="page 1"):
        analyze(document(page(1, blocks)))


# --------------------------------------------------------------------------- title


def test_title_lines_before_the_first_heading_become_the_title() -> None:
    blocks = [
        line("某某县人民政府办公室", 60, x0=245, x1=350),  # in the top band, but on one page only
        line("2023年政府信息公开工作年度报告", 85, x0=200, x1=395),
        line("一、总体情况", 130, x1=140),
        *body(150),
    ]
    p2 = page(2, body(100))
    elements = analyze(document(page(1, blocks), p2)).elements
    assert elements[0].kind == ElementKind.TITLE
    assert elements[0].text == "某某县人民政府办公室2023年政府信息公开工作年度报告"
    assert [e.kind for e in elements[1:3]] == [ElementKind.HEADING, ElementKind.PARAGRAPH]


def test_no_title_without_a_report_name() -> None:
    blocks = [line("某某县人民政府办公室", 60, x0=245, x1=350), line("一、总体情况", 130, x1=140), *body(150)]
    elements = analyze(document(page(1, blocks))).elements
    assert ElementKind.TITLE not in [e.kind for e in elements]
    assert elements[0].text == "某某县人民政府办公室"


def test_flow_document_without_geometry() -> None:
    # HTML and DOCX: whole paragraphs on one pseudo page; nothing is joined, nothing is furniture.
    table = TableGrid(1, 2, [GridCell(0, 0, "规章"), GridCell(0, 1, "0")], TextSource.HTML)
    doc = flow_document(
        SourceInfo("report.html", "0" * 64, "text/html", 1),
        [
            "某某局2023年政府信息公开工作年度报告",
            "一、总体情况",
            "本局认真贯彻落实《条例》，",
            "1",
            "二、主动公开政府信息情况",
            table,
        ],
        TextSource.HTML,
        "the HTML page",
    )
    result = analyze(doc)
    assert result.furniture == []
    assert [(e.kind, e.text) for e in result.elements] == [
        (ElementKind.TITLE, "某某局2023年政府信息公开工作年度报告"),
        (ElementKind.HEADING, "一、总体情况"),
        (ElementKind.PARAGRAPH, "本局认真贯彻落实《条例》，"),
        (ElementKind.PARAGRAPH, "1"),
        (ElementKind.HEADING, "二、主动公开政府信息情况"),
        (ElementKind.TABLE, ""),
    ]
    assert all(e.bbox is None and e.source == TextSource.HTML for e in result.elements)
