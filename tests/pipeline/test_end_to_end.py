"""The 海州区 2022 report, rendered as born-digital PDF, HTML and DOCX, read back end to end."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gongkai.devtools.corpora.real.haizhou import haizhou_spec_and_options
from gongkai.devtools.corpora.synthetic import render_docx, render_html, render_pdf
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec, blank_spec
from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.result import ExtractionResult
from gongkai.pipeline.schema import load_format
from tests.conftest import real_document
from tests.truth import cell_mismatches, load_truth

Renderer = Callable[[ReportSpec, RenderOptions | None], bytes]
RENDERERS: dict[str, tuple[Renderer, str]] = {
    "pdf": (render_pdf, "haizhou.pdf"),
    "html": (render_html, "haizhou.html"),
    "docx": (render_docx, "haizhou.docx"),
}


@pytest.fixture(scope="module")
def haizhou() -> tuple[ReportSpec, RenderOptions]:
    return haizhou_spec_and_options(real_document("haizhou-2022.txt"))


def _extract(kind: str, spec: ReportSpec, options: RenderOptions) -> ExtractionResult:
    render, name = RENDERERS[kind]
    return extract_bytes(render(spec, options), name)


def _truth_cells() -> dict[str, object]:
    cells: dict[str, object] = load_truth("haizhou-2022.json")["cells"]
    return cells


@pytest.mark.parametrize("kind", ["pdf", "html", "docx"])
def test_all_200_cells_right_and_all_identities_pass(
    kind: str, haizhou: tuple[ReportSpec, RenderOptions]
) -> None:
    spec, options = haizhou
    result = _extract(kind, spec, options)
    assert result.format == "2021" and result.metadata.year == 2022
    assert cell_mismatches(result, _truth_cells()) == {}
    identities = [c for c in result.checks if c.kind == "identity"]
    assert len(identities) == 42
    assert [c.id for c in identities if c.status != "pass"] == []
    assert [s.key for s in result.sections if s.key != "preamble"] == [
        s.key for s in load_format("2021").sections
    ]
    expected_source = {"pdf": "text_layer", "html": "html", "docx": "docx"}[kind]
    assert result.cells["requests.new.natural_person"].source == expected_source


def _identities_of(cell_id: str) -> set[str]:
    return {i.id for i in load_format("2021").identities if cell_id in i.lhs + i.rhs}


@pytest.mark.parametrize(
    ("kind", "cell_id", "text"),
    [
        ("pdf", "requests.granted.natural_person", "1"),
        ("html", "requests.carried_out.total", "2"),
        ("docx", "appeals.suit_direct.upheld", "4"),
        ("pdf", "requests.new.total", "4"),
    ],
)
def test_one_changed_cell_fails_exactly_its_identities(
    kind: str, cell_id: str, text: str, haizhou: tuple[ReportSpec, RenderOptions]
) -> None:
    spec, options = haizhou
    result = _extract(kind, spec.with_cell(cell_id, text), options)
    assert result.cells[cell_id].value == int(text)
    failing = {c.id for c in result.checks if c.status == "fail"}
    assert failing == _identities_of(cell_id)
    assert failing  # every statutory cell of 三 and 四 takes part in some identity
    assert result.cells[cell_id].confidence <= 0.5


def test_label_variants_map_to_the_same_cells(haizhou: tuple[ReportSpec, RenderOptions]) -> None:
    spec, _ = haizhou
    variants = RenderOptions(
        label_variants={"社会公益组织": "社会组织", "2.其他法律行政法规禁止公开": "2.其他法律法规禁止公开"}
    )
    official = RenderOptions()
    for options in (variants, official):
        result = _extract("pdf", spec, options)
        assert cell_mismatches(result, _truth_cells()) == {}


def _numbered_spec() -> ReportSpec:
    """A consistent report whose 三 cells differ row by row, so a mis-joined row would show."""
    spec = blank_spec("2021", 2023, "某某县人民政府", value="0")
    fmt = load_format("2021")
    leaves = [r.id for r in fmt.result_rows]
    for k, row in enumerate(leaves, start=1):
        spec = spec.with_cell(f"requests.{row}.natural_person", str(k)).with_cell(
            f"requests.{row}.total", str(k)
        )
    total = sum(range(1, len(leaves) + 1))
    spec = spec.with_cell("requests.results_total.natural_person", str(total))
    spec = spec.with_cell("requests.results_total.total", str(total))
    spec = spec.with_cell("requests.new.natural_person", str(total)).with_cell(
        "requests.new.total", str(total)
    )
    for k, field in enumerate(("upheld", "corrected", "other", "pending"), start=1):
        spec = spec.with_cell(f"appeals.review.{field}", str(k))
    return spec.with_cell("appeals.review.total", "10")


@pytest.mark.parametrize("break_after", [3, 9, 14, 20])
def test_table_three_split_across_two_pages(break_after: int) -> None:
    spec = _numbered_spec()
    result = _extract("pdf", spec, RenderOptions(requests_break_after_row=break_after))
    pages = {result.cells[f"requests.{r.id}.total"].page for r in load_format("2021").requests_rows}
    assert len(pages) >= 2  # the forced break, and maybe a natural one after it
    expected = {cid: int(text) for cid, text in spec.cells.items()}
    assert cell_mismatches(result, expected) == {}
    assert [c.id for c in result.checks if c.status != "pass"] == []


def test_table_four_header_and_data_on_different_pages() -> None:
    spec = _numbered_spec()
    result = _extract("pdf", spec, RenderOptions(appeals_header_data_split=True))
    assert result.cells["appeals.review.upheld"].value == 1
    assert result.cells["appeals.review.pending"].value == 4
    assert result.cells["appeals.review.total"].value == 10
    assert result.cells["appeals.suit_after_review.total"].value == 0
    assert all(c.status == "pass" for c in result.checks if c.id.startswith("appeals_total:"))


def test_page_furniture_is_not_narrative(haizhou: tuple[ReportSpec, RenderOptions]) -> None:
    spec, options = haizhou
    header = "海州区人民政府办公室2022年政府信息公开工作年度报告"
    result = _extract("pdf", spec, RenderOptions(label_variants=options.label_variants, page_header=header))
    texts = [p.text for s in result.sections for p in s.paragraphs]
    assert not any(header in t for t in texts)
    assert not any(t.strip().startswith("- ") and t.strip().endswith(" -") for t in texts)


@pytest.mark.parametrize("kind", ["pdf", "html", "docx"])
def test_a_2019_format_report(kind: str) -> None:
    spec = blank_spec("2019", 2020, "某某市某某局", value="0")
    spec = spec.with_cell("active2019.normative_docs.made", "3").with_cell(
        "active2019.normative_docs.total", "41"
    )
    spec = spec.with_cell("active2019.licensing.delta", "-2").with_cell(
        "active2019.procurement.amount", "12.5"
    )
    for col in ("natural_person", "total"):
        spec = spec.with_cell(f"requests.new.{col}", "6").with_cell(f"requests.other.total.{col}", "2")
        spec = spec.with_cell(f"requests.granted.{col}", "4").with_cell(f"requests.results_total.{col}", "6")
    result = _extract(kind, spec, RenderOptions())
    assert result.format == "2019" and result.metadata.year == 2020
    assert len([c for c in result.cells.values() if c.statutory]) == len(load_format("2019").cells)
    expected = {cid: text for cid, text in spec.cells.items()}
    assert cell_mismatches(result, expected) == {}
    assert [c.id for c in result.checks if c.status != "pass"] == []


def test_a_blank_total_stays_blank_and_its_inference_is_reported_beside_it() -> None:
    spec = _numbered_spec().with_cell("requests.granted.total", "")
    result = _extract("html", spec, RenderOptions())
    cell = result.cells["requests.granted.total"]
    assert (cell.value, cell.blank, cell.inferred, cell.inferred_value) == (None, True, True, 1)
    # The identities use the inferred total, so the report still reconciles.
    assert [c.id for c in result.checks if c.status == "fail"] == []
    # A blank detail cell is not a total: nothing is inferred for it.
    spec = _numbered_spec().with_cell("requests.granted.natural_person", "")
    detail = _extract("html", spec, RenderOptions()).cells["requests.granted.natural_person"]
    assert (detail.value, detail.blank, detail.inferred) == (None, True, False)
