"""HTML ingest: chrome removal, paragraph order, rowspan/colspan grids, encodings, layout tables."""

from __future__ import annotations

import hashlib

import pytest

from gongkai.errors import EmptyDocumentError
from gongkai.pipeline.datamodel import BlockType, Document, SourceInfo, TextSource
from gongkai.pipeline.ingest import HTML, load_document
from gongkai.pipeline.ingest.html import decode_html, read_html


def _source(data: bytes) -> SourceInfo:
    return SourceInfo("page.html", hashlib.sha256(data).hexdigest(), HTML, len(data))


def _read(html: str | bytes) -> Document:
    data = html.encode("utf-8") if isinstance(html, str) else html
    return read_html(data, _source(data))


def _items(doc: Document) -> list[str]:
    """Blocks in order; tables as "<table N>"."""
    return [f"<table {b.id}>" if b.type == BlockType.TABLE else b.text for b in doc.pages[0].blocks]


def _spans(doc: Document, index: int = 0) -> list[tuple[int, int, int, int, str]]:
    return [(c.row, c.col, c.row_span, c.col_span, c.text) for c in doc.pages[0].tables[index].cells]


NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

# The header of statutory table 三 plus one data row, written the way portals publish it.
TABLE_3 = f"""
<table border="1">
  <tbody>
  <tr><td rowspan="3" colspan="3"><p>{NOTE}</p></td><td colspan="7">申请人情况</td></tr>
  <tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
  <tr><td>商业<br>企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
  <tr><td colspan="3">一、本年新收政府信息公开申请数量</td>
      <td>3</td><td>&nbsp;</td><td>0</td><td>0</td><td>0</td><td>\u3000</td><td>3</td></tr>
  </tbody>
</table>
"""

GOV_PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>年度报告</title>
<script>var nav = "脚本里的文字";</script><style>.x{{color:red}}</style></head>
<body>
<div id="header"><div class="logo">某某区人民政府</div><a href="/">首页</a></div>
<div class="mainNav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk">政务公开</a></li></ul></div>
<div class="breadcrumb">当前位置：首页 &gt; 政务公开 &gt; 年度报告</div>
<div class="container">
  <div class="sidebar"><h3>相关链接</h3><ul><li><a href="#">市政府</a></li></ul></div>
  <div class="article">
    <div class="article-header-content"><h1>某某区人民政府办公室2022年政府信息公开工作年度报告</h1></div>
    <div class="share-box">分享到：微信 微博</div>
    <div id="zoom" class="TRS_Editor">
      <p>\u3000\u3000根据《中华人民共和国政府信息公开条例》，现将有关情况报告如下：</p>
      <h2>一、总体情况</h2>
      <p>（一）主动公开<br/>全年发布信息 3585 条。</p>
      <p>   </p>
      <p>&nbsp;</p>
      <h2>三、收到和处理政府信息公开申请情况</h2>
      {TABLE_3}
      <p>四、政府信息公开行政复议、行政诉讼情况</p>
      <script>document.write("不该出现");</script>
    </div>
  </div>
