"""Page images: one render per page at a time, a pixel cap on images, the same cached bytes after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")
pytest.importorskip("PIL", reason="Pillow is not installed")

from PIL import Image as PIL_Image

from gongkai.server.api import pages
from gongkai.server.storage.files import LocalFileStore
from gongkai.settings import Settings
from tests.server.api_support import Service, service


def _png(width: int, height: int) -> bytes:
    img = PIL_Image.new("RGB", (width, height), (250, 250, 245))
    img.paste((20, 20, 20), (width // 4, height // 4, width // 2, height // 2))
    buf = BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _store(tmp_path: Path, data: bytes) -> tuple[LocalFileStore, str]:
    import hashlib

    store = LocalFileStore(tmp_path / "data")
    sha = hashlib.sha256(data).hexdigest()
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    store.put_file(src, sha)
    return store, sha


def test_concurrent_fetches_render_a_large_image_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, sha = _store(tmp_path, _png(4400, 3300))
    renders = 0
    running = 0
    most_at_once = 0
    count_lock = threading.Lock()
    real = pages._image_page

    def counting(data: bytes, n: int) -> bytes:
        nonlocal renders, running, most_at_once
        with count_lock:
            renders += 1
            running += 1
            most_at_once = max(most_at_once, running)
        try:
            time.sleep(0.2)  # keep the render open while the other requests arrive
            return real(data, n)
        finally:
            with count_lock:
                running -= 1

    monkeypatch.setattr(pages, "_image_page", counting)
    start = threading.Barrier(4)
    results: list[bytes] = []

    def fetch() -> None:
        start.wait()
        png = pages.page_png(store, sha, "image/png", 1, Settings())
        with count_lock:
            results.append(png)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 4
    assert renders == 1 and most_at_once == 1
    assert len(set(results)) == 1
    with PIL_Image.open(BytesIO(results[0])) as out:
        assert max(out.size) <= pages.MAX_IMAGE_SIDE
        assert out.size == (2000, 1500)  # aspect ratio kept
    # Later fetches come from the cache: still one render, same bytes.
    assert pages.page_png(store, sha, "image/png", 1, Settings()) == results[0]
    assert renders == 1
    assert not pages._flights  # no per-page locks left behind


def test_small_images_are_not_enlarged(tmp_path: Path) -> None:
    store, sha = _store(tmp_path, _png(640, 480))
    with PIL_Image.open(BytesIO(pages.page_png(store, sha, "image/png", 1, Settings()))) as out:
        assert out.size == (640, 480)


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path, workers=0)


def test_page_route_serves_a_capped_image(svc: Service) -> None:
    body = svc.upload(_png(3000, 2400), name="scan.png").json()
    r = svc.client.get(f"/v1/documents/{body['id']}/pages/1.png", headers=svc.h("uploader"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    with PIL_Image.open(BytesIO(r.content)) as out:
        assert out.size == (2000, 1600)
    again = svc.client.get(f"/v1/documents/{body['id']}/pages/1.png", headers=svc.h("uploader"))
    assert again.content == r.content
    missing = svc.client.get(f"/v1/documents/{body['id']}/pages/2.png", headers=svc.h("uploader"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_such_page"
