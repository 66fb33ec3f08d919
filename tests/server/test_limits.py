"""safe_filename: a display name only, at most 200 characters, and the extension survives truncation."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")

from gongkai.server.api.limits import safe_filename


def test_long_name_keeps_its_extension() -> None:
    out = safe_filename("年度报告" * 100 + ".pdf")
    assert len(out) == 200 and out.endswith(".pdf") and out.startswith("年度报告")


def test_long_name_with_a_path_and_control_characters() -> None:
    out = safe_filename("C:\\tmp\\" + "a\x00b\x07" * 150 + ".docx")
    assert len(out) == 200 and out.endswith(".docx") and "\\" not in out and "\x00" not in out


def test_short_and_odd_names_unchanged() -> None:
    assert safe_filename("report.pdf") == "report.pdf"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename(".hidden.pdf") == "hidden.pdf"
    assert safe_filename(None) == safe_filename("") == safe_filename("...") == "document"
    assert safe_filename("x" * 300) == "x" * 200  # no extension: plain truncation


def test_a_long_tail_after_the_last_dot_is_not_an_extension() -> None:
    name = "v1." + "y" * 300
    assert safe_filename(name) == name[:200]
