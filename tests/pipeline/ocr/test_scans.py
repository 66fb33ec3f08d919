"""Scanned reports and page images through OCR, checked against the spec they were rendered from.

Small generated scans only (synthetic.degrade): a skewed page with a red seal over table 三,
table 三 continuing across two scanned pages, a page scanned upside down, a mixed PDF (text page +
scanned page), PNG/JPEG/TIFF uploads, a blank page and a corrupt image.
"""

from __future__ import annotations

import io
import random
from functools import cache

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the OCR extra (gongkai[ocr]) is not installed")
pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.devtools.corpora.synthetic import RenderOptions, blank_spec, render_pdf
from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, page_images, scan_pdf
from gongkai.devtools.corpora.synthetic.generate import table_values
from gongkai.errors import CorruptDocumentError, InputError
from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.ocr import ocr_available
from gongkai.pipeline.ocr.models import ENGINE_IDS, ocr_model_files, package_dir
from gongkai.pipeline.result import ExtractionResult
from gongkai.pipeline.schema import load_format

pytestmark = pytest.mark.skipif(not ocr_available(), reason="the OCR models are not installed")


@cache
def _spec():  # type: ignore[no-untyped-def]
    # Built and rendered on first use, not at import: collection never needs the CJK fonts.
    spec = blank_spec("2021", 2023, "某某市某某区人民政府")
    for cid, v in table_values(random.Random(11), load_format("2021")).items():
        spec = spec.with_cell(cid, str(v))
    return spec


@cache
def _pdf() -> bytes:
    return render_pdf(_spec(), RenderOptions(page_header=_spec().title))


def _cell_accuracy(result: ExtractionResult, prefix: str) -> tuple[int, list[str]]:
    wrong = []
    n = 0
    for cid, text in _spec().cells.items():
        if not cid.startswith(prefix) or cid not in result.cells:
            continue
        n += 1
        cell = result.cells[cid]
        printed = cell.value if cell.value is not None else None
        if str(printed) != text:
            wrong.append(f"{cid}: {text} read {cell.raw!r} (conf {cell.confidence})")
    return n, wrong


@pytest.fixture(scope="module")
def scanned() -> ExtractionResult:
    opts = [
        ScanOptions(skew_deg=1.5, seal=True, seal_place="table", noise=0.02),  # seal over table 三
        ScanOptions(blur=0.6, jpeg_quality=70),
        ScanOptions(rotate=180),
    ]
    return extract_bytes(scan_pdf(_pdf(), opts, seed=3), "scan.pdf")


def test_models_come_from_the_wheels_not_a_download() -> None:
    for engine in ENGINE_IDS:
        files = ocr_model_files(engine)
        base = package_dir(files.package)
        assert base is not None and "site-packages" in str(base)
        assert files.det.is_file() and files.rec.is_file()
        assert files.det.stat().st_size > 1_000_000 and files.rec.stat().st_size > 1_000_000


def test_scanned_report_cells_match_the_spec(scanned: ExtractionResult) -> None:
    assert [p.text_source for p in scanned.pages] == ["ocr", "ocr", "ocr"]
    assert all(p.ocr_dpi == 200 for p in scanned.pages)
    # Table 三 starts under the seal on the skewed page 1 and continues on page 2.
    n, wrong = _cell_accuracy(scanned, "requests.")
    misread = [w for w in wrong if not scanned.cells[w.split(":")[0]].missing]
    assert n == 175 and len(misread) <= 2, misread
    assert len(wrong) == len(misread)  # nothing missing: the halves of table 三 are joined
    pages = {c.page for cid, c in scanned.cells.items() if cid.startswith("requests.") and c.page}
    assert pages == {1, 2}
    # Table 四 is on the page that was scanned upside down.
    n, wrong = _cell_accuracy(scanned, "appeals.")
    assert n == 15 and len(wrong) <= 1, wrong
    assert any("turned by 180" in w for w in scanned.warnings)


