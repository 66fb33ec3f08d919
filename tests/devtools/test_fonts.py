"""The CJK font comes with the project's own install (the corpus extra), not only from Debian."""

from __future__ import annotations

import pytest

from gongkai.devtools.corpora.synthetic import fonts


def test_the_corpus_extra_carries_a_cjk_truetype_font() -> None:
    pytest.importorskip("reportlab", reason="the corpus extra is not installed")
    path = fonts._packaged_microhei()
    if path is None:
        pytest.skip("paperang-p2-fonts-cjk (the corpus extra's font) is not installed")
    assert path.name == "wqy-microhei.ttc" and path.stat().st_size > 1_000_000
    # The probe text (characters every report prints) must be in the font reportlab embeds.
    assert fonts._covers_probe(path, 0)


def test_the_fallback_is_always_a_real_file_with_the_corpus_extra() -> None:
    if fonts._packaged_microhei() is None and not fonts._DEBIAN_MICROHEI.is_file():
        pytest.skip("no CJK font: neither the corpus extra nor fonts-wqy-microhei is installed")
    assert fonts.FALLBACK.path.is_file()
    assert "hei" in fonts.available_families()
    assert fonts.resolve(None).path == fonts.FALLBACK.path
