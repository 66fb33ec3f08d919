"""What a file is, from its bytes alone (archives arrive with names that say nothing, or lie)."""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
from enum import StrEnum
from io import BytesIO

from gongkai.errors import GongkaiError
from gongkai.pipeline.ingest import DOCX, HTML, IMAGE_TYPES, PDF, sniff_media_type

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SEVEN_Z_MAGIC = b"7z\xbc\xaf\x27\x1c"
# The stream every Word 97–2003 file has; Kingsoft WPS Office's .wps is the same binary format.
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_TEXT_PROBE = 64 * 1024


class Kind(StrEnum):
    PDF = "pdf"
    HTML = "html"
    DOCX = "docx"
    IMAGE = "image"
    WORD = "doc"  # Word 97–2003 .doc or WPS .wps: converted through LibreOffice
    TEXT = "text"
    ZIP = "zip"
    TAR = "tar"
    SEVEN_Z = "7z"
    OTHER = "other"


ARCHIVES = frozenset({Kind.ZIP, Kind.TAR, Kind.SEVEN_Z})


def detect(data: bytes) -> Kind:
    """The kind of a file; ``OTHER`` for anything no backend reads (including empty files)."""
    head = data[:1024]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Kind.DOCX if _is_docx(data) else Kind.ZIP
    if head.startswith(SEVEN_Z_MAGIC):
        return Kind.SEVEN_Z
    if head.startswith(OLE_MAGIC):
        return Kind.WORD if _WORD_STREAM in data else Kind.OTHER  # its directory may sit anywhere
    if _is_tar(data):
        return Kind.TAR
    try:
        media = sniff_media_type(data)
    except GongkaiError:
        media = None
    if media == PDF:
        return Kind.PDF
    if media == HTML:
        return Kind.HTML
    if media in IMAGE_TYPES:
        return Kind.IMAGE
    if media == DOCX:  # pragma: no cover - the zip branch above decides first
        return Kind.DOCX
    return Kind.TEXT if looks_like_text(data) else Kind.OTHER


def _is_docx(data: bytes) -> bool:
    try:
        return sniff_media_type(data) == DOCX
    except GongkaiError:
        return False


def _is_tar(data: bytes) -> bool:
    """A plain tar, or a tar inside gzip/bzip2/xz (a lone compressed file is not an archive we read)."""
    if len(data) > 262 and data[257:262] == b"ustar":
        return True
    opener = {b"\x1f\x8b": gzip.open, b"BZ": bz2.open, b"\xfd7": lzma.open}.get(data[:2])
    if opener is None:
        return False
    try:
        with opener(BytesIO(data)) as fh:  # type: ignore[operator]
            block = fh.read(512)
    except (OSError, EOFError, lzma.LZMAError, ValueError):
        return False
    if len(block) < 262 or block[257:262] != b"ustar":
        # Old (v7) tars carry no magic: let tarfile judge the header checksum.
        try:
            tarfile.TarInfo.frombuf(block.ljust(512, b"\0"), "utf-8", "surrogateescape")
        except (tarfile.HeaderError, ValueError):
            return False
    return True


def looks_like_text(data: bytes) -> bool:
    """Readable text in UTF-8 or GB18030 with some Chinese in it, no binary bytes."""
    probe = data[:_TEXT_PROBE]
    if not probe.strip() or b"\x00" in probe:
        return False
    text = None
    # The probe may cut the last character in two: a longer file may lose up to 3 bytes at the end.
    cuts = range(4) if len(data) > _TEXT_PROBE else range(1)
    for enc in ("utf-8", "gb18030"):
        for cut in cuts:
            try:
                text = probe[: len(probe) - cut].decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if text is not None:
            break
    if text is None:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return printable >= 0.97 * len(text) and cjk >= 10
