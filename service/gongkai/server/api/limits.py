"""Checks an upload passes before it is accepted: type from content, size, pages, bombs.

They are cheap (headers and container directories, never a full parse), so a bad file gets its 4xx
at once instead of a failed job later.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO

from gongkai.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    TooLargeError,
)
from gongkai.pipeline.ingest import DOCX, HTML, PDF, sniff_media_type
from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.settings import Settings

_BIG_PART = 1024 * 1024


@dataclass(frozen=True)
class Checked:
    media_type: str
    pages: int | None


def check_upload(data: bytes, settings: Settings) -> Checked:
    if len(data) > settings.max_upload_bytes:
        raise TooLargeError(f"the file is {len(data)} bytes; the limit is {settings.max_upload_bytes}")
    media_type = sniff_media_type(data)
    if media_type == PDF:
        return Checked(media_type, _pdf_pages(data, settings))
    if media_type == DOCX:
        _check_zip(data, settings)
        return Checked(media_type, 1)
    if media_type == HTML:
        return Checked(media_type, 1)
    if media_type.startswith("image/"):
        return Checked(media_type, _image_frames(data, settings))
    return Checked(media_type, None)


def _pdf_pages(data: bytes, settings: Settings) -> int:
    from gongkai.pipeline.ingest.pdf import open_pdf

    with PDFIUM_LOCK:
        pdf = open_pdf(data)
        try:
            n = len(pdf)
            if n == 0:
                raise EmptyDocumentError("the PDF has no pages")
            if n > settings.max_pages:
                raise TooLargeError(f"the PDF has {n} pages; the limit is {settings.max_pages}")
            for i in range(n):
                w, h = pdf[i].get_size()
                # A page of absurd size is a rendering bomb (PDF limit is 14 400 pt; A0 is 3 370 pt).
                if w * h > 14_400 * 14_400:
                    raise TooLargeError(f"page {i + 1} is {w:.0f}x{h:.0f} points, too large to render")
            return n
        finally:
            pdf.close()


def _check_zip(data: bytes, settings: Settings) -> None:
    """A DOCX is a ZIP: add up the declared uncompressed sizes before anything is inflated."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise CorruptDocumentError(f"the Word document is not a readable ZIP container ({exc})") from exc
    if len(infos) > 10_000:
        raise TooLargeError(f"the Word document has {len(infos)} parts; a report has a few dozen")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > _BIG_PART and info.file_size > settings.max_compression_ratio * max(
            1, info.compress_size
        ):
            raise TooLargeError(
                f"the Word document part {info.filename[:80]!r} inflates {info.compress_size} bytes to "
                f"{info.file_size} (a decompression bomb); refused"
            )
    if total > settings.max_uncompressed_bytes:
        raise TooLargeError(
            f"the Word document inflates to {total} bytes; the limit is {settings.max_uncompressed_bytes} "
            "(a decompression bomb?)"
        )


def _image_frames(data: bytes, settings: Settings) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as img:  # reads the header only
            w, h = img.size
            frames = int(getattr(img, "n_frames", 1))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CorruptDocumentError(f"the image cannot be read ({exc})") from exc
    except Image.DecompressionBombError as exc:
        raise TooLargeError(f"the image is too large to decode ({exc})") from exc
    if w * h > settings.max_image_pixels:
        raise TooLargeError(
            f"the image is {w}x{h} pixels; the limit is {settings.max_image_pixels} pixels (a bomb?)"
        )
    if frames > settings.max_pages:
        raise TooLargeError(f"the image has {frames} pages; the limit is {settings.max_pages}")
    return frames


_MAX_NAME = 200
_MAX_EXTENSION = 16  # ".docx", ".html"; a longer tail after the last dot is part of the name


def safe_filename(name: str | None) -> str:
    """A display name only: the last path component, no control characters, at most 200 characters.
    Files are stored under their sha256, so a name can never become a path. A long name loses the end
    of its stem, not its extension, which exports and downloads show the type by."""
    if not name:
        return "document"
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in "\x00")
    base = base.strip().lstrip(".") or "document"
    if len(base) <= _MAX_NAME:
        return base
    stem, dot, ext = base.rpartition(".")
    if dot and stem and len(dot + ext) <= _MAX_EXTENSION:
        return stem[: _MAX_NAME - len(dot + ext)] + dot + ext
    return base[:_MAX_NAME]
