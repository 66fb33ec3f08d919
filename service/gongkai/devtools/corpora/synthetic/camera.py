"""Make a rendered page look photographed: curl, perspective, a surround, uneven warm light, blur.

A phone photo of a printed page differs from a flatbed scan in geometry and light, not in content:
the page is a quadrilateral (perspective) on a table or desk, sometimes curved near the binding,
lit from one side with a warm cast; the lens blurs a little and the sensor adds colour noise. The
content is untouched, so the document's truth stays exact.

Steps (each from the page's own ``numpy.random.Generator``, so a seed gives the same bytes):

1. curl: a smooth displacement field bends text lines near the binding (left edge) and bulges the
   page a little, as a page that does not lie flat;
2. perspective: the page corners move by up to ``corner_shift`` of the page size (plus a small
   rotation) and the page lands inside a frame with a ``margin`` of surround; with ``touch`` one
   side of the page reaches the frame edge;
3. surround: a dark table, a white sheet, or a busy desk (papers, shadows) behind the page;
4. light: brightness falling off from a light spot, a warm (yellow-orange) cast;
5. lens blur and colour sensor noise (the JPEG step is the caller's, as for scans).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

Surround = Literal["dark", "white", "busy"]


@dataclass(frozen=True)
class CameraOptions:
    """One photographed page. Defaults: a mild phone photo on a dark table."""

    corner_shift: float = 0.03  # max corner displacement, fraction of the page side
    rotate_deg: float = 0.0  # the whole page turned in the frame (on top of the corner shifts)
    margin: float = 0.06  # surround visible around the page, fraction of the page side
    touch: bool = False  # one side of the page reaches (and is cut by) the frame edge
    surround: Surround = "dark"
    curl: float = 0.0  # bend near the binding: displacement at the page corner, fraction of height
    bulge: float = 0.0  # sag of the whole page: arc height of a row, fraction of page height
    light: float = 0.3  # brightness lost at the far side of the page (0 = even light)
    warm: float = 0.5  # warm cast, 0 = neutral, 1 = strong tungsten
    blur: float = 0.7  # Gaussian lens blur (pixels at 200 dpi)
    noise: float = 0.02  # colour sensor noise, fraction of full scale

    def __post_init__(self) -> None:
        if not 0 <= self.corner_shift <= 0.15:
            raise ValueError("corner_shift must be in [0, 0.15]")
        if not 0 <= self.margin <= 0.5:
            raise ValueError("margin must be in [0, 0.5]")
        if self.surround not in ("dark", "white", "busy"):
            raise ValueError(f"surround must be dark, white or busy, not {self.surround!r}")
        if min(self.curl, self.bulge, self.light, self.warm, self.blur, self.noise) < 0:
            raise ValueError("curl, bulge, light, warm, blur and noise must be >= 0")
        if self.light >= 0.9:
            raise ValueError("light must be < 0.9 (a page darker than that is unreadable)")

    @classmethod
    def random(cls, rng: random.Random, kind: str = "phone") -> CameraOptions:
        """``phone``: a hand-held photo; ``mild``: a document camera / careful photo (white surround)."""
        if kind == "mild":
            return cls(
                corner_shift=round(rng.uniform(0.01, 0.03), 3),
                rotate_deg=round(rng.uniform(-1.0, 1.0), 2),
                margin=round(rng.uniform(0.02, 0.05), 3),
                surround="white",
                light=round(rng.uniform(0.0, 0.15), 2),
                warm=round(rng.uniform(0.0, 0.3), 2),
                blur=round(rng.uniform(0.3, 0.7), 2),
                noise=round(rng.uniform(0.005, 0.015), 3),
            )
        if kind == "phone":
            curved = rng.random() < 0.35
            return cls(
                corner_shift=round(rng.uniform(0.02, 0.06), 3),
                rotate_deg=round(rng.uniform(-3.0, 3.0), 2),
                margin=round(rng.uniform(0.03, 0.10), 3),
                touch=rng.random() < 0.15,
                surround=rng.choices(["dark", "busy", "white"], weights=[60, 25, 15])[0],  # type: ignore[arg-type]
                curl=round(rng.uniform(0.006, 0.015), 4) if curved else 0.0,
                bulge=round(rng.uniform(0.002, 0.006), 4) if curved else 0.0,
                light=round(rng.uniform(0.15, 0.45), 2),
                warm=round(rng.uniform(0.2, 0.8), 2),
                blur=round(rng.uniform(0.4, 1.0), 2),
                noise=round(rng.uniform(0.01, 0.03), 3),
            )
        raise ValueError(f"unknown camera kind {kind!r}; choose phone or mild")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _curl_maps(w: int, h: int, opt: CameraOptions, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Inverse maps (for cv2.remap) of a page bent near its left edge and sagging in the middle."""
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    cy = h / 2.0
    zone = 0.3 * w  # the binding bends the page over its first 30 %
    g = np.clip(1.0 - xs / zone, 0.0, 1.0) ** 2
    # near the binding rows fan out from the middle of the page (the paper lifts towards the lens)
    dy = opt.curl * h * g * (ys - cy) / cy
    # the whole sheet sags: every row becomes an arc, highest in the middle of the page
    dy = dy + opt.bulge * h * np.sin(math.pi * xs / w) * float(gen.choice([-1.0, 1.0]))
    dx = -opt.curl * 0.5 * w * g * np.ones_like(ys)  # foreshortened near the binding
    return (xs - dx).astype(np.float32) * np.ones_like(ys), (ys - dy).astype(np.float32)


