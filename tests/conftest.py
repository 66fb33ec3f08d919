from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    """../shared beside the checkout (or GONGKAI_SHARED_DIR); None where it is absent."""
    env = os.environ.get("GONGKAI_SHARED_DIR")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


def real_document(name: str) -> Path:
    base = shared_dir()
    if base is None or not (base / "corpus" / "real" / name).is_file():
        pytest.skip(f"../shared/corpus/real/{name} is not available on this machine")
    return base / "corpus" / "real" / name


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in the tests may reach a model hub.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
