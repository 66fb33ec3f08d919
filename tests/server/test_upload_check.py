"""The upload check works from the spooled file: every refusal as before, never the whole file in memory."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gongkai.errors import InputError
from gongkai.server.api.limits import check_upload
from gongkai.settings import Settings
from tests.server.api_support import make_settings, seed_keys, synthetic_pdf

_BIG = 40 * 1024 * 1024  # tens of MB: a full read would show in the peak at once
_CHUNK = 1024 * 1024


def _write_padded_pdf(path: Path, pad: int) -> None:
    """A valid one-page PDF carrying an unreferenced stream of ``pad`` bytes, written a chunk at a time
    (so building it does not hold it in memory either)."""
    offsets: list[int] = []
    with path.open("wb") as f:

        def obj(body: bytes) -> None:
            offsets.append(f.tell())
            f.write(f"{len(offsets)} 0 obj\n".encode() + body + b"\nendobj\n")

        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(b"<</Type/Catalog/Pages 2 0 R>>")
        obj(b"<</Type/Pages/Kids[3 0 R]/Count 1>>")
        obj(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<<>>/Contents 4 0 R>>")
        content = b"0 0 m 100 100 l S"
        obj(b"<</Length %d>>\nstream\n" % len(content) + content + b"\nendstream")
        offsets.append(f.tell())
        f.write(b"5 0 obj\n<</Length %d>>\nstream\n" % pad)
        block = b"0" * _CHUNK
        left = pad
        while left:
            f.write(block[: min(left, _CHUNK)])
            left -= min(left, _CHUNK)
        f.write(b"\nendstream\nendobj\n")
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for off in offsets:
            f.write(b"%010d 00000 n \n" % off)
        f.write(b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref))


def _write_big_docx(path: Path, size: int) -> None:
    # Stored (not deflated) incompressible-looking media: big but no bomb, as a report with photos.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("word/media/image1.bin", "w", force_zip64=True) as part:
            left = size
            block = bytes(range(256)) * (_CHUNK // 256)
            while left:
                part.write(block[: min(left, _CHUNK)])
                left -= min(left, _CHUNK)


def _write_big_png(path: Path, size: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A PNG header, then ``size`` bytes of IDAT chunks, a chunk at a time. The check reads the header
    # only; the data need not decode for this (the job would say if it did not).
    with path.open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 0, 0, 0, 0)))
        left = size
        while left:
            f.write(chunk(b"IDAT", b"\0" * min(left, _CHUNK)))
            left -= min(left, _CHUNK)
        f.write(chunk(b"IEND", b""))


def _peak(fn: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("writer", "media_type"),
    [
        (_write_padded_pdf, "application/pdf"),
        (_write_big_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (_write_big_png, "image/png"),
    ],
)
def test_check_of_a_large_file_stays_small_in_memory(
    tmp_path: Path, writer: Callable[[Path, int], None], media_type: str
) -> None:
    # The first check of a type imports its reader (PDFium bindings, PIL plugins): not the upload's cost.
    small = tmp_path / "small"
    writer(small, 1000)
    check_upload(small, Settings())
    path = tmp_path / "big"
    writer(path, _BIG)
    assert path.stat().st_size > _BIG
    settings = Settings(max_upload_bytes=2 * _BIG, max_uncompressed_bytes=4 * _BIG)
    checked, peak = _peak(lambda: check_upload(path, settings))
    assert checked.media_type == media_type  # type: ignore[attr-defined]
    # Headers, directories and a chunk or two: a few MB at most, against a file of 40 MB.
    assert peak < _BIG // 10, f"peak Python allocation {peak} bytes for a {_BIG}-byte file"


def test_accepting_a_large_upload_does_not_read_it_into_memory(tmp_path: Path) -> None:
    from starlette.datastructures import UploadFile

    from gongkai.server.api.auth import Caller
    from gongkai.server.api.metrics import Metrics
    from gongkai.server.api.routes.documents import _accept
    from gongkai.server.storage.db import Database
    from gongkai.server.storage.files import LocalFileStore

    settings = make_settings(tmp_path, max_upload_bytes=2 * _BIG)
    key_id = seed_keys(settings)["uploader"].split("_")[1]
    src = tmp_path / "big.pdf"
    _write_padded_pdf(src, _BIG)
    warm = tmp_path / "warm.pdf"
    _write_padded_pdf(warm, 1000)
    check_upload(warm, settings)
    db = Database(settings.database_url)
    store, metrics = LocalFileStore(settings.data_dir), Metrics(db)
    try:
        with src.open("rb") as f:
            upload = UploadFile(f, filename="big.pdf")
            caller = Caller(key_id=key_id, role="uploader")
            out, peak = _peak(lambda: _accept(upload, "big.pdf", caller, settings, store, db, metrics))
        body, status = out  # type: ignore[misc]
        assert status == 202 and body["pages"] == 1 and body["size"] == src.stat().st_size
        assert peak < _BIG // 10, f"peak Python allocation {peak} bytes for a {_BIG}-byte upload"
    finally:
        db.dispose()


def _bad_inputs() -> list[tuple[str, bytes, int, str]]:
    from tests.server.test_api import _bad_inputs as api_bad_inputs

    return api_bad_inputs()


def test_every_refusal_holds_when_checked_from_a_path(tmp_path: Path) -> None:
    # The same limits as the API test of these inputs; "empty" is refused by the route before the check.
    settings = Settings(
        max_upload_bytes=len(synthetic_pdf()) + 100_000, max_pages=3, max_uncompressed_bytes=10 * 1024 * 1024
    )
    for name, data, _status, code in _bad_inputs():
        path = tmp_path / name.replace(" ", "_")
        path.write_bytes(data)
        with pytest.raises(InputError) as err:
            check_upload(path, settings)
        assert err.value.code == code, (name, err.value)
        # And the same answer from bytes, as before.
        with pytest.raises(InputError) as err:
            check_upload(data, settings)
        assert err.value.code == code, (name, err.value)


def test_blank_head_then_content_is_not_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank-head"
    path.write_bytes(b" " * 5000 + b"x")
    with pytest.raises(InputError) as err:
        check_upload(path, Settings())
    assert err.value.code == "unsupported_type"
    path.write_bytes(b" \n" * 5000)
    with pytest.raises(InputError) as err:
        check_upload(path, Settings())
    assert err.value.code == "empty"


def test_good_files_from_a_path(tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(synthetic_pdf())
    checked = check_upload(pdf, Settings())
    assert checked.media_type == "application/pdf" and checked.pages and checked.pages >= 1
    html = tmp_path / "r.html"
    html.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    assert check_upload(html, Settings()).media_type == "text/html"
