"""PP-OCR through ONNX Runtime: text detection (DB) and recognition (CTC) behind a small interface.

The sessions are built from the model files inside the installed wheels (``gongkai.pipeline.ocr.models``) and
reused for every page of the process. Pre- and post-processing are our own so that:

- call options never stick to a shared engine object (a known rapidocr trap),
- the detector input size is ours to choose (the page is deskewed first, so boxes are axis-aligned),
- recognition keeps the per-frame probabilities, from which a digit-only CTC beam search returns the
  top candidates of a numeric cell with their probabilities (used by the repair stage).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import cv2
import numpy as np

from gongkai.pipeline.ocr.models import OcrModelFiles, ocr_model_files, onnx_session
from gongkai.settings import SecondEngineChoice

Candidate = tuple[str, float]
PixelBox = tuple[float, float, float, float]

# Characters the recogniser may print for a zero in a numeric cell (the probe's O/o/。 fold).
ZERO_LOOKALIKES = "0OoＯ〇○。０"
DIGIT_FOLDS: dict[str, str] = {
    **dict.fromkeys(ZERO_LOOKALIKES, "0"),
    **{chr(0xFF11 + i): str(1 + i) for i in range(9)},  # full-width 1-9
}
REC_HEIGHT = 48
# At most this many padded pixel columns (rows x width) go through the recogniser in one run. Its
# output alone is ~9 KB per column (PP-OCRv6: 18 710 classes a frame, a frame per 8 columns), so a
# batch of 32 wide lines made a 500 MB tensor; and on these CPUs a run of 32 rows x 960 columns
# costs 124 us a column against 71 us in runs of 2 rows (caches). A batch is therefore run in parts
# of fewer rows, each padded to the whole batch's width: every crop gets exactly the input it got
# before, so the readings stay the same, and time and peak memory go down (BENCHMARKS.md, issue 15).
REC_COLUMNS_PER_RUN = 2048
# An engine with an int8 recogniser (``ppocr-v6-int8``) reads batches at least this wide with it:
# text lines and labels, about 70 % of a table page's columns, at ~60 % of the float cost. Narrower
# batches, which hold every number of a table (a number is 30-150 columns wide), stay in float:
# the cells, their candidates and confidences are read exactly as before (models/ocr/MODEL_CARD.md).
INT8_FROM_COLUMNS = 256
# An int8 reading less sure than this is read again in float. The int8 model is less robust on
# degraded print (blur, low resolution): its doubtful lines are where it differs from float, and
# re-reading them costs ~5 % of the wide columns on a clean page (models/ocr/MODEL_CARD.md).
INT8_SURE = 0.9


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    bbox: PixelBox  # x0, y0, x1, y1 in pixels of the image given
    score: float


@dataclass(slots=True)
class Recognition:
    """One crop's reading: the greedy text and score, and the frame probabilities that digit decoding
    needs later (``OnnxPpOcr.digit_columns``)."""

    text: str
    score: float
    # (frames, 2 + digits): blank, each digit's mass (look-alikes folded in), the decimal point's.
    # Not the whole softmax: that is (frames, 6 625) per crop, and it was kept for every crop of a
    # page, a view into its batch's output: 200-300 MB per page held until the page was done.
    probs: np.ndarray

    def digit_candidates(self, engine: OcrEngine, top_k: int = 5) -> list[Candidate]:
        return engine.digit_candidates(self.probs, top_k)


class OcrEngine(Protocol):
    """What the page reader (``gongkai.pipeline.ocr.page``) calls on an engine: detection at a chosen
    scale, batched recognition that keeps the frame probabilities, and the digit-only decoding of
    those probabilities. ``OnnxPpOcr`` is the implementation; tests pass fakes."""

    name: str
    det_max_side: int

    def detect(
        self, image: np.ndarray, *, max_side: int | None = None, scale: float | None = None
    ) -> list[tuple[PixelBox, float]]: ...

    def recognize(self, crops: Sequence[np.ndarray]) -> list[Recognition]: ...

    def digit_share(self, probs: np.ndarray) -> float: ...

    def digit_candidates(
        self, probs: np.ndarray, top_k: int = 5, beam: int = 12, *, point: bool = False
    ) -> list[Candidate]: ...


class OnnxPpOcr:
    """PP-OCR detection + recognition sessions (one set per process; see ``get_engine``)."""

    def __init__(
        self,
        files: OcrModelFiles,
        *,
        threads: int | None = None,
        det_max_side: int = 1280,
        rec_batch: int = 32,
    ) -> None:
        self.name = files.name
        self.files = files
        n = threads or max(1, os.cpu_count() or 1)
        self._threads = n
        self._det: Any = None  # built on first use: a second-opinion engine only recognises
        self._load_lock = threading.Lock()
        self.rec = onnx_session(str(files.rec), n)
        self._rec_wide: Any = None  # built on the first wide batch
        meta = self.rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise ValueError(f"{files.rec.name} carries no character list")
        # CTC classes: blank, the model's characters, then the space the models are trained with.
        self.chars: list[str] = ["", *meta["character"].splitlines(), " "]
        self.det_max_side = det_max_side
        self.rec_batch = rec_batch
        self._digit_index = self._digit_classes()
        # Digits and the decimal point, for amounts (万元/元).
        self._amount_index = {
            **self._digit_index,
            ".": [k for k, ch in enumerate(self.chars) if ch in (".", "．")],
        }
        # Where each of _amount_index's sums sits in a Recognition's probs (column 0 is the blank).
        self._column = {key: 1 + j for j, key in enumerate(self._amount_index)}

    @property
    def det(self) -> Any:
        if self._det is None:
            with self._load_lock:
                if self._det is None:
                    self._det = self._detonnx_session()
        return self._det

    def _detonnx_session(self) -> Any:
        return onnx_session(str(self.files.det), self._threads)

    def _rec_session(self, width: int) -> Any:
        """The recogniser for a batch this many columns wide: the int8 one for wide batches, if any."""
        if self.files.rec_wide is None or width < INT8_FROM_COLUMNS:
            return self.rec
        if self._rec_wide is None:
            with self._load_lock:
                if self._rec_wide is None:
                    self._rec_wide = onnx_session(str(self.files.rec_wide), self._threads)
        return self._rec_wide

    # ------------------------------------------------------------------ detection
    def detect(
        self, image: np.ndarray, *, max_side: int | None = None, scale: float | None = None
    ) -> list[tuple[PixelBox, float]]:
        """Axis-aligned text-line boxes (pixels of ``image``) with the detector's box score.

        The input is shrunk so that its longer side is ``max_side``, or by ``scale`` when given
        (a region of a page is read at the page's scale)."""
        h, w = image.shape[:2]
        if scale is None:
            side = max_side or self.det_max_side
            scale = min(1.0, side / max(h, w))
        rh, rw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
        resized = cv2.resize(_bgr(image), (rw, rh), interpolation=cv2.INTER_AREA)
        x = (resized.astype(np.float32) / 255.0 - 0.5) / 0.5
        x = x.transpose(2, 0, 1)[None]
        pred = self.det.run(None, {self.det.get_inputs()[0].name: x})[0][0, 0]
        return _db_boxes(pred, w / rw, h / rh, w, h)

    # ------------------------------------------------------------------ recognition
    def recognize(self, crops: Sequence[np.ndarray]) -> list[Recognition]:
        """Batched recognition, widest crops batched together (less padding). Inside ``ocr_images``'
        page threads the batches run on the shared batch threads (``_batch_threads``): the same
        batches through the same single-threaded session, so the same readings, but a page read
        alone (the last of an odd number) still uses every core."""
        out: list[Recognition | None] = [None] * len(crops)
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        batches = _width_batches(ratios, self.rec_batch)
        pool: Executor | None = getattr(_batch_threads, "pool", None)
        if pool is not None and len(batches) > 1:
            done = list(pool.map(lambda idx: self._recognize_batch(crops, ratios, idx), batches))
        else:
            done = [self._recognize_batch(crops, ratios, idx) for idx in batches]
        for idx, recs in zip(batches, done, strict=True):
            for i, r in zip(idx, recs, strict=True):
                out[i] = r
        return [r for r in out if r is not None]

    def _recognize_batch(
        self, crops: Sequence[np.ndarray], ratios: Sequence[float], idx: list[int]
    ) -> list[Recognition]:
        max_ratio = max(max(ratios[i] for i in idx), 1.0)
        width = math.ceil(REC_HEIGHT * max_ratio)
        batch = np.zeros((len(idx), 3, REC_HEIGHT, width), dtype=np.float32)
        for k, i in enumerate(idx):
            img = _bgr(crops[i])
            w = min(width, max(1, math.ceil(REC_HEIGHT * ratios[i])))
            resized = cv2.resize(img, (w, REC_HEIGHT)).astype(np.float32)
            batch[k, :, :, :w] = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)

        def decode(row: np.ndarray, i: int) -> Recognition:
            # Frames past the crop's own width are padding: drop them.
            frames = max(1, math.ceil(row.shape[0] * min(1.0, REC_HEIGHT * ratios[i] / width)) + 1)
            p = row[: min(frames, row.shape[0])]
            text, score = self._greedy(p)
            return Recognition(text, score, self.digit_columns(p))

        session = self._rec_session(width)
        recs = []
        for start, probs in self._run_rec(session, batch):
            part = [decode(probs[j], idx[start + j]) for j in range(len(probs))]
            if session is not self.rec:
                # Doubtful int8 readings are read again in float, from the same padded input (rows
                # of a batch do not affect each other): a degraded line gets the float reading.
                again = [j for j, r in enumerate(part) if r.score < INT8_SURE]
                if again:
                    floats = self._run_once(self.rec, batch[[start + j for j in again]])
                    for k, j in enumerate(again):
                        part[j] = decode(floats[k], idx[start + j])
            recs.extend(part)
        return recs

    def _run_rec(self, session: Any, batch: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """The recogniser on a padded batch in parts of at most ``REC_COLUMNS_PER_RUN`` columns: the
        first row of each part and its output, decoded before the next part runs (the outputs of a
        whole batch of wide lines together would be the 500 MB this avoids)."""
        rows = max(1, REC_COLUMNS_PER_RUN // batch.shape[3])
        for start in range(0, len(batch), rows):
            yield start, self._run_once(session, batch[start : start + rows])

    @staticmethod
    def _run_once(session: Any, batch: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {session.get_inputs()[0].name: batch})[0])

    def recognize_crops(self, images: Sequence[np.ndarray], top_k: int = 1) -> list[list[Candidate]]:
        """Top-k readings per crop: the greedy text first, then digit-only alternatives where numeric."""
        result: list[list[Candidate]] = []
        for r in self.recognize(images):
            cands: list[Candidate] = [(r.text, r.score)]
            if top_k > 1 and looks_like_digits(r.text):
                for text, p in self.digit_candidates(r.probs, top_k):
                    if text not in (c[0] for c in cands):
                        cands.append((text, p))
            result.append(cands[:top_k])
        return result

    def recognize_page(self, image: np.ndarray) -> list[TextLine]:
        boxes = self.detect(image)
        crops = [crop(image, b) for b, _ in boxes]
        recs = self.recognize(crops)
        return [
            TextLine(r.text, b, r.score * min(1.0, s + 0.3))
            for (b, s), r in zip(boxes, recs, strict=True)
            if r.text.strip()
        ]

    # ------------------------------------------------------------------ decoding
    def _greedy(self, probs: np.ndarray) -> tuple[str, float]:
        best = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        chars: list[str] = []
        scores: list[float] = []
        prev = -1
        for t, k in enumerate(best):
            if k != prev and k != 0:
                chars.append(self.chars[k] if k < len(self.chars) else "")
                scores.append(float(conf[t]))
            prev = int(k)
        text = "".join(chars).strip()
        return text, float(np.mean(scores)) if scores else 0.0

    def _digit_classes(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for k, ch in enumerate(self.chars):
            if k == 0:
                continue
            d = ch if ch.isascii() and ch.isdigit() else DIGIT_FOLDS.get(ch)
            if d is not None:
                index.setdefault(d, []).append(k)
        return index

    def digit_columns(self, probs: np.ndarray) -> np.ndarray:
        """The blank, digit and decimal-point columns of a crop's softmax output (frames, classes), each
        digit summed over its look-alikes: all that ``digit_share`` and ``digit_candidates`` read."""
        cols = [probs[:, 0], *(probs[:, idx].sum(axis=1) for idx in self._amount_index.values())]
        return np.stack(cols, axis=1)

    def digit_share(self, probs: np.ndarray) -> float:
        """How sure the recogniser is that a crop holds only digits: over the frames that print a
        character, the lowest share of the printed mass that falls on digits (and look-alikes).
        ``probs`` as in ``Recognition.probs``."""
        emitting = probs[:, 0] < 0.5
        if not emitting.any():
            return 0.0
        p = probs[emitting]
        digit_mass = sum(p[:, self._column[d]] for d in self._digit_index)
        printed = 1.0 - p[:, 0]
        return float(np.min(digit_mass / np.maximum(printed, 1e-6)))

    def digit_candidates(
        self, probs: np.ndarray, top_k: int = 5, beam: int = 12, *, point: bool = False
    ) -> list[Candidate]:
        """CTC prefix beam search restricted to digits (look-alikes folded in), with probabilities;
        with ``point``, the decimal point too (amounts in 万元/元).

        Each frame's mass is renormalised over blank + digits, so a candidate's score is the
        probability of that digit string given that the cell holds digits.
        """
        index = self._amount_index if point else self._digit_index
        digits = sorted(index)
        cols = probs[:, [self._column[d] for d in digits]]
        blank = probs[:, 0]
        total = blank + cols.sum(axis=1)
        total[total <= 0] = 1.0
        blank, cols = blank / total, cols / total[:, None]
        beams: dict[str, tuple[float, float]] = {"": (1.0, 0.0)}  # prefix -> (p ends blank, p ends char)
        for t in range(len(blank)):
            if blank[t] > 0.999:
                beams = {k: (pb + pnb, 0.0) for k, (pb, pnb) in beams.items()}
                continue
            nxt: dict[str, list[float]] = {}
            for prefix, (pb, pnb) in beams.items():
                e = nxt.setdefault(prefix, [0.0, 0.0])
                e[0] += (pb + pnb) * blank[t]
                for j, d in enumerate(digits):
                    p = cols[t, j]
                    if p < 1e-4:
                        continue
                    new = prefix + d
                    e2 = nxt.setdefault(new, [0.0, 0.0])
                    if prefix and prefix[-1] == d:
                        e2[1] += pb * p  # a repeated digit needs a blank between
                        e[1] += pnb * p  # same digit continued
                    else:
                        e2[1] += (pb + pnb) * p
            ranked = sorted(nxt.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))[:beam]
            beams = {k: (v[0], v[1]) for k, v in ranked}
        scored = sorted(((k, pb + pnb) for k, (pb, pnb) in beams.items() if k), key=lambda kv: -kv[1])
        return [(k, float(p)) for k, p in scored[:top_k]]


def looks_like_digits(text: str) -> bool:
    t = text.strip().replace(",", "").replace("，", "")
    return bool(t) and all(ch.isdigit() or ch in DIGIT_FOLDS or ch == "." for ch in t)


def fold_digits(text: str) -> str:
    return "".join(DIGIT_FOLDS.get(ch, ch) for ch in text)


def _bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return image


def crop(image: np.ndarray, box: PixelBox, pad: int = 0) -> np.ndarray:
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    xa, ya = max(0, int(x0) - pad), max(0, int(y0) - pad)
    xb, yb = min(w, math.ceil(x1) + pad), min(h, math.ceil(y1) + pad)
    return image[ya : max(yb, ya + 1), xa : max(xb, xa + 1)]


def _db_boxes(
    pred: np.ndarray,
    sx: float,
    sy: float,
    width: int,
    height: int,
    *,
    thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip: float = 1.6,
) -> list[tuple[PixelBox, float]]:
    """DB post-processing for a deskewed page: binarise, contours, box score, unclip, rescale."""
    binary = (pred > thresh).astype(np.uint8)
    mask = cv2.dilate(binary, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out: list[tuple[PixelBox, float]] = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if min(w, h) < 3:
            continue
        # Mean probability inside the contour itself: on a page not yet deskewed a long line's
        # bounding rectangle is mostly background, and its mean would drop the line.
        inside = np.zeros((h, w), np.uint8)
        cv2.drawContours(inside, [c - np.array([x, y])], -1, 1, thickness=-1)
        score = float(pred[y : y + h, x : x + w][inside > 0].mean()) if inside.any() else 0.0
        if score < box_thresh:
            continue
        # Expand like DB's unclip: the shrunk text kernel grows back by area * ratio / perimeter.
        d = (w * h) * unclip / (2 * (w + h))
        x0, y0 = max(0.0, (x - d) * sx), max(0.0, (y - d) * sy)
        x1, y1 = min(float(width), (x + w + d) * sx), min(float(height), (y + h + d) * sy)
        out.append(((x0, y0, x1, y1), score))
    out.sort(key=lambda b: (round(b[0][1] / 10), b[0][0]))
    return out


# Set (per page thread) by ``ocr_images``: the threads that recognition batches of a page may use.
_batch_threads = threading.local()
# Page threads ask for the second engine when they first doubt a cell: it must load only once.
_engine_lock = threading.Lock()


@lru_cache(maxsize=4)
def get_engine(name: str, threads: int | None = None) -> OnnxPpOcr:
    """The process-wide engine ``name`` (``PipelineOptions.ocr_engine``): models load once per process."""
    return OnnxPpOcr(ocr_model_files(name), threads=threads)


def second_engine(first: str, choice: SecondEngineChoice = "auto") -> OcrEngine | None:
    """The engine that re-reads doubtful numeric cells (``PipelineOptions.ocr_second_engine``): an
    engine id, ``off``, or ``auto`` for an installed engine of another PP-OCR generation."""
    from gongkai.pipeline.ocr.models import ENGINE_IDS, GENERATION, engine_installed

    if choice == "off":
        return None
    name: str = choice
    if choice == "auto":  # another generation: the same model in float would mostly agree with itself
        others = (e for e in ENGINE_IDS if GENERATION[e] != GENERATION.get(first) and engine_installed(e))
        name = next(others, "")
    if not name or name == first or not engine_installed(name):
        return None
    with _engine_lock:
        return get_engine(name, threads=1)


# A batch is padded to its widest crop; crops up to this much wider than the batch's narrowest join it.
BATCH_WIDTH_SPREAD = 1.3


def _width_batches(ratios: Sequence[float], size: int) -> list[list[int]]:
    """Crop indices in batches of similar width (narrowest first). Recognition costs about the same
    per padded pixel column whatever the batch, so padding is what batching must avoid: a table
    page mixes single digits with long label lines, and fixed batches of the sorted crops padded
    about half of every batch."""
    batches: list[list[int]] = []
    for i in sorted(range(len(ratios)), key=lambda k: ratios[k]):
        last = batches[-1] if batches else None
        similar = last and max(ratios[i], 1.0) <= BATCH_WIDTH_SPREAD * max(ratios[last[0]], 1.0)
        if last and similar and len(last) < size:
            last.append(i)
        else:
            batches.append([i])
    return batches
