"""Tests for the synthetic renderer (devtools.corpora.synthetic) and the real-report truth (corpora.real)."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import docx
import pdfplumber
import pytest

from gongkai.devtools.corpora.real.haizhou import haizhou_spec, haizhou_spec_and_options
from gongkai.devtools.corpora.synthetic import (
    RenderOptions,
    ReportSpec,
    blank_spec,
    render_docx,
    render_html,
    render_pdf,
)
from gongkai.devtools.corpora.synthetic.layout import appeals_grid, cut_grid, printed_cell_ids, requests_grid
from gongkai.pipeline.schema import load_format

REPO = Path(__file__).resolve().parents[2]
TRUTH_DIR = REPO / "corpora" / "real" / "truth"
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def shared_dir() -> Path | None:
    """../shared beside the repository, or $GONGKAI_SHARED_DIR; None when absent."""
    env = os.environ.get("GONGKAI_SHARED_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    return path if path.is_dir() else None


def shared_file(*parts: str) -> Path:
    base = shared_dir()
    if base is None:
        pytest.skip("../shared (or $GONGKAI_SHARED_DIR) is absent: real reports are not available")
    path = base.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="module")
def haizhou() -> tuple[ReportSpec, RenderOptions]:
    return haizhou_spec_and_options(shared_file("corpus", "real", "haizhou-2022.txt"))


@pytest.fixture(scope="module")
def haizhou_pdf(haizhou: tuple[ReportSpec, RenderOptions]) -> bytes:
    return render_pdf(*haizhou)


def _spec() -> ReportSpec:
    return blank_spec("2021", 2022, "某某县人民政府")


def _page_of(pdf_bytes: bytes, text: str) -> list[int]:
    """1-based pages whose extracted words include `text` exactly."""
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [p.page_number for p in pdf.pages if any(w["text"] == text for w in p.extract_words())]


def _tables(pdf_bytes: bytes) -> list[tuple[int, int, int]]:
    """(page, rows, columns) of every ruled table pdfplumber finds."""
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [(p.page_number, len(t.rows), len(t.extract()[0])) for p in pdf.pages for t in p.find_tables()]


# ------------------------------------------------------------------ layout


def test_layout_matches_the_printed_template() -> None:
    spec = _spec()
    opts = RenderOptions()
    grid = requests_grid(spec, opts)
    assert (grid.n_rows, grid.n_cols) == (28, 10)
    corner = grid.at(0, 0)
    assert corner is not None and (corner.rowspan, corner.colspan) == (3, 3)
    vertical = next(c for c in grid.cells if c.kind == "vertical")
    assert vertical.rowspan == 22
    assert (requests_grid(blank_spec("2019", 2020, "某县"), opts).n_rows) == 26
    assert (requests_grid(spec, RenderOptions(other_single_row=True)).n_rows) == 26
    app = appeals_grid(spec, opts)
    assert (app.n_rows, app.n_cols) == (4, 15)
    assert [c.colspan for c in app.cells if c.row == 0] == [5, 10]
    assert sorted(printed_cell_ids(spec, opts)) == sorted(load_format("2021").cells)


def test_cut_grid_keeps_text_above_and_leaves_empty_spans_below() -> None:
    grid = requests_grid(_spec(), RenderOptions())
    top, bottom = cut_grid(grid, 3 + 5)
    assert top.n_rows + bottom.n_rows == grid.n_rows
    assert bottom.header_rows == 0  # no repeated header in the continuation
    cut_vertical = next(c for c in top.cells if c.kind == "vertical")
    assert cut_vertical.text and cut_vertical.row + cut_vertical.rowspan == top.n_rows
    empties = [c for c in bottom.cells if c.kind == "empty"]
    assert {(c.col, c.row) for c in empties} == {(0, 0), (1, 0)}  # 三、… and （三）不予公开 continue
    assert all(c.text == "" for c in empties)


def test_with_cell_returns_a_modified_copy() -> None:
    spec = _spec()
    changed = spec.with_cell("requests.new.total", "7")
    assert changed.cells["requests.new.total"] == "7"
    assert spec.cells["requests.new.total"] == "0"
    with pytest.raises(KeyError):
        spec.with_cell("requests.nope.total", "1")


# ------------------------------------------------------------------ determinism


def test_pdf_is_deterministic() -> None:
    spec = _spec()
    assert render_pdf(spec) == render_pdf(spec)


def test_docx_is_deterministic() -> None:
    spec = _spec()
    a, b = render_docx(spec), render_docx(spec)
    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        assert za.read("word/document.xml") == zb.read("word/document.xml")
    assert a == b


def test_html_is_deterministic_and_looks_like_a_government_page() -> None:
    spec = _spec()
    html = render_html(spec).decode("utf-8")
    assert render_html(spec) == render_html(spec)
    for marker in ("<title>", "TRS_Editor", "首页", "政务公开", "年度报告", "ICP备", "网站标识码", "<script"):
        assert marker in html
    assert 'rowspan="22"' in html and 'colspan="7"' in html and 'colspan="10"' in html
    assert html.count("<table") == 4 + 1 + 1


# ------------------------------------------------------------------ PDF content


def test_pdf_tables_are_ruled_with_template_shapes() -> None:
    # Table 三 may be split over pages: its parts add up to the template's rows. A part without body
    # rows under the label columns shows them as one column (8 instead of 10); table 二 has <= 4.
    def requests_rows(tables: list[tuple[int, int, int]]) -> int:
        return sum(r for _, r, c in tables if 8 <= c <= 10)

    tables = _tables(render_pdf(_spec()))
    assert requests_rows(tables) == 28
    assert any(c == 10 for _, _, c in tables)
    assert [(r, c) for _, r, c in tables if c == 15] == [(4, 15)]
    assert requests_rows(_tables(render_pdf(blank_spec("2019", 2020, "某县")))) == 26


def test_haizhou_pdf_prints_every_cell_inside_ruled_tables(
    haizhou: tuple[ReportSpec, RenderOptions], haizhou_pdf: bytes
) -> None:
    spec, _ = haizhou
    found: Counter[str] = Counter()
    with pdfplumber.open(io.BytesIO(haizhou_pdf)) as pdf:
        n_lines = sum(len(p.lines) for p in pdf.pages)
        for page in pdf.pages:
            for table in page.find_tables():
                words = page.within_bbox(table.bbox).extract_words()
                found.update(w["text"] for w in words if NUMBER.match(w["text"]))
    assert n_lines > 100  # grids are drawn as ruling lines a parser can see
    assert found == Counter(v for v in spec.cells.values() if v)
    assert _page_of(haizhou_pdf, "社会") and not _page_of(haizhou_pdf, "社会公益组织")


def test_requests_break_after_row_puts_table_three_on_two_pages() -> None:
    spec = _spec()
    # distinctive labels: body row 5 is 1.属于国家秘密, row 6 is 2.其他法律行政法规禁止公开
    before, after = "1.属于国家秘密", "2.其他法律行政法规禁止公开"
    plain = render_pdf(spec)
    assert _page_of(plain, before) == _page_of(plain, after)
    broken = render_pdf(spec, RenderOptions(requests_break_after_row=5))
    (p_before,), (p_after,) = _page_of(broken, before), _page_of(broken, after)
    assert p_after == p_before + 1
    pages = sorted(p for p, rows, cols in _tables(broken) if cols == 10)
    assert p_before in pages and p_after in pages
    assert p_after not in _page_of(broken, "申请人情况")  # no repeated header on the continuation


def test_appeals_header_data_split() -> None:
    spec = _spec()
    groups, fields = load_format("2021").appeals_groups, load_format("2021").appeals_fields
    ids = [f"appeals.{g.id}.{f.id}" for g in groups for f in fields]
    for i, cid in enumerate(ids):
        spec = spec.with_cell(cid, str(101 + i))
    plain = render_pdf(spec)
    header_word = "未经复议直接起诉"  # one word in the header (结果维持 wraps inside its narrow cell)
    assert {p for n in range(101, 116) for p in _page_of(plain, str(n))} == set(_page_of(plain, header_word))
    split = render_pdf(spec, RenderOptions(appeals_header_data_split=True))
    header_pages = _page_of(split, header_word)
    data_pages = {p for n in range(101, 116) for p in _page_of(split, str(n))}
    assert len(data_pages) == 1 and min(data_pages) > max(header_pages)


def test_page_header_and_numbers_on_every_page() -> None:
    opts = RenderOptions(
        page_header="某某县人民政府2022年政府信息公开工作年度报告", requests_break_after_row=3
    )
    with pdfplumber.open(io.BytesIO(render_pdf(_spec(), opts))) as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            text = page.extract_text()
            assert opts.page_header is not None and opts.page_header in text
            assert f"- {page.page_number} -" in text


# ------------------------------------------------------------------ DOCX / HTML structure


def test_docx_tables_and_variants(haizhou: tuple[ReportSpec, RenderOptions]) -> None:
    spec, opts = haizhou
    document = docx.Document(io.BytesIO(render_docx(spec, opts)))
    tables = document.tables
    assert len(tables) == 6
    requests, appeals = tables[4], tables[5]
    assert (len(requests.rows), len(requests.columns)) == (28, 10)
    assert (len(appeals.rows), len(appeals.columns)) == (4, 15)
    assert requests.cell(10, 0).text == requests.cell(5, 0).text  # merged 三、本年度办理结果
    assert requests.cell(2, 6).text == "社会组织"
    assert requests.cell(3, 3).text == spec.cells["requests.new.natural_person"]
    split = docx.Document(
        io.BytesIO(render_docx(spec, dataclasses.replace(opts, requests_break_after_row=5)))
    )
    assert [len(t.rows) for t in split.tables[4:6]] == [8, 20]


def test_html_uses_label_variants(haizhou: tuple[ReportSpec, RenderOptions]) -> None:
    spec, opts = haizhou
    html = render_html(spec, opts).decode("utf-8")
    assert "社会组织" in html and "社会公益组织" not in html
    assert "2.其他法律法规禁止公开" in html and "2.其他法律行政法规禁止公开" not in html
    assert "社会公益组织" in render_html(spec).decode("utf-8")


# ------------------------------------------------------------------ real reports and truth


def test_haizhou_parse(haizhou: tuple[ReportSpec, RenderOptions]) -> None:
    spec, opts = haizhou
    assert (spec.format, spec.year, spec.agency) == ("2021", 2022, "海州区人民政府办公室")
    assert [s.key for s in spec.sections] == [s.key for s in load_format("2021").sections]
    assert set(spec.cells) == set(load_format("2021").cells)
    assert opts.label_variants == {
        "社会公益组织": "社会组织",
        "2.其他法律行政法规禁止公开": "2.其他法律法规禁止公开",
    }
    # a paragraph cut by a page break in the text is joined again
    overview = spec.section("overview")
    assert overview is not None and any("法定主动公开内容" in p for p in overview.paragraphs)


def _truth(name: str) -> dict:
    return json.loads((TRUTH_DIR / f"{name}.json").read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.mark.parametrize("name", ["haizhou-2022", "huaian-hongze-2023"])
def test_truth_has_every_cell_id(name: str) -> None:
    truth = _truth(name)
    assert set(truth["cells"]) == set(load_format("2021").cells)
    assert truth["format"] == "2021" and isinstance(truth["year"], int)
    assert set(truth["blank"]) <= set(truth["cells"])
    for value in truth["cells"].values():
        assert value is None or (isinstance(value, int | Decimal) and value >= 0)


def test_haizhou_truth_equals_parsed_cells() -> None:
    spec = haizhou_spec(shared_file("corpus", "real", "haizhou-2022.txt"))
    truth = _truth("haizhou-2022")
    parsed = {cid: (Decimal(v) if "." in v else int(v)) if v else None for cid, v in spec.cells.items()}
    assert parsed == truth["cells"]
    assert shared_file("corpus", "real", truth["document"]).is_file()


def test_hongze_truth_fails_exactly_the_expected_checks() -> None:
    truth = _truth("huaian-hongze-2023")
    assert truth["cells"]["active.fees.amount"] == Decimal("7730.28")
    values = {**truth["cells"], **truth["extra_cells"]}
    failing = []
    for identity in load_format("2021").identities:
        lhs = sum(values[c] or 0 for c in identity.lhs)
        rhs = sum(values[c] or 0 for c in identity.rhs)
        if identity.family == "results_total":  # the printed one-row （六）其他处理
            rhs += values[f"requests.other.total.{identity.id.split(':')[1]}"]
        if lhs != rhs:
            failing.append(identity.id)
    assert failing == truth["expected_failing_checks"]