def test_table_three_joined_across_the_scanned_break(scanned: ExtractionResult) -> None:
    assert not [cid for cid, c in scanned.cells.items() if cid.startswith("requests.") and c.missing]
    continued = [cid for cid, c in scanned.cells.items() if cid.startswith("requests.") and c.page == 2]
    assert "requests.carried_out.total" in continued


def test_scanned_cells_have_bboxes_and_meaningful_confidence(scanned: ExtractionResult) -> None:
    cell = scanned.cells["requests.new.total"]
    assert cell.source == "ocr" and cell.bbox is not None
    x0, y0, x1, y1 = cell.bbox
    assert 0 < x0 < x1 <= 595.5 and 0 < y0 < y1 <= 842.5
    wrong_but_confident = []
    for cid, text in _spec().cells.items():
        c = scanned.cells.get(cid)
        if c is None or c.missing or str(c.value) == text:
            continue
        in_failing = any(cid in chk.cells for chk in scanned.failing_checks())
        if not in_failing and c.confidence >= 0.8:
            wrong_but_confident.append(cid)
    assert wrong_but_confident == []  # no silent errors


def test_narrative_text_of_scanned_pages(scanned: ExtractionResult) -> None:
    assert scanned.metadata.year == 2023
    keys = [s.key for s in scanned.sections]
    assert "overview" in keys and "requests" in keys


def test_mixed_pdf_keeps_the_text_page_and_reads_the_scanned_one() -> None:
    import pypdfium2 as pdfium

    scanned = pdfium.PdfDocument(scan_pdf(_pdf(), ScanOptions(skew_deg=-0.8), seed=5))
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(_pdf()), [0])
    mixed.import_pages(scanned, [1, 2])
    buf = io.BytesIO()
    mixed.save(buf)
    result = extract_bytes(buf.getvalue(), "mixed.pdf")
    assert [p.text_source for p in result.pages] == ["text_layer", "ocr", "ocr"]
    # Each cell comes from the reader of its own page, wherever the renderer broke the pages.
    sources = {(c.page, c.source) for c in result.cells.values() if c.page is not None}
    assert {src for page, src in sources if page == 1} <= {"text_layer"}
    assert {src for page, src in sources if page in (2, 3)} == {"ocr"}
    n, wrong = _cell_accuracy(result, "appeals.")
    assert n == 15 and len(wrong) <= 1, wrong


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_image_upload(fmt: str) -> None:
    (page2,) = page_images(_pdf(), ScanOptions(skew_deg=0.7), seed=2, fmt=fmt)[1:2]
    from gongkai.pipeline.ingest import load_document

    doc = load_document(page2, f"page.{fmt}")
    assert doc.source.media_type == f"image/{fmt}"
    (page,) = doc.pages
    assert page.text_source == "ocr" and page.tables
    numbers = [c.text for c in page.tables[-1].cells if c.candidates]
    expected = [
        _spec().cells[f"appeals.{g}.{f}"]
        for g in ("review", "suit_direct", "suit_after_review")
        for f in ("upheld", "corrected", "other", "pending", "total")
    ]
    assert numbers == expected


def test_multipage_tiff_with_a_blank_page() -> None:
    from PIL import Image

    from gongkai.pipeline.ingest import load_document

    (page2,) = page_images(_pdf(), ScanOptions(), seed=2, fmt="png")[1:2]
    blank = Image.new("RGB", (827, 1170), (250, 250, 248))
    buf = io.BytesIO()
    Image.open(io.BytesIO(page2)).save(
        buf, format="TIFF", save_all=True, append_images=[blank], dpi=(200, 200)
    )
    doc = load_document(buf.getvalue(), "scan.tiff")
    assert len(doc.pages) == 2
    assert doc.pages[0].tables and not list(doc.pages[1].blocks)
    assert "page 2 is blank" in doc.warnings


def test_blank_scan_is_a_clear_error() -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((1170, 827, 3), 245, np.uint8)).save(buf, format="PNG")
    with pytest.raises(InputError, match="no readable text"):
        extract_bytes(buf.getvalue(), "blank.png")


def test_corrupt_image_is_a_clear_error() -> None:
    with pytest.raises(CorruptDocumentError, match="PNG image cannot be decoded"):
        extract_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "broken.png")
