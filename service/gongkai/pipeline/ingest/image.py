"""Image backend: PNG, JPEG and TIFF (multi-page TIFF too) → a ``Document`` read by OCR.

The recorded resolution (TIFF/PNG/JPEG dpi) is used when present; otherwise the page is taken to be
A4. Coordinates come out in PDF points (pixels × 72 / dpi) like every other backend.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np

from gongkai.errors import CorruptDocumentError, EmptyDocumentError, NeedsOcrError, UnsupportedTypeError
from gongkai.pipeline.datamodel import Document, SourceInfo
from gongkai.settings import PipelineOptions


class CorruptImageError(CorruptDocumentError, UnsupportedTypeError):
    """An image that cannot be decoded: corrupt, and so not a type we can read either."""

    code = "corrupt"


def _kind(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "PNG"
    if data.startswith(b"\xff\xd8"):
        return "JPEG"
    return "TIFF"


MAX_PAGES = 500
MAX_PIXELS = 80_000_000  # per page; a 600-dpi A3 scan is ~70 Mpx


def read_image_pages(data: bytes) -> list[tuple[np.ndarray, float | None]]:
    """Decode every frame as an RGB→BGR array with its dpi, or raise a clear input error."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        img = Image.open(BytesIO(data))
        frames: list[tuple[np.ndarray, float | None]] = []
        for frame in ImageSequence.Iterator(img):
            if len(frames) >= MAX_PAGES:
                raise CorruptDocumentError(f"the image has more than {MAX_PAGES} pages")
            frame.load()
            dpi_info = frame.info.get("dpi")
            dpi = float(dpi_info[0]) if dpi_info and dpi_info[0] else None
            rgb = np.asarray(frame.convert("RGB"))
            frames.append((np.ascontiguousarray(rgb[:, :, ::-1]), dpi))
    # TypeError: Pillow's "Missing dimensions" for a TIFF cut before its size tags.
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        TypeError,
        EOFError,
        Image.DecompressionBombError,
    ) as exc:
        raise CorruptImageError(f"the {_kind(data)} image cannot be decoded ({exc})") from exc
    if not frames:
        raise EmptyDocumentError("the image has no pages")
    for arr, _ in frames:
        if min(arr.shape[:2]) < 32:
            size = f"{arr.shape[1]}x{arr.shape[0]}"
            raise CorruptDocumentError(f"the image is too small to read ({size} pixels)")
    return frames


def read_image(data: bytes, source: SourceInfo, options: PipelineOptions | None = None) -> Document:
    from gongkai.pipeline.ocr import ocr_available, ocr_images

    options = options or PipelineOptions()
    frames = read_image_pages(data)
    if not options.ocr:
        raise NeedsOcrError("an image needs OCR, which is switched off (GONGKAI_OCR=0 or --no-ocr)")
    if not ocr_available(options):
        raise NeedsOcrError("an image needs OCR, which is not installed (pip install 'gongkai[ocr]')")
    images, dpis = [f[0] for f in frames], [f[1] for f in frames]
    results = ocr_images(images, range(1, len(frames) + 1), dpis, options)
    pages = [page for page, _ in results]
    warnings = []
    for page, diag in results:
        if diag.blank:
            warnings.append(f"page {page.number} is blank")
        if diag.rotation:
            warnings.append(f"page {page.number} was turned by {diag.rotation}° before OCR")
    return Document(source=source, pages=pages, warnings=warnings)
