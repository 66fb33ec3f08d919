"""Make a born-digital report look scanned: rasterize, stamp, tint, skew, blur, add noise, compress.

With ``ScanOptions.camera`` the page is photographed instead (``camera.py``: perspective, surround,
uneven warm light, curl near the binding) after paper and seal.

The order follows what happens to paper: the page is printed on (possibly greyish) paper and stamped
with the red official seal, then laid on the scanner (maybe turned by 90/180/270 degrees, a little
askew), and the scanner blurs, adds sensor noise and JPEG-compresses the image.

Everything is deterministic for a seed: each page gets its own `numpy.random.Generator` seeded by
(seed, page index); no global random state is touched.

    from gongkai.devtools.corpora.synthetic.degrade import ScanOptions, scan_pdf, page_images
    scanned = scan_pdf(pdf_bytes, ScanOptions(skew_deg=1.2, blur=0.8, noise=0.04, jpeg_quality=60), seed=7)
"""

from __future__ import annotations

import io
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from gongkai.devtools.corpora.synthetic.camera import CameraOptions, photograph
from gongkai.devtools.corpora.synthetic.fonts import pil_font

Level = Literal["clean", "typical", "heavy"]
ImageFormat = Literal["png", "jpeg", "tiff"]
SealPlace = Literal["signature", "table"]

SEAL_RED = (214, 34, 40)
_FIXED_DATE = time.gmtime(946684800)  # 2000-01-01, a struct_time as PIL wants
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ScanOptions:
    """How one page is degraded. The defaults leave the page as rendered (a perfect 200 dpi scan)."""

    skew_deg: float = 0.0  # small rotation, positive = counter-clockwise
    rotate: int = 0  # page laid on the scanner turned by 0/90/180/270 degrees (counter-clockwise)
    blur: float = 0.0  # Gaussian blur radius in pixels at 200 dpi (scaled with dpi)
    noise: float = 0.0  # standard deviation of sensor noise, as a fraction of full scale (0.03 = 3%)
    jpeg_quality: int | None = None  # JPEG round trip at this quality (None = lossless)
    grey_paper: bool = False  # greyish / yellowish paper with slightly uneven brightness
    seal: bool = False  # a red official seal stamped on this page
    dpi: int = 200
    # where the seal goes: "signature" = over the last lines of text (the signing agency and date),
    # "table" = over the cells of a ruled table (falls back to "signature" when no table is found)
    seal_place: SealPlace = "signature"
    seal_text: str = "某某市某某区人民政府办公室"
    # photographed instead of scanned: perspective, surround, light, curl (camera.py); rotate,
    # skew, blur and noise are then the camera's, not the scanner's
    camera: CameraOptions | None = None

    def __post_init__(self) -> None:
        if self.rotate not in (0, 90, 180, 270):
            raise ValueError(f"rotate must be 0, 90, 180 or 270, not {self.rotate!r}")
        if self.jpeg_quality is not None and not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be in 1..95 or None, not {self.jpeg_quality!r}")
        if not 30 <= self.dpi <= 600:
            raise ValueError(f"dpi must be in 30..600, not {self.dpi!r}")
        if self.blur < 0 or self.noise < 0:
            raise ValueError("blur and noise must be >= 0")
        if self.seal_place not in ("signature", "table"):
            raise ValueError(f"seal_place must be 'signature' or 'table', not {self.seal_place!r}")

    @classmethod
    def random(cls, rng: random.Random, level: str = "typical") -> ScanOptions:
        """Options a real office scanner might produce; `level` = clean | typical | heavy."""
        if level == "clean":
            return cls(
                skew_deg=round(rng.uniform(-0.4, 0.4), 2),
                blur=round(rng.uniform(0.0, 0.4), 2),
                noise=round(rng.uniform(0.0, 0.01), 3),
                jpeg_quality=rng.choice([None, 90, 85]),
                grey_paper=rng.random() < 0.1,
                seal=False,
            )
        if level == "typical":
            return cls(
                skew_deg=round(rng.uniform(-1.5, 1.5), 2),
                rotate=rng.choices([0, 90, 180, 270], weights=[94, 2, 2, 2])[0],
                blur=round(rng.uniform(0.2, 1.0), 2),
                noise=round(rng.uniform(0.005, 0.035), 3),
                jpeg_quality=rng.choice([None, 85, 75, 65, 55]),
                grey_paper=rng.random() < 0.4,
                seal=rng.random() < 0.3,
                seal_place=rng.choice(["signature", "table"]),
            )
        if level == "heavy":
            return cls(
                skew_deg=round(rng.uniform(-3.0, 3.0), 2),
                rotate=rng.choices([0, 90, 180, 270], weights=[85, 5, 5, 5])[0],
                blur=round(rng.uniform(0.8, 1.6), 2),
                noise=round(rng.uniform(0.03, 0.07), 3),
                jpeg_quality=rng.choice([50, 40, 30]),
                grey_paper=rng.random() < 0.8,
                seal=rng.random() < 0.6,
                seal_place=rng.choice(["signature", "table"]),
            )
        raise ValueError(f"unknown scan level {level!r}; choose clean, typical or heavy")


