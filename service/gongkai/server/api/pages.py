"""Page images for review: PDF pages rendered by PDFium, scanned images converted to PNG.

Rendering is bounded three ways, because a page image can cost hundreds of MiB while it is drawn:

- single flight: one render per (document, page, resolution) at a time; concurrent requests for the
  same page wait for it and then read the cached file instead of rendering again;
- one render at a time in the process (PDFium's lock for PDFs, ``_IMAGE_LOCK`` for images);
- a pixel cap on the output, and the result cached under ``<data>/derived/``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import BytesIO

from gongkai.pipeline.ingest import PDF
from gongkai.server.api.errors import ApiError
from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

_MAX_RENDER_PIXELS = 40_000_000
# Uploaded images are shown at most this large (longest side): about A4 at 170 dpi, twice what a
# PDF page renders to at the default 110 dpi, and a few MP at most (2000 x 1414 = 2.8 MP for A4).
MAX_IMAGE_SIDE = 2000

_IMAGE_LOCK = threading.Lock()
_flights_guard = threading.Lock()
_flights: dict[tuple[str, str], tuple[threading.Lock, int]] = {}


def page_png(store: LocalFileStore, sha256: str, media_type: str, n: int, settings: Settings) -> bytes:
    if media_type == PDF:
        name = f"page-{n}-{settings.page_render_dpi}.png"
        dpi = settings.page_render_dpi

        def render() -> bytes:
            return _render_pdf_page(store.get(sha256), n, dpi)

    elif media_type.startswith("image/"):
        # The cap is in the name: a cached image from before the cap is never served.
        name = f"page-{n}-max{MAX_IMAGE_SIDE}.png"

        def render() -> bytes:
            return _image_page(store.get(sha256), n)

    else:
        raise ApiError(
            404,
            "no_page_images",
            f"{media_type} documents have no pages to render; the review shows their text and tables",
        )
    cached = store.derived_path(sha256, name)
    if cached.is_file():
        return cached.read_bytes()
    return _single_flight((sha256, name), lambda: _render_and_cache(store, sha256, name, render))


def _render_and_cache(store: LocalFileStore, sha256: str, name: str, render: Callable[[], bytes]) -> bytes:
    cached = store.derived_path(sha256, name)
    if cached.is_file():  # another request rendered it while this one waited
        return cached.read_bytes()
    png = render()
    store.put_derived(sha256, name, png)
    return png


def _single_flight(key: tuple[str, str], fn: Callable[[], bytes]) -> bytes:
    """Run ``fn`` under a lock of its own for ``key``; the lock is dropped when nobody holds or waits."""
    with _flights_guard:
        lock, users = _flights.get(key, (threading.Lock(), 0))
        _flights[key] = (lock, users + 1)
    try:
        with lock:
            return fn()
    finally:
        with _flights_guard:
            lock, users = _flights[key]
            if users <= 1:
                del _flights[key]
            else:
                _flights[key] = (lock, users - 1)


def _render_pdf_page(data: bytes, n: int, dpi: int) -> bytes:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data)
        try:
            if not 1 <= n <= len(pdf):
                raise ApiError(
                    404, "no_such_page", f"the document has {len(pdf)} pages; there is no page {n}"
                )
            page = pdf[n - 1]
            w, h = page.get_size()
            scale = dpi / 72
            if w * h * scale * scale > _MAX_RENDER_PIXELS:  # keep huge pages from eating memory
                scale = (_MAX_RENDER_PIXELS / (w * h)) ** 0.5
            image = page.render(scale=scale).to_pil()
        finally:
            pdf.close()
    buf = BytesIO()
    image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _image_page(data: bytes, n: int) -> bytes:
    from PIL import Image

    with _IMAGE_LOCK, Image.open(BytesIO(data)) as img:
        frames = int(getattr(img, "n_frames", 1))
        if not 1 <= n <= frames:
            raise ApiError(404, "no_such_page", f"the image has {frames} pages; there is no page {n}")
        img.seek(n - 1)
        # draft() lets JPEG decode at a reduced size; thumbnail() keeps the aspect ratio and only shrinks.
        img.draft("RGB", (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
        # Shrink before converting where the mode allows it, so no full-size RGB copy is made.
        page = img if img.mode in ("RGB", "RGBA", "L", "LA") else img.convert("RGB")
        page.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        page = page.convert("RGB")
        buf = BytesIO()
        page.save(buf, format="PNG")
        return buf.getvalue()
