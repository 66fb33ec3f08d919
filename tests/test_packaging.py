"""What `pip install gongkai` installs: the one import package `gongkai`, with its data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (the dev extra)")
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the build backend comes from this environment, so nothing is downloaded.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = out.glob("gongkai-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_installs_only_the_gongkai_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"gongkai"}
    top_level = next(n for n in wheel.namelist() if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(top_level).decode().split() == ["gongkai"]


def test_the_wheel_carries_the_schema_the_dictionary_and_the_migrations(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for fid in ("2021", "2019", "legacy"):
        assert f"gongkai/pipeline/schema/format-{fid}.yaml" in names
    assert "gongkai/pipeline/schema/common.yaml" in names
    assert "gongkai/pipeline/nlp/userdict.txt" in names
    assert "gongkai/py.typed" in names
    # The review workspace's templates and static files travel with the package (no CDN, no build).
    for page in ("base", "queue", "document", "history", "sign_in"):
        assert f"gongkai/server/web/templates/{page}.html" in names
    for asset in ("review.css", "api.js", "queue.js", "document.js"):
        assert f"gongkai/server/web/static/{asset}" in names
    assert any(n.startswith("gongkai/server/storage/migrations/versions/0001") for n in names)


def test_the_console_script_points_into_the_package(wheel: zipfile.ZipFile) -> None:
    entry = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "gongkai = gongkai.cli:main" in wheel.read(entry).decode()
