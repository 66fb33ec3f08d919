"""Small PDFs made on the fly for the bad-input tests (reportlab's built-in CJK font, no files)."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.pdfgen.canvas import Canvas

_FONT = "STSong-Light"


def _canvas(buf: BytesIO, **kw: object) -> Canvas:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    return canvas.Canvas(buf, pagesize=A4, invariant=1, **kw)  # type: ignore[arg-type]


def text_pdf(lines: list[str], *, encrypt: str | None = None) -> bytes:
    buf = BytesIO()
    c = _canvas(buf, encrypt=encrypt) if encrypt else _canvas(buf)
    c.setFont(_FONT, 12)
    y = 780.0
    for line in lines:
        c.drawString(72, y, line)
        y -= 20
    c.showPage()
    c.save()
    return buf.getvalue()


def image_only_pdf() -> bytes:
    """A page with drawn shapes and no text: what a scan looks like to a text-layer reader."""
    buf = BytesIO()
    c = _canvas(buf)
    c.rect(72, 600, 300, 100, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()
