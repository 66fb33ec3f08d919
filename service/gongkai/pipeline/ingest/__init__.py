"""Ingest: bytes in, a ``Document`` out. The type is sniffed from content, never from the name."""

from __future__ import annotations

import hashlib
import zipfile
from io import BytesIO
from pathlib import Path

from gongkai.errors import (
    EmptyDocumentError,
    InputError,
    TooLargeError,
    UnsupportedTypeError,
)
from gongkai.pipeline.datamodel import Document, SourceInfo
from gongkai.settings import PipelineOptions

PDF = "application/pdf"
HTML = "text/html"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PNG, JPEG, TIFF = "image/png", "image/jpeg", "image/tiff"
IMAGE_TYPES = (PNG, JPEG, TIFF)


def sniff_media_type(data: bytes) -> str:
    """The media type from the first bytes; raises ``UnsupportedTypeError`` for anything else."""
    if not data.strip():
        raise EmptyDocumentError("the file is empty")
    head = data[:1024]
    if head.lstrip().startswith(b"%PDF-") or b"%PDF-" in head:
        return PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise UnsupportedTypeError("a corrupt ZIP container, not a readable DOCX") from exc
        if "word/document.xml" in names:
            return DOCX
        raise UnsupportedTypeError("a ZIP file that is not a Word document (DOCX)")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedTypeError("a legacy Word/Excel (.doc/.xls) file; save it as DOCX or PDF")
    for magic, media in (
        (b"\x89PNG", PNG),
        (b"\xff\xd8\xff", JPEG),
        (b"II*\x00", TIFF),
        (b"MM\x00*", TIFF),
    ):
        if head.startswith(magic):
            return media  # read by OCR (service/ingest/image.py)
    text = _decode_head(head).lower()
    if "<html" in text or "<!doctype html" in text or "<body" in text or "<table" in text:
        return HTML
    raise UnsupportedTypeError("not a PDF, HTML or DOCX document")


def _decode_head(head: bytes) -> str:
    for enc in ("utf-8", "gb18030"):
        try:
            return head.decode(enc)
        except UnicodeDecodeError:
            continue
    return head.decode("latin-1")


def load_document(
    data: bytes,
    filename: str = "document",
    *,
    max_bytes: int | None = None,
    options: PipelineOptions | None = None,
) -> Document:
    """Read a PDF, HTML, DOCX or image document into the document model. ``options`` say how (OCR
    engines, workers, limits); ``max_bytes``, when given, overrides ``options.max_bytes``."""
    options = options or PipelineOptions()
    limit = options.max_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise TooLargeError(f"the file is {len(data)} bytes; the limit is {limit}")
    media_type = sniff_media_type(data)
    source = SourceInfo(
        filename=Path(filename).name,
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        size=len(data),
    )
    if media_type == PDF:
        from gongkai.pipeline.ingest.pdf import read_pdf

        return read_pdf(data, source, options=options)
    if media_type == HTML:
        from gongkai.pipeline.ingest.html import read_html

        return read_html(data, source)
    if media_type == DOCX:
        from gongkai.pipeline.ingest.docx import read_docx

        return read_docx(data, source)
    if media_type in IMAGE_TYPES:
        from gongkai.pipeline.ingest.image import read_image

        return read_image(data, source, options)
    raise InputError(f"no backend for {media_type}")  # pragma: no cover - sniff covers all


def load_path(
    path: str | Path, *, max_bytes: int | None = None, options: PipelineOptions | None = None
) -> Document:
    options = options or PipelineOptions()
    limit = options.max_bytes if max_bytes is None else max_bytes
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file: {p}")
    if not p.is_file():
        raise InputError(f"not a file: {p}")
    size = p.stat().st_size
    if size > limit:
        raise TooLargeError(f"the file is {size} bytes; the limit is {limit}")
    return load_document(p.read_bytes(), p.name, max_bytes=limit, options=options)
