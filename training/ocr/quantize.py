"""Static int8 quantisation of the PP-OCRv6 recogniser, calibrated on the pipeline's own inputs.

Why: recognition is about 70 % of a scanned page's CPU (PP-OCRv6 small, float32, ~87 us per padded
pixel column on one core), and three quarters of that is convolution, which ONNX Runtime runs
much faster in int8. Why static and QDQ: dynamic quantisation leaves activations in float (no gain
for convolutions); QDQ lets ONNX Runtime fuse each Conv/MatMul with its quantise/dequantise pairs
into an integer kernel. Weights are int8 per output channel with 7-bit range (``reduce_range``),
which keeps the uint8 x int8 products of CPUs without VNNI from saturating int16 (AVX2 machines),
so the model reads the same wherever it runs.

The calibration inputs are the exact batches ``OnnxPpOcr`` gives the recogniser (padded, grouped
by width, in parts of at most ``REC_COLUMNS_PER_RUN`` columns) while the pipeline reads a synthetic
corpus of a training seed, so activation ranges come from what the model will see.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Training seed of the calibration corpus; evaluation seeds are chosen fresh and differ.
CALIBRATION_SEED = 4242
MODEL_FILE = "ppocr-v6-rec-int8.onnx"
RECORD_FILE = "build.json"
SOURCE_ENGINE = "ppocr-v6"
# ONNX Runtime's QDQ quantiser needs opset 13 (per-axis DequantizeLinear); the source model is 11.
TARGET_OPSET = 13


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _RecordingSession:
    """Stands in for the recogniser's ONNX Runtime session and keeps a copy of every input."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._lock = threading.Lock()
        self.inputs: list[np.ndarray] = []

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        (x,) = feeds.values()
        with self._lock:
            self.inputs.append(np.array(x, copy=True))
        return self._session.run(names, feeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def calibration_inputs(corpus: Path, log: Callable[[str], None]) -> list[np.ndarray]:
    """The recogniser inputs of reading every scan and image of ``corpus`` with the float model
    (second engine off: only the model being quantised runs)."""
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.ocr.engine import get_engine
    from gongkai.settings import PipelineOptions

    engine = get_engine(SOURCE_ENGINE, threads=1)
    recording = _RecordingSession(engine.rec)
    engine.rec = recording
    # One thread everywhere: every page then runs on this engine (get_engine caches per thread count).
    options = PipelineOptions(ocr_engine=SOURCE_ENGINE, ocr_second_engine="off", ocr_workers=1, ocr_threads=1)
    try:
        for path in sorted(p for p in corpus.iterdir() if p.suffix in (".pdf", ".tif", ".png", ".jpg")):
            extract_path(path, options=options)
            log(f"calibration: read {path.name} ({len(recording.inputs)} recogniser runs so far)")
    finally:
        engine.rec = recording._session
    # Threads may interleave runs; the MinMax ranges do not depend on the order, the record does.
    return sorted(recording.inputs, key=lambda a: (a.shape, hashlib.sha1(a.tobytes()).hexdigest()))


@dataclass(frozen=True)
class QuantChoices:
    """What is quantised and how (the shipped choice is the default; others are for comparison)."""

    reduce_range: bool = True
    exclude: tuple[str, ...] = ()  # node names kept in float
    op_types: tuple[str, ...] | None = None  # None: every op type the quantiser supports
    # "minmax", or "percentile:99.99": ranges that ignore the most extreme activations
    calibration: str = "minmax"


# Histogram calibration needs inputs of one shape: windows of this many columns, one row each.
WINDOW = 320
WINDOWS = 80


def _windows(inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Fixed-shape (1, 3, 48, WINDOW) pieces of the recorded inputs, evenly spread over them."""
    pieces = []
    for batch in inputs:
        for row in batch:
            for x in range(0, row.shape[2], WINDOW):
                piece = np.zeros((1, *row.shape[:2], WINDOW), np.float32)
                part = row[:, :, x : x + WINDOW]
                piece[0, :, :, : part.shape[2]] = part
                pieces.append(piece)
    step = max(1, len(pieces) // WINDOWS)
    return pieces[::step][:WINDOWS]


def build(
    out: Path,
    *,
    seed: int = CALIBRATION_SEED,
    docs: int = 10,
    choices: QuantChoices = QuantChoices(),
    inputs_cache: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    import onnx
    import onnxruntime
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from gongkai.devtools.corpora.synthetic.generate import GenerateConfig, generate
    from gongkai.pipeline.ocr.models import ocr_model_files

    source = ocr_model_files(SOURCE_ENGINE).rec
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gongkai-ocr-int8-") as tmp_name:
        tmp = Path(tmp_name)
        if inputs_cache is not None and inputs_cache.is_file():
            with np.load(inputs_cache) as cached:
                inputs = [cached[k] for k in sorted(cached.files, key=int)]
        else:
            corpus = tmp / "corpus"
            generate(
                GenerateConfig(
                    out_dir=corpus, n=docs, seed=seed, kinds=("scan_pdf", "image"), camera=0.25, workers=2
                )
            )
            inputs = calibration_inputs(corpus, log)
            if inputs_cache is not None:
                np.savez(inputs_cache, **{str(i): a for i, a in enumerate(inputs)})
        columns = sum(int(a.shape[0] * a.shape[3]) for a in inputs)
        log(f"calibration: {len(inputs)} recogniser runs, {columns} padded columns")

        model = onnx.load(str(source))
        metadata = {p.key: p.value for p in model.metadata_props}
        converted = tmp / "rec-opset13.onnx"
        onnx.save(version_converter.convert_version(model, TARGET_OPSET), str(converted))
        prepared = tmp / "rec-prepared.onnx"
        quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)

        method, _, percentile = choices.calibration.partition(":")
        feed = _windows(inputs) if method == "percentile" else inputs
        ranges = CalibrationMethod.Percentile if method == "percentile" else CalibrationMethod.MinMax
        # MinMax keeps running ranges (bounded memory); a histogram keeps every value seen.
        extra: dict[str, Any] = (
            {"CalibPercentile": float(percentile)}
            if method == "percentile"
            else {"CalibMaxIntermediateOutputs": 16}
        )

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self._it: Iterator[np.ndarray] = iter(feed)

            def get_next(self) -> dict[str, np.ndarray] | None:
                x = next(self._it, None)
                return None if x is None else {"x": x}

        quantized = tmp / MODEL_FILE
        quantize_static(
            str(prepared),
            str(quantized),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=choices.reduce_range,
            nodes_to_exclude=list(choices.exclude),
            op_types_to_quantize=list(choices.op_types) if choices.op_types else None,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=ranges,
            extra_options=extra,
        )
        # The engine reads its character list from the model's metadata: carry it over.
        result = onnx.load(str(quantized))
        del result.metadata_props[:]
        for key, value in {**metadata, "gongkai_source_sha256": sha256(source)}.items():
            entry = result.metadata_props.add()
            entry.key, entry.value = key, value
        target = out / MODEL_FILE
        onnx.save(result, str(target))

    record = {
        "file": MODEL_FILE,
        "bytes": target.stat().st_size,
        "sha256": sha256(target),
        "source": {"package": "rapidocr", "file": source.name, "sha256": sha256(source)},
        "method": "static QDQ: int8 weights per channel, uint8 activations, MinMax",
        "choices": {
            "reduce_range": choices.reduce_range,
            "float_nodes": list(choices.exclude),
            "op_types": list(choices.op_types) if choices.op_types else "all",
            "calibration": choices.calibration,
        },
        "calibration": {
            "corpus": f"gongkai corpus generate --n {docs} --seed {seed} "
            "--kinds scan_pdf,image --camera 0.25",
            "recogniser_runs": len(inputs),
            "padded_columns": columns,
        },
        "onnxruntime": onnxruntime.__version__,
        "onnx": onnx.__version__,
        "command": f"python -m training.ocr --out DIR --seed {seed} --docs {docs}",
    }
    (out / RECORD_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return record