</div>
<div class="footer"><p>版权所有：某某区人民政府 主办单位：某某区人民政府办公室</p>
<p>苏ICP备12345678号 网站标识码：3207060001</p><a href="#">联系我们</a></div>
<noscript>请启用脚本</noscript>
</body></html>
"""


def test_gov_page_paragraphs_in_order_without_chrome() -> None:
    doc = _read(GOV_PAGE)
    assert len(doc.pages) == 1
    page = doc.pages[0]
    assert (page.number, page.width, page.height, page.needs_ocr) == (1, None, None, False)
    assert page.text_source == TextSource.HTML
    assert _items(doc) == [
        "某某区人民政府办公室2022年政府信息公开工作年度报告",
        "根据《中华人民共和国政府信息公开条例》，现将有关情况报告如下：",
        "一、总体情况",
        "（一）主动公开\n全年发布信息 3585 条。",
        "三、收到和处理政府信息公开申请情况",
        "<table 0>",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]
    # Every text block is a PARAGRAPH: heading classification is a later stage's job.
    assert {b.type for b in page.blocks if b.type != BlockType.TABLE} == {BlockType.PARAGRAPH}
    everything = "\n".join(b.text for b in page.blocks) + "".join(c.text for c in page.tables[0].cells)
    for chrome in ("首页", "政务公开 >", "当前位置", "相关链接", "分享到", "版权所有", "ICP备", "网站标识码",
                   "联系我们", "脚本里的文字", "不该出现", "请启用脚本"):  # fmt: skip
        assert chrome not in everything


def test_statutory_table_3_header_grid_is_exact() -> None:
    doc = _read(GOV_PAGE)
    table = doc.pages[0].tables[0]
    assert (table.n_rows, table.n_cols, table.source, table.page) == (4, 10, TextSource.HTML, 1)
    assert _spans(doc) == [
        (0, 0, 3, 3, NOTE),
        (0, 3, 1, 7, "申请人情况"),
        (1, 3, 2, 1, "自然人"),
        (1, 4, 1, 5, "法人或其他组织"),
        (1, 9, 2, 1, "总计"),
        (2, 4, 1, 1, "商业\n企业"),
        (2, 5, 1, 1, "科研机构"),
        (2, 6, 1, 1, "社会公益组织"),
        (2, 7, 1, 1, "法律服务机构"),
        (2, 8, 1, 1, "其他"),
        (3, 0, 1, 3, "一、本年新收政府信息公开申请数量"),
        (3, 3, 1, 1, "3"),
        (3, 4, 1, 1, ""),  # &nbsp; only
        (3, 5, 1, 1, "0"),
        (3, 6, 1, 1, "0"),
        (3, 7, 1, 1, "0"),
        (3, 8, 1, 1, ""),  # U+3000 only
        (3, 9, 1, 1, "3"),
    ]
    # The grid is fully covered: no holes and no overlaps.
    matrix = table.matrix()
    assert all(cell is not None for row in matrix for cell in row)
    assert sum(c.row_span * c.col_span for c in table.cells) == 4 * 10


def test_gbk_page_with_meta_charset_gb2312() -> None:
    html = (
        '<html><head><meta charset="gb2312"></head><body>'
        "<p>海州区人民政府办公室2022年政府信息公开工作年度报告</p>"
        "<table><tr><td>总计</td><td>3</td></tr></table></body></html>"
    )
    doc = _read(html.encode("gbk"))
    assert _items(doc) == ["海州区人民政府办公室2022年政府信息公开工作年度报告", "<table 0>"]
    assert _spans(doc) == [(0, 0, 1, 1, "总计"), (0, 1, 1, 1, "3")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # http-equiv declaration, GBK bytes beyond GB2312 (镕 is GBK-only)
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=GBK"><p>朱镕基</p>'.encode("gbk"),
            "朱镕基",
        ),
        # declared gb2312 but actually UTF-8: the declaration is wrong, UTF-8 still decodes
        ('<meta charset="gb2312"><p>年度报告</p>'.encode(), "年度报告"),
        # no declaration, GB18030 bytes: UTF-8 fails, GB18030 fallback
        ("<p>政府信息公开</p>".encode("gb18030"), "政府信息公开"),
        # BOM wins over a (wrong) declaration
        ('\ufeff<meta charset="gbk"><p>依申请公开</p>'.encode(), "依申请公开"),
        ("<p>行政复议</p>".encode("utf-16"), "行政复议"),
    ],
)
def test_decoding(data: bytes, expected: str) -> None:
    assert expected in decode_html(data)
    assert _items(_read(data)) == [expected]


def test_ragged_rows_clipped_rowspan_and_zero_colspan() -> None:
    html = """<body><table>
      <tr><td>a</td><td rowspan="5">b</td><td colspan="0">c</td></tr>
      <tr><td>d</td></tr>
      <tr><td>e</td><td>f</td><td>g</td><td>h</td></tr>
    </table></body>"""
    doc = _read(html)
    table = doc.pages[0].tables[0]
    # Row 2 is the longest (5 columns); b's rowspan of 5 is clipped to the 3 rows present.
    assert (table.n_rows, table.n_cols) == (3, 5)
    assert _spans(doc) == [
        (0, 0, 1, 1, "a"),
        (0, 1, 3, 1, "b"),
        (0, 2, 1, 1, "c"),
        (1, 0, 1, 1, "d"),
        (2, 0, 1, 1, "e"),
        (2, 2, 1, 1, "f"),  # pushed right past b's rowspan
        (2, 3, 1, 1, "g"),
        (2, 4, 1, 1, "h"),
    ]
    # Short rows leave uncovered positions rather than invented cells.
    assert table.matrix()[1][2] is None
    assert table.text_matrix() == [
        ["a", "b", "c", "", ""],
        ["d", "b", "", "", ""],
        ["e", "b", "f", "g", "h"],
    ]


def test_rowspan_zero_runs_to_the_last_row() -> None:
    doc = _read(
        "<table><tr><td rowspan='0'>x</td><td>1</td></tr><tr><td>2</td></tr><tr><td>3</td></tr></table>"
    )
    assert _spans(doc) == [(0, 0, 3, 1, "x"), (0, 1, 1, 1, "1"), (1, 1, 1, 1, "2"), (2, 1, 1, 1, "3")]


@pytest.mark.parametrize(
    "html",
    [
        "<html><body></body></html>",
        "<html><head><title>只有标题</title><script>var a='x';</script></head>"
        "<body>  &nbsp; \u3000</body></html>",
        "<body><table><tr><td> </td><td>&nbsp;</td></tr></table></body>",
    ],
)
def test_page_without_text_is_empty(html: str) -> None:
    with pytest.raises(EmptyDocumentError, match="has no text"):
        _read(html)


def test_empty_page_through_load_document() -> None:
    with pytest.raises(EmptyDocumentError):
        load_document(b"<html><body><div class='nav'>   </div></body></html>", "x.html")


def test_layout_table_does_not_hide_data_table() -> None:
    html = f"""<html><body>
    <table width="100%"><tr>
      <td width="200"><a href="/">机构概况</a><br><a href="/">政策文件</a></td>
      <td>
        <p>某某局2022年政府信息公开工作年度报告</p>
        <p>二、主动公开政府信息情况</p>
        <table border="1">
          <tr><td colspan="4">第二十条第（一）项</td></tr>
          <tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
          <tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>
        </table>
        <p>三、收到和处理政府信息公开申请情况</p>
        {TABLE_3}
        <p>五、存在的主要问题及改进情况</p>
      </td>
    </tr></table></body></html>"""
    doc = _read(html)
    assert _items(doc) == [
        "机构概况",
        "政策文件",
        "某某局2022年政府信息公开工作年度报告",
        "二、主动公开政府信息情况",
        "<table 0>",
        "三、收到和处理政府信息公开申请情况",
        "<table 1>",
        "五、存在的主要问题及改进情况",
    ]
    first, second = doc.pages[0].tables
    assert (first.n_rows, first.n_cols) == (3, 4)
    assert (first.cells[0].text, first.cells[0].col_span) == ("第二十条第（一）项", 4)
    assert (second.n_rows, second.n_cols) == (4, 10)


def test_single_cell_layout_table_yields_paragraphs() -> None:
    doc = _read("<table><tr><td><p>一、总体情况</p><p>2022年，本机关……</p></td></tr></table>")
    assert _items(doc) == ["一、总体情况", "2022年，本机关……"]
    assert doc.pages[0].tables == []


def test_nested_table_inside_data_cell_is_cell_text() -> None:
    html = """<table>
      <tr><td>项目</td><td>数量</td><td>备注</td><td>单位</td></tr>
      <tr><td>收费</td><td><table><tr><td>0</td><td>元</td></tr></table></td><td>无</td><td>元</td></tr>
    </table>"""
    doc = _read(html)
    assert len(doc.pages[0].tables) == 1
    assert doc.pages[0].tables[0].matrix()[1][1].text == "0\n元"


def test_form_wrapper_and_article_header_are_kept() -> None:
    # ASP.NET portals wrap the whole page in <form>; HTML5 articles put the title in <header>.
    html = """<body><form id="form1"><div class="topnav"><a href="#">首页</a></div>
      <article><header><h1>2023年政府信息公开工作年度报告</h1></header>
      <p>一、总体情况</p><p>本年度共受理申请12件，均已按时答复。</p>
      <footer class="article-footer">打印本页 关闭窗口</footer></article>
      <footer>主办单位：某某市人民政府</footer></form></body>"""
    doc = _read(html)
    assert _items(doc) == [
        "2023年政府信息公开工作年度报告",
        "一、总体情况",
        "本年度共受理申请12件，均已按时答复。",
    ]


def test_main_content_is_the_richest_content_container() -> None:
    body_text = "".join(
        f"<p>第{i}段：本机关认真贯彻落实政府信息公开条例，依法依规做好公开工作。</p>" for i in range(5)
    )
    html = f"""<body>
      <div class="box"><div class="content">热点推荐</div></div>
      <div class="links">友情链接 <a href="#">省政府</a></div>
      <div class="detail-main"><div class="TRS_Editor">{body_text}</div></div>
    </body>"""
    doc = _read(html)
    texts = _items(doc)
    assert len(texts) == 5
    assert texts[0].startswith("第0段") and texts[-1].startswith("第4段")


def test_title_just_above_the_content_box_is_kept() -> None:
    html = """<body><div class="list"><h2><a href="#">其他年度报告</a></h2></div>
      <div class="wrap"><h1 class="title">某某区2022年政府信息公开工作年度报告</h1>
      <div class="info">发布日期：2023-01-30</div>
      <div id="zoom"><p>一、总体情况</p>
      <p>2022年，本机关认真贯彻落实《条例》，依法做好政府信息公开工作，全年主动公开信息3585条。</p></div>
      </div></body>"""
    assert _items(_read(html)) == [
        "某某区2022年政府信息公开工作年度报告",
        "一、总体情况",
        "2022年，本机关认真贯彻落实《条例》，依法做好政府信息公开工作，全年主动公开信息3585条。",
    ]


def test_small_content_box_does_not_replace_body() -> None:
    body_text = "".join(
        f"<p>第{i}段：本机关认真贯彻落实政府信息公开条例，依法依规做好公开工作。</p>" for i in range(5)
    )
    doc = _read(f"<body><div class='content'>公告</div><div>{body_text}</div></body>")
    assert _items(doc)[0] == "公告"
    assert len(_items(doc)) == 6


def test_bare_br_lines_become_paragraphs_and_cjk_source_newlines_vanish() -> None:
    html = (
        "<body><div id='zoom'>一、总体情况<br><br>2022年，区政府\n   办公室发布信息<br>"
        "  二、主动公开</div></body>"
    )
    assert _items(_read(html)) == ["一、总体情况", "2022年，区政府办公室发布信息", "二、主动公开"]


def test_through_load_document() -> None:
    doc = load_document(GOV_PAGE.encode("utf-8"), "report.html")
    assert doc.source.media_type == HTML
    assert len(doc.pages[0].tables) == 1
