"""A real browser against a real server, for the review workspace's tests and screenshots.

``live_server`` runs the app with uvicorn on a free loopback port in a thread (with its own SQLite
database, data folder and keys); ``chromium_path`` finds a Chromium to drive: Playwright's own browser
download cannot work offline, so it drives the system's (Debian's ``chromium`` package), found by
``GONGKAI_CHROMIUM`` or on the PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gongkai.settings import Settings, chromium_override

# What a closed network needs: no background connections, no updates, no first-run UI.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def chromium_path() -> str | None:
    """The Chromium to drive, or None when there is none on this machine."""
    for candidate in (chromium_override(), "chromium", "chromium-browser"):
        if not candidate:
            continue
        found = candidate if os.path.isfile(candidate) else shutil.which(candidate)
        if found and os.access(found, os.X_OK):
            return found
    return None


def launch(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))


@dataclass
class LiveServer:
    url: str
    settings: Settings
    keys: dict[str, str]  # role -> plaintext key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(root: Path, **overrides: Any) -> Iterator[LiveServer]:
    """The service on 127.0.0.1 with a fresh database under ``root`` and one key per role."""
    import uvicorn

    from gongkai.server.api.app import create_app
    from gongkai.server.storage import migrate
    from gongkai.server.storage import repository as repo
    from gongkai.server.storage.db import Database

    settings = Settings(
        database_url=f"sqlite:///{root / 'gongkai.db'}",
        data_dir=root / "data",
        workers=1,
        pool="thread",
        poll_seconds=0.2,
    ).with_overrides(**overrides)
    db = Database(settings.database_url)
    migrate.upgrade(db)
    keys: dict[str, str] = {}
    with db.session() as s:
        for role in ("uploader", "reviewer", "admin"):
            keys[role] = repo.create_key(s, role, f"{role} (test)")[1]
        keys["reviewer2"] = repo.create_key(s, "reviewer", "second reviewer (test)")[1]
    db.dispose()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def sign_in(page: Any, base_url: str, api_key: str) -> None:
    page.goto(f"{base_url}/review/sign-in")
    page.fill("input[name=api_key]", api_key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/review")


def wait_until_done(page: Any, document_id: str, timeout_ms: int = 120_000) -> None:
    """Wait (in the queue) until the document's row shows a settled status."""
    page.wait_for_selector(
        f'tr[data-document-id="{document_id}"][data-status="done"], '
        f'tr[data-document-id="{document_id}"][data-status="failed"]',
        timeout=timeout_ms,
    )
