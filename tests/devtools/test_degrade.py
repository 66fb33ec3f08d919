"""The scan simulator (synthetic.degrade) and the font finder (synthetic.fonts)."""

from __future__ import annotations

import io
import random

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from gongkai.devtools.corpora.synthetic import blank_spec, render_pdf
from gongkai.devtools.corpora.synthetic.degrade import (
    ScanOptions,
    degrade_page,
    multipage_tiff,
    page_images,
    rasterize_pdf,
    scan_pdf,
)
from gongkai.devtools.corpora.synthetic.fonts import FAMILIES, available_families, resolve

DPI = 60  # small pages keep these tests fast


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_pdf(blank_spec("2021", 2023, "某某市某某区人民政府", value="7"))


@pytest.fixture(scope="module")
def page(pdf: bytes) -> Image.Image:
    return rasterize_pdf(pdf, dpi=DPI)[0]


def _red_pixels(img: Image.Image) -> int:
    a = np.asarray(img.convert("RGB"), dtype=np.int16)
    return int(((a[..., 0] - a[..., 1] > 60) & (a[..., 0] - a[..., 2] > 60)).sum())


def test_rasterize_gives_a4_pages_at_the_dpi(pdf: bytes) -> None:
    pages = rasterize_pdf(pdf, dpi=DPI)
    assert len(pages) >= 2
    w, h = pages[0].size
    assert abs(w - 8.27 * DPI) <= 2 and abs(h - 11.69 * DPI) <= 2
    assert pages[0].mode == "RGB"


def test_bad_inputs_are_refused(pdf: bytes) -> None:
    with pytest.raises(ValueError, match="not a PDF"):
        rasterize_pdf(b"<html></html>")
    with pytest.raises(ValueError, match="rotate"):
        ScanOptions(rotate=45)
    with pytest.raises(ValueError, match="jpeg_quality"):
        ScanOptions(jpeg_quality=0)
    with pytest.raises(ValueError, match="ScanOptions for a document"):
        scan_pdf(pdf, [ScanOptions(dpi=DPI)], seed=1)
    with pytest.raises(ValueError, match="level"):
        ScanOptions.random(random.Random(1), "extreme")
    with pytest.raises(ValueError, match="fmt"):
        page_images(pdf, ScanOptions(dpi=DPI), 1, fmt="gif")  # type: ignore[arg-type]


def test_random_options_are_reproducible_and_levels_differ() -> None:
    a = [ScanOptions.random(random.Random(5), "typical") for _ in range(3)]
    assert a[0] == a[1] == a[2]
    heavy = [ScanOptions.random(random.Random(i), "heavy") for i in range(40)]
    clean = [ScanOptions.random(random.Random(i), "clean") for i in range(40)]
    assert min(o.noise for o in heavy) > max(o.noise for o in clean)
    assert all(o.rotate == 0 and not o.seal for o in clean)
    assert any(o.rotate for o in heavy) and any(o.seal for o in heavy)


def test_degrade_is_deterministic_per_seed(page: Image.Image) -> None:
    opts = ScanOptions(
        skew_deg=1.1, blur=0.8, noise=0.04, jpeg_quality=50, grey_paper=True, seal=True, dpi=DPI
    )
    one = degrade_page(page, opts, np.random.default_rng(3))
    two = degrade_page(page, opts, np.random.default_rng(3))
    other = degrade_page(page, opts, np.random.default_rng(4))
    assert np.array_equal(np.asarray(one), np.asarray(two))
    assert not np.array_equal(np.asarray(one), np.asarray(other))
    # a stdlib Random is accepted too (turned into a numpy generator)
    r1 = degrade_page(page, opts, random.Random(9))
    r2 = degrade_page(page, opts, random.Random(9))
    assert np.array_equal(np.asarray(r1), np.asarray(r2))


def test_each_effect_does_what_it_says(page: Image.Image) -> None:
    rng = np.random.default_rng(0)
    assert degrade_page(page, ScanOptions(rotate=90, dpi=DPI), rng).size == (page.height, page.width)
    assert degrade_page(page, ScanOptions(rotate=180, dpi=DPI), rng).size == page.size
    assert _red_pixels(page) == 0
    sealed = degrade_page(page, ScanOptions(seal=True, seal_place="table", dpi=DPI), rng)
    assert _red_pixels(sealed) > 200
    corner = (0, 0, 40, 40)  # blank margin: paper tone shows there
    plain = np.asarray(page.crop(corner), dtype=float).mean()
    grey = np.asarray(
        degrade_page(page, ScanOptions(grey_paper=True, dpi=DPI), rng).crop(corner), dtype=float
    )
    assert grey.mean() < plain - 5
    noisy = np.asarray(degrade_page(page, ScanOptions(noise=0.05, dpi=DPI), rng).crop(corner), dtype=float)
    assert noisy.std() > 5
    blurred = degrade_page(page, ScanOptions(blur=1.5, dpi=DPI), rng)
    # blur softens edges: fewer pure-black pixels
    assert (np.asarray(blurred.convert("L")) < 30).sum() < (np.asarray(page.convert("L")) < 30).sum()
    skewed = degrade_page(page, ScanOptions(skew_deg=2.0, dpi=DPI), rng)
    assert skewed.size == page.size and not np.array_equal(np.asarray(skewed), np.asarray(page))


def test_scan_pdf_is_image_only_and_deterministic(pdf: bytes) -> None:
    n = len(rasterize_pdf(pdf, dpi=DPI))
    opts = [
        ScanOptions(skew_deg=0.5 * i, noise=0.02, jpeg_quality=60, seal=i == n - 1, dpi=DPI) for i in range(n)
    ]
    scanned = scan_pdf(pdf, opts, seed=11)
    assert scanned == scan_pdf(pdf, opts, seed=11)
    assert scanned != scan_pdf(pdf, opts, seed=12)
    with pdfplumber.open(io.BytesIO(scanned)) as doc:
        assert len(doc.pages) == n
        assert all(not p.chars for p in doc.pages)  # no text layer
        assert all(p.images for p in doc.pages)
        assert abs(doc.pages[0].width - 595) < 3  # the page keeps its A4 size in points


def test_page_images_and_multipage_tiff(pdf: bytes) -> None:
    opts = ScanOptions(noise=0.01, jpeg_quality=70, dpi=DPI)
    n = len(rasterize_pdf(pdf, dpi=DPI))
    for fmt, pil_format in (("png", "PNG"), ("jpeg", "JPEG"), ("tiff", "TIFF")):
        images = page_images(pdf, opts, seed=2, fmt=fmt)  # type: ignore[arg-type]
        assert len(images) == n
        assert Image.open(io.BytesIO(images[0])).format == pil_format
    tif = Image.open(io.BytesIO(multipage_tiff(pdf, opts, seed=2)))
    assert tif.n_frames == n
    assert tif.convert("RGB").size == rasterize_pdf(pdf, dpi=DPI)[0].size


def test_fonts_fall_back_to_an_installed_hei() -> None:
    families = available_families()
    assert families and set(families) <= set(FAMILIES)
    for family in FAMILIES:
        font = resolve(family)
        assert font.path.is_file()
        assert font.family == family or font.family == "hei"
    with pytest.raises(ValueError, match="unknown font family"):
        resolve("comic")  # type: ignore[arg-type]
