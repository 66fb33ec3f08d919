"""Sentence classifiers for the narrative: the ONNX transformer and the TF-IDF baseline.

Both read a sentence with its context tags (section, paragraph position, a forward cue seen
earlier) and return probabilities over LABELS. Neither needs torch: the transformer runs with ONNX
Runtime, the baseline is a linear model stored as JSON and evaluated with numpy. ``default_classifier``
loads the shipped default once per process (and models folder, ``PipelineOptions.models_dir``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gongkai.pipeline.nlp.text import LABELS, SentenceContext
from gongkai.settings import CHECKOUT_MODELS_DIR

MODELS_DIR = CHECKOUT_MODELS_DIR


class ModelLoadError(RuntimeError):
    """A model directory is missing, incomplete or of an unknown kind."""


class SentenceClassifier(Protocol):
    name: str

    def predict_proba(self, contexts: Sequence[SentenceContext]) -> np.ndarray: ...


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class _HFTokenizer:
    """A local pretrained model's own tokenizer (``tokenizer.json``), for ``--base-model`` artifacts."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(path))
        pad = self._tok.token_to_id("[PAD]")
        self._pad = 0 if pad is None else pad

    def batch(
        self, items: Sequence[tuple[Sequence[str], str]], max_len: int
    ) -> tuple[np.ndarray, np.ndarray]:
        self._tok.enable_truncation(max_len)
        encodings = self._tok.encode_batch([" ".join(tags) + " " + text for tags, text in items])
        width = max((len(e.ids) for e in encodings), default=2)
        ids = np.full((len(encodings), width), self._pad, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        return ids, mask


class OnnxSentenceClassifier:
    """The fine-tuned transformer exported to ONNX (``model.onnx`` + ``vocab.txt`` + ``config.json``)."""

    def __init__(self, directory: str | Path, threads: int = 2) -> None:
        import onnxruntime as ort

        from gongkai.pipeline.nlp.tokenizer import CharTokenizer

        directory = Path(directory)
        config = _read_config(directory)
        self.name = str(config.get("name", directory.name))
        self.labels: list[str] = list(config.get("labels", LABELS))
        self.max_len = int(config.get("max_len", 128))
        self._tokenizer: CharTokenizer | _HFTokenizer
        if (directory / "tokenizer.json").is_file():
            self._tokenizer = _HFTokenizer(directory / "tokenizer.json")
        elif (directory / "vocab.txt").is_file():
            self._tokenizer = CharTokenizer.load(directory / "vocab.txt")
        else:
            raise ModelLoadError(f"{directory}: neither vocab.txt nor tokenizer.json")
        model = directory / str(config.get("onnx", "model.onnx"))
        if not model.is_file():
            raise ModelLoadError(f"{model} is missing")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No busy-waiting: on a shared machine spinning threads steal the cores they wait for.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def predict_proba(self, contexts: Sequence[SentenceContext], batch_size: int = 64) -> np.ndarray:
        if not contexts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        # Sort by length so each batch pads little; restore the order at the end.
        order = sorted(range(len(contexts)), key=lambda i: len(contexts[i].text))
        out = np.zeros((len(contexts), len(self.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            ids, mask = self._tokenizer.batch(
                [(contexts[i].tags(), contexts[i].text) for i in chunk], self.max_len
            )
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            (logits,) = self._session.run(["logits"], feeds)
            out[chunk] = _softmax(np.asarray(logits, dtype=np.float32))
        return out


def baseline_features(tags: Sequence[str], words: Sequence[str]) -> list[str]:
    """Word unigrams and bigrams (punctuation dropped) plus the context tags, for the baseline."""
    kept = [w for w in words if w.strip() and not _is_punct(w)]
    feats = [*tags, *kept]
    feats += [f"{a}_{b}" for a, b in pairwise(kept)]
    return feats


def _is_punct(token: str) -> bool:
    import unicodedata

    return all(unicodedata.category(ch).startswith("P") for ch in token)


class BaselineSentenceClassifier:
    """jieba words → TF-IDF (sublinear tf, l2) → multinomial logistic regression, from ``baseline.json``."""

    def __init__(self, directory: str | Path) -> None:
        directory = Path(directory)
        path = directory / "baseline.json"
        if not path.is_file():
            raise ModelLoadError(f"{path} is missing")
        data = json.loads(path.read_text(encoding="utf-8"))
        self.name = str(data.get("name", "baseline"))
        self.labels: list[str] = list(data["labels"])
        self._vocab: dict[str, int] = data["vocabulary"]
        self._idf = np.asarray(data["idf"], dtype=np.float64)
        self._coef = np.asarray(data["coef"], dtype=np.float64)
        self._intercept = np.asarray(data["intercept"], dtype=np.float64)

    def features(self, contexts: Sequence[SentenceContext]) -> np.ndarray:
        from gongkai.pipeline.nlp.segment import words

        x = np.zeros((len(contexts), len(self._vocab)), dtype=np.float64)
        for row, ctx in enumerate(contexts):
            counts: dict[int, int] = {}
            for f in baseline_features(ctx.tags(), words(ctx.text)):
                j = self._vocab.get(f)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            for j, n in counts.items():
                x[row, j] = (1.0 + np.log(n)) * self._idf[j]
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return np.asarray(x / np.where(norms == 0, 1.0, norms))

    def predict_proba(self, contexts: Sequence[SentenceContext]) -> np.ndarray:
        if not contexts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        logits = self.features(contexts) @ self._coef.T + self._intercept
        return _softmax(logits).astype(np.float32)


def _read_config(directory: Path) -> dict[str, Any]:
    path = directory / "config.json"
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a JSON object")
    return data


def load_classifier(directory: str | Path) -> SentenceClassifier:
    """Load whichever kind of classifier ``directory`` holds."""
    directory = Path(directory)
    if (directory / "baseline.json").is_file():
        return BaselineSentenceClassifier(directory)
    if (directory / "config.json").is_file():
        return OnnxSentenceClassifier(directory)
    raise ModelLoadError(f"{directory} holds no narrative classifier")


@dataclass(frozen=True)
class DefaultChoice:
    directory: Path
    reason: str


def default_choice(models_dir: Path | None = None) -> DefaultChoice:
    """The shipped default, named in ``narrative-default.json`` (set by the evaluation) of ``models_dir``
    (``PipelineOptions.models_dir``; default: the checkout's models/)."""
    base = models_dir or MODELS_DIR
    pointer = base / "narrative-default.json"
    if not pointer.is_file():
        raise ModelLoadError(f"{pointer} is missing")
    data = json.loads(pointer.read_text(encoding="utf-8"))
    return DefaultChoice(base / str(data["default"]), str(data.get("reason", "")))


_lock = threading.Lock()
# Per models folder: the loaded classifier, or why it could not be loaded (tried once per process).
_cached: dict[Path, SentenceClassifier] = {}
_load_errors: dict[Path, str] = {}


def default_classifier(models_dir: Path | None = None) -> SentenceClassifier | None:
    """The default classifier of ``models_dir``, loaded once per process and folder; None (with
    ``load_error(models_dir)``) when unavailable."""
    key = models_dir or MODELS_DIR
    with _lock:
        if key not in _cached and key not in _load_errors:
            try:
                _cached[key] = load_classifier(default_choice(key).directory)
            except (ModelLoadError, ImportError, OSError, ValueError, KeyError) as exc:
                _load_errors[key] = f"narrative classifier unavailable ({exc}); using cue rules"
        return _cached.get(key)


def load_error(models_dir: Path | None = None) -> str | None:
    return _load_errors.get(models_dir or MODELS_DIR)
