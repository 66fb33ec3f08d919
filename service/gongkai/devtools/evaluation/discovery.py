"""Finding what to evaluate: corpus folders, their truth files and manifests, and each truth's document.

A corpus is a folder of ``<id>.truth.json`` files (``corpora.truth.Truth``) beside their documents;
hand-made truth files such as ``corpora/real/truth/*.json`` work too, their documents resolved against
``--documents-dir`` or the shared real corpus (``gongkai.settings.shared_dir()``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gongkai.devtools.corpora.truth import InputKind, Truth, load_truth
from gongkai.errors import InputError
from gongkai.settings import shared_dir

INPUT_KINDS: tuple[InputKind, ...] = ("pdf", "scan_pdf", "image", "html", "docx")
# Files the pipeline is meant to read; a truth file naming anything else (e.g. the haizhou .txt dump)
# is listed as skipped rather than counted as an extraction failure.
READABLE_SUFFIXES = frozenset(
    {".pdf", ".html", ".htm", ".docx", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)


@dataclass
class CorpusInfo:
    path: str
    truth_files: int
    manifest: dict[str, Any] | None = None

    def describe(self) -> str:
        """One line naming the seeds and splits the corpus was made with (the held-out rule)."""
        if self.manifest is None:
            return f"{self.path}: {self.truth_files} truth files, no manifest.json (seed/split unknown)"
        m = self.manifest
        parts = [f"{self.path}: {self.truth_files} truth files"]
        for key in ("generator", "version", "seed", "n", "split"):
            if key in m and not isinstance(m[key], dict | list):
                parts.append(f"{key}={m[key]}")
        splits = m.get("splits")
        if isinstance(splits, dict):
            parts.append("splits " + ", ".join(f"{k}: {_brief(v)}" for k, v in splits.items()))
        return "; ".join(parts)


def _brief(v: Any) -> str:
    if isinstance(v, list):
        return f"{len(v)} documents"
    if isinstance(v, dict):
        return ", ".join(f"{k}={x}" for k, x in v.items() if not isinstance(x, dict | list))
    return str(v)


@dataclass
class Item:
    """One document to evaluate: its truth, where the document is, or why it is skipped."""

    truth_path: Path
    truth: Truth
    corpus: str
    document: Path | None
    split: str | None = None
    skip_reason: str | None = None

    @property
    def name(self) -> str:
        return self.truth.document


def default_documents_dir() -> Path | None:
    """Where real reports live: $GONGKAI_SHARED_DIR/corpus/real or ../shared/corpus/real."""
    path = shared_dir() / "corpus" / "real"
    return path if path.is_dir() else None


def _truth_files(folder: Path) -> list[Path]:
    found = sorted(folder.rglob("*.truth.json"))
    if found:
        return found
    # Hand-made truth folders (corpora/real/truth) name files <id>.json: take those that parse.
    return sorted(p for p in folder.glob("*.json") if p.name != "manifest.json")


def _manifest(folder: Path) -> dict[str, Any] | None:
    for candidate in (folder / "manifest.json", folder.parent / "manifest.json"):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{candidate}: unreadable manifest ({exc})") from exc
            return data if isinstance(data, dict) else {"manifest": data}
    return None


def _split_of(truth: Truth, manifest: dict[str, Any] | None) -> str | None:
    extra = truth.model_extra or {}
    if isinstance(extra.get("split"), str):
        return str(extra["split"])
    if manifest is None:
        return None
    splits = manifest.get("splits")
    if isinstance(splits, dict):
        stem = truth.document.rsplit(".", 1)[0]
        for name, members in splits.items():
            if isinstance(members, list) and (truth.document in members or stem in members):
                return str(name)
    split = manifest.get("split")
    return str(split) if isinstance(split, str) else None


def discover(
    corpora: Sequence[str | Path], documents_dir: str | Path | None = None
) -> tuple[list[Item], list[CorpusInfo]]:
    """Every truth file under the corpus folders, with its document resolved (or a skip reason)."""
    doc_dirs = [Path(documents_dir)] if documents_dir else []
    shared = default_documents_dir()
    if shared is not None:
        doc_dirs.append(shared)
    items: list[Item] = []
    infos: list[CorpusInfo] = []
    for corpus in corpora:
        folder = Path(corpus)
        if not folder.is_dir():
            raise InputError(f"no such corpus folder: {folder}")
        manifest = _manifest(folder)
        files = _truth_files(folder)
        count = 0
        for tp in files:
            try:
                truth = load_truth(tp)
            except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                if tp.name.endswith(".truth.json"):
                    raise InputError(f"{tp}: not a valid truth file ({first_line(exc)})") from exc
                continue  # a stray JSON file in a hand-made folder
            count += 1
            items.append(_item(tp, truth, str(folder), doc_dirs, manifest))
        if count == 0:
            raise InputError(f"no truth files (*.truth.json or truth *.json) in {folder}")
        infos.append(CorpusInfo(str(folder), count, manifest))
    return items, infos


def _item(tp: Path, truth: Truth, corpus: str, doc_dirs: list[Path], manifest: dict[str, Any] | None) -> Item:
    split = _split_of(truth, manifest)
    candidates = [tp.parent / truth.document, *(d / truth.document for d in doc_dirs)]
    doc = next((c for c in candidates if c.is_file()), None)
    if doc is None:
        where = ", ".join(str(c.parent) for c in candidates)
        return Item(
            tp, truth, corpus, None, split, f"document {truth.document} not found (looked in {where})"
        )
    if doc.suffix.lower() not in READABLE_SUFFIXES:
        reason = f"{doc.suffix} is not an input kind the pipeline reads (a reference text, not a document)"
        return Item(tp, truth, corpus, doc, split, reason)
    return Item(tp, truth, corpus, doc, split)


def select(items: list[Item], kinds: Sequence[str] | None = None, limit: int | None = None) -> list[Item]:
    """Filter by input kind; ``limit`` takes documents round-robin over kinds so a subset covers all."""
    chosen = [it for it in items if kinds is None or it.truth.kind in kinds]
    if limit is None or limit >= len(chosen):
        return chosen
    by_kind: dict[str, list[Item]] = {}
    for it in chosen:
        by_kind.setdefault(it.truth.kind, []).append(it)
    queues = [by_kind[k] for k in INPUT_KINDS if k in by_kind]
    out: list[Item] = []
    depth = 0
    while len(out) < limit:
        for q in queues:
            if depth < len(q) and len(out) < limit:
                out.append(q[depth])
        depth += 1
    return out


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, else its type name."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
