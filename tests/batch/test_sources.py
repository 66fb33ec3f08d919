"""Walking folders, file lists and archives: names, nesting, limits, broken archives; detection by content."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import py7zr
import pytest

from gongkai.batch.detect import Kind, detect, looks_like_text
from gongkai.batch.sources import SEP, WalkLimits, count, walk
from tests.batch.helpers import gbk_named_zip, zip_bytes


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _seven_z(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as sz:
        for name, data in members.items():
            sz.writestr(data, name)
    return buf.getvalue()


def _found(sources: list[str], **limits: int) -> dict[str, bytes | None]:
    return {e.path: e.data for e in walk(sources, WalkLimits(**limits))}


def test_zip_member_names_in_gbk_without_the_utf8_flag_are_decoded(tmp_path: Path) -> None:
    blob = gbk_named_zip({"平潭/2013年报告.html": b"<html>a</html>", "说明.txt": b"x"})
    assert "平潭".encode("gbk") in blob  # really GBK bytes on disk, not UTF-8
    (tmp_path / "a.zip").write_bytes(blob)
    found = _found([str(tmp_path / "a.zip")])
    assert sorted(p.split(SEP, 1)[1] for p in found) == ["平潭/2013年报告.html", "说明.txt"]


def test_tar_gz_7z_and_nested_archives_are_walked_in_memory(tmp_path: Path) -> None:
    inner_zip = zip_bytes({"deep.html": b"<html>deep</html>"})
    tgz = _tar_gz({"t/one.txt": b"one", "t/inner.zip": inner_zip})
    seven = _seven_z({"s/two.txt": b"two", "s/three.txt": b"three"})
    outer = zip_bytes({"a.tar.gz": tgz, "b.7z": seven, "c.txt": b"c"})
    (tmp_path / "outer.zip").write_bytes(outer)
    (tmp_path / "plain.tgz").write_bytes(_tar_gz({"p.txt": b"p"}))
    found = _found([str(tmp_path)])
    o = str(tmp_path / "outer.zip")
    assert found == {
        f"{o}!a.tar.gz!t/one.txt": b"one",
        f"{o}!a.tar.gz!t/inner.zip!deep.html": b"<html>deep</html>",
        f"{o}!b.7z!s/two.txt": b"two",
        f"{o}!b.7z!s/three.txt": b"three",
        f"{o}!c.txt": b"c",
        f"{tmp_path / 'plain.tgz'}!p.txt": b"p",
    }
    # Nothing was unpacked beside the archives.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outer.zip", "plain.tgz"]
    assert count([str(tmp_path)]) == 4  # outer.zip lists 3 members, plain.tgz 1


def test_limits_broken_archives_and_depth_are_reported_not_raised(tmp_path: Path) -> None:
    nested = zip_bytes({"l3.zip": zip_bytes({"l4.txt": b"deep"})})
    (tmp_path / "n.zip").write_bytes(zip_bytes({"l2.zip": nested}))
    (tmp_path / "big.zip").write_bytes(zip_bytes({"big.txt": b"x" * 5000, "ok.txt": b"ok"}))
    (tmp_path / "broken.zip").write_bytes(zip_bytes({"a.txt": b"a" * 100})[:60])
    entries = {e.path: e for e in walk([str(tmp_path)], WalkLimits(max_bytes=1000, max_depth=2))}
    big = entries[f"{tmp_path / 'big.zip'}!big.txt"]
    assert big.data is None and big.error_code == "too_large"
    assert entries[f"{tmp_path / 'big.zip'}!ok.txt"].data == b"ok"
    deep = entries[f"{tmp_path / 'n.zip'}!l2.zip!l3.zip"]
    assert deep.data is None and deep.error_code == "too_deep"
    broken = entries[str(tmp_path / "broken.zip")]
    assert broken.data is None and broken.error_code == "corrupt"


def test_file_lists_explicit_and_detected(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_bytes(b"a")
    (tmp_path / "b.txt").write_bytes(b"b")
    (tmp_path / "list.txt").write_text("# reports\ndocs\nb.txt\n", encoding="utf-8")
    expected = {str(tmp_path / "docs" / "a.txt"): b"a", str(tmp_path / "b.txt"): b"b"}
    assert _found([f"@{tmp_path / 'list.txt'}"]) == expected
    assert _found([str(tmp_path / "list.txt")]) == expected  # every line names an existing path
    missing = {e.path: e.error_code for e in walk([str(tmp_path / "nope")])}
    assert missing == {str(tmp_path / "nope"): "bad_input"}


def test_detection_is_by_content() -> None:
    assert detect(b"%PDF-1.7\n...") == Kind.PDF
    assert detect(zip_bytes({"x.txt": b"x"})) == Kind.ZIP
    assert detect(zip_bytes({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"})) == Kind.DOCX
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "WordDocument".encode("utf-16-le")
    assert detect(ole) == Kind.WORD
    assert detect(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le")) == Kind.OTHER
    gbk_text = "某区人民政府2015年政府信息公开工作年度报告\n一、概述\n本年度共受理申请3件。".encode("gbk")
    assert detect(gbk_text) == Kind.TEXT and looks_like_text(gbk_text)
    page = '<html><meta charset="gbk"><body>报告</body></html>'.encode("gbk")
    assert detect(page) == Kind.HTML
    assert detect(b"\x00\x01\x02binary" * 50) == Kind.OTHER
    assert detect(b"hello world") == Kind.OTHER  # text without any Chinese is not a report


@pytest.mark.parametrize("kind", ["zip", "tgz", "7z"])
def test_archive_detection_from_disk_does_not_mistake_a_docx(tmp_path: Path, kind: str) -> None:
    docx = zip_bytes({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"})
    pack = {"zip": zip_bytes, "tgz": _tar_gz, "7z": _seven_z}[kind]
    (tmp_path / "a").write_bytes(pack({"r.docx": docx}))
    (tmp_path / "r.docx").write_bytes(docx)
    found = _found([str(tmp_path)])
    assert found[str(tmp_path / "r.docx")] == docx  # a DOCX on disk is a document, not an archive
    assert found[f"{tmp_path / 'a'}!r.docx"] == docx
