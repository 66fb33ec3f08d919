"""CJK TrueType fonts the synthetic renderers can use, found on this machine.

Real reports are set in Song (宋体), FangSong (仿宋_GB2312), Kai (楷体) and Hei (黑体). reportlab embeds
TrueType outlines only (the CFF-based Noto CJK fonts do not load), so the families map to free
TrueType fonts from Debian packages:

- song: fonts-arphic-uming (``uming.ttc``, subfont 0 = AR PL UMing CN)
- kai:  fonts-arphic-ukai (``ukai.ttc``, subfont 0 = AR PL UKai CN)
- hei:  fonts-wqy-zenhei (``wqy-zenhei.ttc``) or fonts-wqy-microhei (``wqy-microhei.ttc``)
- fangsong: no Debian TrueType FangSong covers simplified Chinese (fonts-cwtex-fs is traditional
  only: 开/报/区/县 are missing), so a candidate is accepted only if it covers `PROBE_TEXT`.

A family whose files are absent is simply not offered. The fallback, WenQuanYi Micro Hei, is always
there: the ``corpus`` extra installs it from PyPI (the ``paperang-p2-fonts-cjk`` wheel carries
``wqy-microhei.ttc``, the font licensed Apache-2.0 or GPLv3 with the font exception), and the Debian
package's copy is used first where it is installed. So the generator and the tests that render
reports need no system font package; the Song and Kai families stay optional extras of Debian.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from gongkai.fonts import packaged_cjk_font

FontFamily = Literal["song", "fangsong", "kai", "hei"]
FAMILIES: tuple[FontFamily, ...] = ("song", "fangsong", "kai", "hei")

# Simplified characters every report prints; a font lacking any of them would drop glyphs.
PROBE_TEXT = "政府信息公开工作年度报告区县办理结果决定书维持纠正总计万元费开发这个说"

_FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"))


@dataclass(frozen=True)
class FontFile:
    family: FontFamily
    name: str  # the reportlab registration name
    path: Path
    subfont: int = 0


_CANDIDATES: dict[FontFamily, tuple[tuple[str, str, int], ...]] = {
    "song": (("ARPLUMingCN", "arphic/uming.ttc", 0),),
    "fangsong": (("cwTeXFangSong", "cwtex/cwfs.ttf", 0),),
    "kai": (("ARPLUKaiCN", "arphic/ukai.ttc", 0),),
    "hei": (("WQYZenHei", "wqy/wqy-zenhei.ttc", 0), ("WQYMicroHei", "wqy/wqy-microhei.ttc", 0)),
}
_DEBIAN_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _packaged_microhei() -> Path | None:
    """WenQuanYi Micro Hei from the ``corpus`` extra's font wheel, found by path (no import needed)."""
    return packaged_cjk_font()


def _fallback() -> FontFile:
    path = _DEBIAN_MICROHEI if _DEBIAN_MICROHEI.is_file() else _packaged_microhei()
    return FontFile("hei", "WQYMicroHei", path or _DEBIAN_MICROHEI, 0)


FALLBACK = _fallback()


def _find(relative: str) -> Path | None:
    for base in _FONT_DIRS:
        path = base / relative
        if path.is_file():
            return path
    return None


@cache
def _covers_probe(path: Path, subfont: int) -> bool:
    from reportlab.pdfbase.ttfonts import TTFont

    try:
        font = TTFont(f"probe-{path.name}-{subfont}", str(path), subfontIndex=subfont)
    except Exception:  # unreadable or CFF-flavoured: reportlab cannot embed it
        return False
    return all(ord(ch) in font.face.charToGlyph for ch in PROBE_TEXT)


@cache
def font_for(family: FontFamily) -> FontFile | None:
    """The first usable installed font of a family, or None when the family is not installed."""
    for name, relative, subfont in _CANDIDATES[family]:
        path = _find(relative)
        if path is not None and _covers_probe(path, subfont):
            return FontFile(family, name, path, subfont)
    return None


@cache
def available_families() -> tuple[FontFamily, ...]:
    """Families with a usable font here; never empty when the fallback font is installed."""
    found = tuple(f for f in FAMILIES if font_for(f) is not None)
    if not found and FALLBACK.path.is_file():
        return ("hei",)
    return found


def resolve(family: FontFamily | None) -> FontFile:
    """The font to use for `family`: that family if installed, else the fallback Hei font."""
    if family is not None:
        if family not in FAMILIES:
            raise ValueError(f"unknown font family {family!r}; choose from {', '.join(FAMILIES)}")
        found = font_for(family)
        if found is not None:
            return found
    if not FALLBACK.path.is_file():
        raise FileNotFoundError(
            "no CJK TrueType font: pip install 'gongkai[corpus]' (or apt-get install fonts-wqy-microhei)"
        )
    return FALLBACK


@cache
def register_reportlab(family: FontFamily | None) -> str:
    """Register the family's font with reportlab (once) and return the font name to use."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    font = resolve(family)
    if font.name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(font.name, str(font.path), subfontIndex=font.subfont))
    return font.name


def pil_font(family: FontFamily | None, size_px: int):  # -> PIL.ImageFont.FreeTypeFont
    """A PIL font of the family (fallback Hei) at a pixel size, for drawing on page images."""
    from PIL import ImageFont

    font = resolve(family)
    return ImageFont.truetype(str(font.path), size=max(1, int(size_px)), index=font.subfont)