# ---------------------------------------------------------------- rasterizing


def rasterize_pdf(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    """Every page of a PDF as an RGB image at `dpi` (pdfium, no anti-aliasing surprises)."""
    import pypdfium2 as pdfium

    if not pdf.startswith(b"%PDF"):
        raise ValueError("not a PDF (the bytes do not start with %PDF)")
    doc = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for i in range(len(doc)):
            page = doc[i]
            bitmap = page.render(scale=dpi / 72.0)
            pages.append(bitmap.to_pil().convert("RGB"))
            page.close()
        return pages
    finally:
        doc.close()


# ---------------------------------------------------------------- the seal


def _seal_image(text: str, diameter: int, rng: np.random.Generator) -> Image.Image:
    """A red round official seal as an RGBA image: ring, five-pointed star, agency name on the arc."""
    size = diameter + 8
    layer = Image.new("L", (size, size), 0)  # ink coverage; coloured red at the end
    draw = ImageDraw.Draw(layer)
    c = size / 2
    r = diameter / 2
    ring = max(2, round(diameter * 0.035))
    draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=ring)

    # five-pointed star in the middle
    star_r = r * 0.30
    points = []
    for k in range(10):
        rad = star_r if k % 2 == 0 else star_r * 0.382
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((c + rad * math.cos(angle), c + rad * math.sin(angle)))
    draw.polygon(points, fill=255)

    # agency name along the upper arc, each character upright towards the centre
    chars = list(text)[:20] or ["章"]
    char_px = max(8, round(diameter * (0.15 if len(chars) <= 10 else 0.12)))
    font = pil_font("song", char_px)
    span = math.radians(min(250.0, 22.0 * len(chars) + 40.0))
    text_r = r - ring - char_px * 0.65
    for i, ch in enumerate(chars):
        t = 0.5 if len(chars) == 1 else i / (len(chars) - 1)
        angle = -math.pi / 2 - span / 2 + t * span  # clockwise from the left end of the arc
        glyph = Image.new("L", (char_px * 2, char_px * 2), 0)
        ImageDraw.Draw(glyph).text((char_px, char_px), ch, fill=255, font=font, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = c + text_r * math.cos(angle) - char_px
        y = c + text_r * math.sin(angle) - char_px
        layer.paste(255, (round(x), round(y)), glyph)

    # ink is never even: blotchy coverage, some dry spots, slightly soft edges
    cov = np.asarray(layer, dtype=np.float32) / 255.0
    blotch = rng.uniform(0.55, 1.0, size=(max(2, size // 24), max(2, size // 24))).astype(np.float32)
    blotch_img = Image.fromarray((blotch * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    cov *= np.asarray(blotch_img, dtype=np.float32) / 255.0
    cov *= rng.random(cov.shape, dtype=np.float32) > 0.04
    alpha = Image.fromarray(np.clip(cov * 255 * rng.uniform(0.7, 0.9), 0, 255).astype(np.uint8))
    alpha = alpha.filter(ImageFilter.GaussianBlur(0.6))
    seal = Image.new("RGBA", (size, size), (*SEAL_RED, 0))
    seal.putalpha(alpha)
    return seal.rotate(float(rng.uniform(-25, 25)), resample=Image.Resampling.BICUBIC)


def _ink_mask(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.uint8) < 140


def _seal_centre(img: Image.Image, place: SealPlace, rng: np.random.Generator) -> tuple[int, int]:
    """Where to stamp: over the last text lines' right end (the signature) or inside a ruled table."""
    ink = _ink_mask(img)
    h, w = ink.shape
    if place == "table":
        # table rules: rows where a long run of ink crosses most of the text width
        rules = np.flatnonzero(ink.sum(axis=1) > 0.5 * w)
        if len(rules) >= 2:
            top, bottom = int(rules.min()), int(rules.max())
            if bottom - top > h * 0.08:
                y = int(rng.integers(top, bottom))
                cols = np.flatnonzero(ink[top : bottom + 1].any(axis=0))
                x = int(rng.integers(int(cols.min()), int(cols.max()) + 1)) if len(cols) else w // 2
                return x, y
    rows = np.flatnonzero(ink.any(axis=1))
    if len(rows) == 0:
        return int(w * 0.7), int(h * 0.75)
    # ignore a page number / footer: take the last ink row above the bottom 10% of the page if any
    body = rows[rows < h * 0.9]
    last = int(body.max()) if len(body) else int(rows.max())
    band = ink[max(0, last - h // 12) : last + 1]
    cols = np.flatnonzero(band.any(axis=0))
    right = int(cols.max()) if len(cols) else int(w * 0.75)
    return right - int(w * 0.08) + int(rng.integers(-w // 40, w // 40 + 1)), last - h // 40


def _stamp(img: Image.Image, seal: Image.Image, centre: tuple[int, int]) -> Image.Image:
    # multiply blending: red ink over black text leaves the text black, as on paper
    page = np.asarray(img, dtype=np.float32)
    sw, sh = seal.size
    x0, y0 = centre[0] - sw // 2, centre[1] - sh // 2
    h, w = page.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + sw), min(h, y0 + sh)
    if xa >= xb or ya >= yb:
        return img
    s = np.asarray(seal, dtype=np.float32)[ya - y0 : yb - y0, xa - x0 : xb - x0]
    a = s[..., 3:4] / 255.0
    tint = s[..., :3] / 255.0
    region = page[ya:yb, xa:xb]
    page[ya:yb, xa:xb] = region * (1.0 - a + a * tint)
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


# ---------------------------------------------------------------- paper, scanner


def _paper(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Greyish or yellowish paper whose brightness drifts a little across the sheet."""
    w, h = img.size
    base = np.array(
        [(236, 234, 226), (228, 228, 228), (240, 234, 214), (232, 230, 222)][int(rng.integers(0, 4))],
        dtype=np.float32,
    )
    # a coarse random field (about +-3% brightness), smoothly upsampled: multiply, as paper tints ink too
    drift = 1.0 + rng.normal(0.0, 1.0, size=(6, 5, 1)).astype(np.float32) * 0.015
    tint = np.clip(base[None, None, :] * drift, 0, 255).astype(np.uint8)
    tint_img = Image.fromarray(tint, "RGB").resize((w, h), Image.Resampling.BICUBIC)
    return ImageChops.multiply(img.convert("RGB"), tint_img)


def degrade_page(
    img: Image.Image, options: ScanOptions, rng: np.random.Generator | random.Random
) -> Image.Image:
    """One page image degraded as `options` says; the input image is not modified."""
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng.getrandbits(64))
    page = img.convert("RGB")
    scale = options.dpi / 200.0
    if options.grey_paper:
        page = _paper(page, gen)
    if options.seal:
        diameter = round(42 / 25.4 * options.dpi)  # a 42 mm seal, the common size for offices
        seal = _seal_image(options.seal_text, diameter, gen)
        page = _stamp(page, seal, _seal_centre(page, options.seal_place, gen))
    if options.camera is not None:
        page, _corners = photograph(page, options.camera, gen)
        return _jpeg(page, options.jpeg_quality)
    if options.rotate:
        page = page.rotate(options.rotate, expand=True)  # multiples of 90: exact, no resampling
    if options.skew_deg:
        # bilinear is enough for a degree or two, and the scanner's blur follows anyway
        page = page.rotate(
            options.skew_deg, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=_WHITE
        )
    if options.blur > 0:
        page = page.filter(ImageFilter.GaussianBlur(options.blur * scale))
    if options.noise > 0:
        arr = np.asarray(page, dtype=np.int16)
        grain = gen.standard_normal(size=arr.shape[:2], dtype=np.float32) * (options.noise * 255.0)
        arr = arr + np.rint(grain).astype(np.int16)[..., None]  # luminance noise, as a sensor line gives
        page = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return _jpeg(page, options.jpeg_quality)


def _jpeg(page: Image.Image, quality: int | None) -> Image.Image:
    if quality is None:
        return page
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


# ---------------------------------------------------------------- whole documents


def _per_page(options: Sequence[ScanOptions] | ScanOptions, n: int) -> list[ScanOptions]:
    if isinstance(options, ScanOptions):
        return [options] * n
    opts = list(options)
    if len(opts) != n:
        raise ValueError(f"{len(opts)} ScanOptions for a document of {n} pages")
    return opts


def degrade_pdf_pages(
    pdf: bytes, options: Sequence[ScanOptions] | ScanOptions, seed: int
) -> list[tuple[Image.Image, ScanOptions]]:
    """Rasterize and degrade every page; page i uses a generator seeded by (seed, i)."""
    first = options if isinstance(options, ScanOptions) else (list(options) or [ScanOptions()])[0]
    pages = rasterize_pdf(pdf, dpi=first.dpi)
    opts = _per_page(options, len(pages))
    out = []
    for i, (img, opt) in enumerate(zip(pages, opts, strict=True)):
        if opt.dpi != first.dpi:
            img = img.resize(
                (round(img.width * opt.dpi / first.dpi), round(img.height * opt.dpi / first.dpi))
            )
        out.append((degrade_page(img, opt, np.random.default_rng([seed, i])), opt))
    return out


def _as_rgb_jpeg_ready(img: Image.Image) -> Image.Image:
    return img if img.mode == "RGB" else img.convert("RGB")


def scan_pdf(pdf: bytes, options_per_page: Sequence[ScanOptions] | ScanOptions, seed: int) -> bytes:
    """An image-only PDF (no text layer), one JPEG image per page, like an office scanner writes."""
    pages = degrade_pdf_pages(pdf, options_per_page, seed)
    images = [_as_rgb_jpeg_ready(img) for img, _ in pages]
    buf = io.BytesIO()
    quality = min((o.jpeg_quality or 85) for _, o in pages)
    images[0].save(
        buf,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(pages[0][1].dpi),
        quality=quality,
        title="scan",
        producer="Gongkai synthetic scanner",
        # fixed dates: the same input gives the same bytes
        creationDate=_FIXED_DATE,
        modDate=_FIXED_DATE,
    )
    return buf.getvalue()


def page_images(
    pdf: bytes, options: Sequence[ScanOptions] | ScanOptions, seed: int, fmt: ImageFormat = "png"
) -> list[bytes]:
    """Each degraded page encoded as PNG, JPEG or single-page TIFF (JPEG-compressed)."""
    if fmt not in ("png", "jpeg", "tiff"):
        raise ValueError(f"fmt must be png, jpeg or tiff, not {fmt!r}")
    out = []
    for img, opt in degrade_pdf_pages(pdf, options, seed):
        out.append(encode_image(img, fmt, opt))
    return out


def encode_image(img: Image.Image, fmt: ImageFormat, options: ScanOptions | None = None) -> bytes:
    opt = options or ScanOptions()
    buf = io.BytesIO()
    dpi = (opt.dpi, opt.dpi)
    if fmt == "png":
        img.save(buf, "PNG", dpi=dpi, optimize=False)
    elif fmt == "jpeg":
        img.save(buf, "JPEG", quality=opt.jpeg_quality or 85, dpi=dpi)
    else:
        # YCbCr lets libtiff subsample chroma: a JPEG-compressed TIFF 2-3x smaller than RGB
        img.convert("YCbCr").save(buf, "TIFF", compression="jpeg", quality=opt.jpeg_quality or 85, dpi=dpi)
    return buf.getvalue()


def multipage_tiff(pdf: bytes, options: Sequence[ScanOptions] | ScanOptions, seed: int) -> bytes:
    """All degraded pages in one multi-page TIFF (JPEG-compressed), as a scanner's "scan to file" does."""
    pages = degrade_pdf_pages(pdf, options, seed)
    images = [img.convert("YCbCr") for img, _ in pages]  # chroma subsampling: see encode_image
    quality = min((o.jpeg_quality or 85) for _, o in pages)
    dpi = pages[0][1].dpi
    buf = io.BytesIO()
    images[0].save(
        buf,
        "TIFF",
        save_all=True,
        append_images=images[1:],
        compression="jpeg",
        quality=quality,
        dpi=(dpi, dpi),
    )
    return buf.getvalue()