def _surround(fw: int, fh: int, kind: Surround, gen: np.random.Generator) -> np.ndarray:
    """The frame behind the page (RGB float32 0-255)."""
    if kind == "white":
        base = np.full((fh, fw, 3), gen.uniform(225, 248), np.float32)
        return base
    small = gen.normal(0.0, 1.0, size=(max(2, fh // 40), max(2, fw // 40), 1)).astype(np.float32)
    field = cv2.resize(small, (fw, fh), interpolation=cv2.INTER_CUBIC)[..., None]
    if kind == "dark":
        colour = np.array(
            [(70, 52, 38), (45, 45, 50), (95, 75, 55), (30, 32, 36)][int(gen.integers(0, 4))], np.float32
        )
        grain = cv2.resize(
            gen.normal(0.0, 1.0, size=(fh // 4 + 1, 8)).astype(np.float32),
            (fw, fh),
            interpolation=cv2.INTER_LINEAR,
        )[..., None]  # wood-like streaks along the table
        return np.clip(colour * (1.0 + 0.12 * field + 0.08 * grain), 0, 255)
    # busy: a mid-grey desk with other papers, a keyboard-dark block and pens lying around
    desk = np.clip(np.array([120, 115, 105], np.float32) * (1.0 + 0.1 * field), 0, 255)
    for _ in range(int(gen.integers(4, 9))):
        x0, y0 = int(gen.integers(0, fw)), int(gen.integers(0, fh))
        ww, hh = int(gen.integers(fw // 8, fw // 2)), int(gen.integers(fh // 10, fh // 3))
        shade = float(gen.choice([35.0, 200.0, 230.0, 160.0]))
        desk[y0 : y0 + hh, x0 : x0 + ww] = shade
    for _ in range(int(gen.integers(2, 5))):
        p = (int(gen.integers(0, fw)), int(gen.integers(0, fh)))
        q = (int(gen.integers(0, fw)), int(gen.integers(0, fh)))
        cv2.line(desk, p, q, (20.0, 20.0, 120.0), int(gen.integers(3, 9)))
    return desk


def photograph(
    img: Image.Image, opt: CameraOptions, gen: np.random.Generator
) -> tuple[Image.Image, list[list[float]]]:
    """The page photographed as ``opt`` says, and where its corners landed (frame pixels, TL TR BR BL)."""
    page: np.ndarray = np.asarray(img.convert("RGB"), dtype=np.uint8)
    h, w = page.shape[:2]
    alpha: np.ndarray = np.full((h, w), 255, np.uint8)
    if opt.curl > 0 or opt.bulge > 0:
        mx, my = _curl_maps(w, h, opt, gen)
        page = cv2.remap(
            page, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
        )
        alpha = cv2.remap(alpha, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    m = opt.margin
    fw, fh = round(w * (1 + 2 * m)), round(h * (1 + 2 * m))
    ox, oy = w * m, h * m
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    shift = gen.uniform(-opt.corner_shift, opt.corner_shift, size=(4, 2)) * np.array([w, h])
    dst: np.ndarray = src + np.array([ox, oy]) + shift
    if opt.rotate_deg:
        c = dst.mean(axis=0)
        turn = math.radians(opt.rotate_deg)
        rot = np.array([[math.cos(turn), math.sin(turn)], [-math.sin(turn), math.cos(turn)]])
        dst = (dst - c) @ rot.T + c
    if opt.touch:
        side = int(gen.integers(0, 4))  # push the page past one frame edge by 0.5-1.5 % of the page
        push = gen.uniform(0.005, 0.015) * (w if side in (1, 3) else h)
        if side == 0:
            dst[:, 1] -= dst[:, 1].min() + push
        elif side == 1:
            dst[:, 0] += fw - dst[:, 0].max() + push
        elif side == 2:
            dst[:, 1] += fh - dst[:, 1].max() + push
        else:
            dst[:, 0] -= dst[:, 0].min() + push
    hom = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(page, hom, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    cover = cv2.warpPerspective(alpha, hom, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=0)
    a = (cover.astype(np.float32) / 255.0)[..., None]
    frame: np.ndarray = warped.astype(np.float32) * a + _surround(fw, fh, opt.surround, gen) * (1.0 - a)
    if opt.surround != "white":
        # the page casts a soft shadow on the table along one side
        shadow = cv2.GaussianBlur(cover, (0, 0), sigmaX=w * 0.01)
        shadow = np.roll(shadow, (int(h * 0.006), int(w * 0.006)), axis=(0, 1)).astype(np.float32) / 255.0
        frame *= 1.0 - 0.35 * (shadow * (1.0 - a[..., 0]))[..., None]

    # light: falls off with the distance from a spot off one corner; warm white balance
    if opt.light > 0:
        lx, ly = gen.uniform(-0.2, 1.2) * fw, gen.uniform(-0.2, 1.2) * fh
        yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
        d = np.sqrt((xx - lx) ** 2 + (yy - ly) ** 2)
        d /= float(d.max())
        frame *= (1.0 - opt.light * d**1.5)[..., None]
    if opt.warm > 0:
        frame *= np.array([1.0, 1.0 - 0.07 * opt.warm, 1.0 - 0.22 * opt.warm], np.float32)  # RGB
    if opt.blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), sigmaX=opt.blur * w / 1654.0)
    if opt.noise > 0:
        frame += gen.standard_normal(size=frame.shape, dtype=np.float32) * (opt.noise * 255.0)
    out = Image.fromarray(np.clip(np.rint(frame), 0, 255).astype(np.uint8), "RGB")
    return out, [[round(float(x), 1), round(float(y), 1)] for x, y in dst]
