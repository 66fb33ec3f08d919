"""Bad input gets a clear error of its own kind and a one-line reason."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import pytest

from gongkai.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    InputError,
    NeedsOcrError,
    NotAReportError,
    ScanWithoutTextError,
    TooLargeError,
    UnsupportedTypeError,
)
from gongkai.pipeline.extract import extract_bytes
from gongkai.pipeline.ingest import load_document, load_path
from gongkai.settings import PipelineOptions
from tests.pdfs import image_only_pdf, text_pdf

NOT_A_REPORT = [
    "关于开展春季植树活动的通知",
    "各单位：",
    "为改善生态环境，现将有关事项通知如下。",
    "一、时间安排",
    "二、地点",
]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text
    return text


def test_empty_file() -> None:
    with pytest.raises(EmptyDocumentError) as err:
        extract_bytes(b"", "x.pdf")
    assert "empty" in _reason(err.value)


def test_wrong_type_is_sniffed_from_content_not_name() -> None:
    with pytest.raises(UnsupportedTypeError):
        extract_bytes("纯文本，不是报告".encode(), "report.pdf")
    with pytest.raises(UnsupportedTypeError, match="PNG"):
        extract_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "report.pdf")
    with pytest.raises(UnsupportedTypeError, match="legacy Word"):
        extract_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "report.doc")


def test_zip_that_is_not_docx() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(UnsupportedTypeError):
        extract_bytes(buf.getvalue(), "x.docx")


def test_corrupt_pdf() -> None:
    with pytest.raises(CorruptDocumentError):
        extract_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage\n%%EOF", "broken.pdf")


def test_truncated_pdf() -> None:
    data = text_pdf(["政府信息公开工作年度报告"])
    with pytest.raises((CorruptDocumentError, EmptyDocumentError)):
        extract_bytes(data[: len(data) // 3], "truncated.pdf")


def test_encrypted_pdf() -> None:
    data = text_pdf(["2023年政府信息公开工作年度报告"], encrypt="secret")
    with pytest.raises(EncryptedDocumentError) as err:
        extract_bytes(data, "locked.pdf")
    assert "encrypted" in _reason(err.value)


def test_scan_without_text_layer_asks_for_ocr() -> None:
    with pytest.raises(NeedsOcrError) as err:  # OCR off: as on an install without the ocr extra
        extract_bytes(image_only_pdf(), "scan.pdf", options=PipelineOptions(ocr=False))
    assert "OCR" in _reason(err.value) and err.value.code == "needs_ocr"
    assert "switched off" in str(err.value)


def test_an_image_without_ocr_asks_for_it() -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "PNG")
    with pytest.raises(NeedsOcrError, match="switched off"):
        load_document(buf.getvalue(), "page.png", options=PipelineOptions(ocr=False))


def test_scan_that_ocr_finds_no_text_in() -> None:
    from gongkai.pipeline.ocr import ocr_available

    if not ocr_available():
        pytest.skip("the OCR extra (gongkai[ocr]) is not installed")
    with pytest.raises(ScanWithoutTextError) as err:
        extract_bytes(image_only_pdf(), "scan.pdf")
    assert "no readable text" in _reason(err.value) and err.value.code == "no_text"


def test_not_a_report() -> None:
    with pytest.raises(NotAReportError) as err:
        extract_bytes(text_pdf(NOT_A_REPORT), "notice.pdf")
    assert "not a government information disclosure annual report" in _reason(err.value)


def test_oversized(tmp_path: Path) -> None:
    p = tmp_path / "big.pdf"
    p.write_bytes(text_pdf(["政府信息公开"]))
    with pytest.raises(TooLargeError):
        load_path(p, max_bytes=100)
    with pytest.raises(TooLargeError):  # the limit in the options, as the service sets it
        extract_bytes(p.read_bytes(), "big.pdf", options=PipelineOptions(max_bytes=100))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_path(tmp_path / "nope.pdf")
    with pytest.raises(InputError, match="not a file"):
        load_path(tmp_path)


def test_a_truncated_tiff_is_corrupt_wherever_it_is_cut() -> None:
    """Pillow raises TypeError ("Missing dimensions") or SyntaxError for some cuts of a TIFF; both the
    reader and the upload check must turn every cut into the corrupt-input error, never a crash."""
    pytest.importorskip("PIL")
    from gongkai.errors import GongkaiError
    from gongkai.pipeline.ingest.image import read_image_pages

    tif = Path(__file__).resolve().parents[2] / "fixtures" / "synthetic" / "s2025-0004-2019-image.tif"
    data = tif.read_bytes()
    cuts = sorted({8, 67_648, 144_408, *range(16, len(data), len(data) // 60)})
    # The cuts that crashed before (TypeError at 67,648 bytes) are refused as corrupt…
    for cut in (8, 67_648):
        with pytest.raises(CorruptDocumentError):
            read_image_pages(data[:cut])
    # …and no cut raises anything but that (a cut that keeps every strip may still decode).
    for cut in cuts:
        with contextlib.suppress(CorruptDocumentError):
            read_image_pages(data[:cut])
    try:
        from gongkai.server.api.limits import check_upload
        from gongkai.settings import Settings
    except ImportError:  # the service extra is not installed
        return
    # Refused with a reason, or (a readable header) accepted and refused later by the reader: any
    # other exception (a 500 in the API) fails the test.
    for cut in cuts:
        with contextlib.suppress(GongkaiError):
            check_upload(data[:cut], Settings())
