"""Page images for review: PDF pages rendered by PDFium, scanned images converted to PNG."""

from __future__ import annotations

from io import BytesIO

from gongkai.pipeline.ingest import PDF
from gongkai.server.api.errors import ApiError
from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings

_MAX_RENDER_PIXELS = 40_000_000


def page_png(store: LocalFileStore, sha256: str, media_type: str, n: int, settings: Settings) -> bytes:
    name = f"page-{n}-{settings.page_render_dpi}.png"
    cached = store.derived_path(sha256, name)
    if cached.is_file():
        return cached.read_bytes()
    if media_type == PDF:
        png = _render_pdf_page(store.get(sha256), n, settings.page_render_dpi)
    elif media_type.startswith("image/"):
        png = _image_page(store.get(sha256), n)
    else:
        raise ApiError(
            404,
            "no_page_images",
            f"{media_type} documents have no pages to render; the review shows their text and tables",
        )
    store.put_derived(sha256, name, png)
    return png


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

    with Image.open(BytesIO(data)) as img:
        frames = int(getattr(img, "n_frames", 1))
        if not 1 <= n <= frames:
            raise ApiError(404, "no_such_page", f"the image has {frames} pages; there is no page {n}")
        img.seek(n - 1)
        buf = BytesIO()
        img.convert("RGB").save(buf, format="PNG")
        return buf.getvalue()
