"""The official born-digital PDF of 淮安市洪泽区 2023 against its hand-checked truth."""

from __future__ import annotations

import pytest

from gongkai.pipeline.extract import extract_path
from gongkai.pipeline.result import ExtractionResult
from gongkai.pipeline.schema import load_format
from tests.conftest import real_document
from tests.truth import cell_mismatches, load_truth


@pytest.fixture(scope="module")
def hongze() -> ExtractionResult:
    return extract_path(real_document("huaian-hongze-2023.pdf"))


def test_all_statutory_cells_match_the_truth(hongze: ExtractionResult) -> None:
    truth = load_truth("huaian-hongze-2023.json")
    assert set(truth["cells"]) == set(load_format("2021").cells)
    assert cell_mismatches(hongze, truth["cells"]) == {}
    assert cell_mismatches(hongze, truth.get("extra_cells", {})) == {}


def test_format_metadata_and_provenance(hongze: ExtractionResult) -> None:
    assert hongze.format == "2021"
    assert hongze.metadata.year == 2023
    assert hongze.metadata.title and "洪泽区" in hongze.metadata.title
    cell = hongze.cells["requests.new.natural_person"]
    assert cell.page == 3 and cell.source == "text_layer" and cell.bbox is not None
    x0, y0, x1, y1 = cell.bbox
    assert 0 <= x0 < x1 <= 595 and 0 <= y0 < y1 <= 842
    # Table 三 breaks across pages 3 and 4: its last rows come from page 4.
    assert hongze.cells["requests.carried_out.total"].page == 4
    assert hongze.cells["active.fees.amount"].value is not None
    assert str(hongze.cells["active.fees.amount"].value) == "7730.28"


def test_the_reports_own_errors_are_flagged_not_hidden(hongze: ExtractionResult) -> None:
    truth = load_truth("huaian-hongze-2023.json")
    failing = sorted(c.id for c in hongze.checks if c.status == "fail")
    assert failing == sorted(truth["expected_failing_checks"])
    review = next(c for c in hongze.checks if c.id == "appeals_total:review")
    assert (review.expected, review.actual) == (11, 0)
    # The cells in a failing identity lose confidence; the rest keep it.
    assert hongze.cells["appeals.review.total"].confidence < 0.6
    assert hongze.cells["requests.new.total"].confidence > 0.9


def test_single_other_row_is_reported_as_such(hongze: ExtractionResult) -> None:
    # This 2021 report prints （六）其他处理 as one row: its three items are absent, not zero.
    assert hongze.cells["requests.other.no_fee.total"].missing
    assert hongze.cells["requests.other.no_fee.total"].value is None
    assert hongze.cells["requests.other.total.total"].statutory is False
    assert any("其他处理" in w for w in hongze.warnings)
    balance = [c for c in hongze.checks if c.id.startswith("balance:")]
    assert balance and all(c.status == "pass" for c in balance)
    results_total = [c for c in hongze.checks if c.id.startswith("results_total:")]
    assert results_total and all(c.status == "pass" for c in results_total)


def test_sections_and_page_furniture(hongze: ExtractionResult) -> None:
    keys = [s.key for s in hongze.sections]
    assert keys == [
        "preamble",
        "overview",
        "active",
        "requests",
        "appeals",
        "problems_improvements",
        "other_matters",
    ]
    texts = [p.text for s in hongze.sections for p in s.paragraphs]
    assert not any(t.strip() in {"- 1 -", "- 2 -", "- 3 -"} for t in texts)
    # A paragraph that continues across the page break is one paragraph.
    assert any("严格执行“分级审核、先审后发”程序" in t for t in texts)


def test_the_real_report_scanned_reads_the_same_and_keeps_its_own_errors() -> None:
    """The real layout (not our renderer's) through the scanner and OCR: every cell as printed, and
    the report's own two arithmetic errors still fail; repair must not 'fix' them."""
    from gongkai.pipeline.ocr import ocr_available

    if not ocr_available():
        pytest.skip("the OCR extra (gongkai[ocr]) is not installed")
    import pypdfium2 as pdfium

    from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, scan_pdf
    from gongkai.pipeline.extract import extract_bytes

    pdf = real_document("huaian-hongze-2023.pdf").read_bytes()
    n = len(pdfium.PdfDocument(pdf))
    opts = [
        ScanOptions(skew_deg=(-1) ** k * 0.8, blur=0.5, noise=0.02, jpeg_quality=75, seal=k == n - 1)
        for k in range(n)
    ]
    scanned = extract_bytes(scan_pdf(pdf, opts, seed=2), "hongze-scan.pdf")
    assert {p.text_source for p in scanned.pages} == {"ocr"}
    truth = load_truth("huaian-hongze-2023.json")
    assert cell_mismatches(scanned, truth["cells"]) == {}
    assert sorted(c.id for c in scanned.failing_checks()) == sorted(truth["expected_failing_checks"])
    assert not [c for c in scanned.cells.values() if c.repaired_by]
