"""Fixtures for the review workspace: a live server, and a real Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("jinja2", reason="the service extra (jinja2) is not installed")

from gongkai.devtools.browser import LiveServer, chromium_path, launch, live_server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[browser]')"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium, or set GONGKAI_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        b = launch(p, executable)
        yield b
        b.close()
