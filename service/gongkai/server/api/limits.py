"""Checks an upload passes before it is accepted: type from content, size, pages, bombs.

They are cheap (headers and container directories, never a full parse), so a bad file gets its 4xx
at once instead of a failed job later.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO

from gongkai.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    TooLargeError,
    UnsupportedTypeError,
)
from gongkai.pipeline.ingest import DOCX, HTML, PDF, sniff_media_type
from gongkai.server.jobs.locks import PDFIUM_LOCK
from gongkai.settings import Settings

_BIG_PART = 1024 * 1024
_HEAD = 1024  # what the sniffer looks at
_CHUNK = 1024 * 1024

# The API checks the spooled file by its path, so an upload is never read whole into memory; bytes
# are accepted too (tests, small callers).
Source = Path | bytes


@dataclass(frozen=True)
class Checked:
    media_type: str
    pages: int | None


def check_upload(source: Source, settings: Settings) -> Checked:
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > settings.max_upload_bytes:
        raise TooLargeError(f"the file is {size} bytes; the limit is {settings.max_upload_bytes}")
    media_type = _sniff(source)
    if media_type == PDF:
        return Checked(media_type, _pdf_pages(source, settings))
    if media_type == DOCX:
        _check_zip(source, settings)
        return Checked(media_type, 1)
    if media_type == HTML:
        return Checked(media_type, 1)
    if media_type.startswith("image/"):
        return Checked(media_type, _image_frames(source, settings))
    return Checked(media_type, None)


def _open(source: Source) -> IO[bytes]:
    return source.open("rb") if isinstance(source, Path) else BytesIO(source)


def _sniff(source: Source) -> str:
    """``sniff_media_type`` on the first bytes; what needs more (a ZIP's directory, whether a file is
    all blank) is read from the file, a directory or a chunk at a time, never the whole file at once."""
    with _open(source) as f:
        head = f.read(_HEAD)
        if not head.strip():
            while chunk := f.read(_CHUNK):
                if chunk.strip():
                    raise UnsupportedTypeError("not a PDF, HTML or DOCX document")
            raise EmptyDocumentError("the file is empty")
    # The sniffer tells a PDF by a marker anywhere in the head, before it looks for a ZIP.
    if head.startswith(b"PK\x03\x04") and b"%PDF-" not in head:
        try:
            names = {info.filename for info in _zip_infos(source)}
        except CorruptDocumentError as exc:
            raise UnsupportedTypeError("a corrupt ZIP container, not a readable DOCX") from exc
        if "word/document.xml" in names:
            return DOCX
        raise UnsupportedTypeError("a ZIP file that is not a Word document (DOCX)")
    return sniff_media_type(head)


def _pdf_pages(source: Source, settings: Settings) -> int:
    from gongkai.pipeline.ingest.pdf import open_pdf

    with PDFIUM_LOCK:
        # From a path PDFium reads the parts it needs from the file (the xref, each page's dictionary).
        pdf = open_pdf(source)
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


def _zip_infos(source: Source) -> list[zipfile.ZipInfo]:
    """The ZIP's central directory (opening a ZipFile reads only that, whatever the file's size)."""
    try:
        with _open(source) as f, zipfile.ZipFile(f) as zf:
            return zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise CorruptDocumentError(f"the Word document is not a readable ZIP container ({exc})") from exc


def _check_zip(source: Source, settings: Settings) -> None:
    """A DOCX is a ZIP: add up the declared uncompressed sizes before anything is inflated."""
    infos = _zip_infos(source)
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


def _image_frames(source: Source, settings: Settings) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with _open(source) as f, Image.open(f) as img:  # reads the header (and frame index) only
            w, h = img.size
            frames = int(getattr(img, "n_frames", 1))
    # A truncated TIFF makes Pillow raise TypeError ("Missing dimensions") or SyntaxError too.
    except (UnidentifiedImageError, OSError, ValueError, TypeError, SyntaxError, EOFError) as exc:
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
