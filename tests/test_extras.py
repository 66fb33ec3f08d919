"""Each install keeps working without the extras it does not name: the service (the `service`
extra) must start without the `batch` extra's packages, and the CLI must load without them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("fastapi", reason="the service extra is not installed")

BATCH_ONLY = ("pyarrow", "polars", "py7zr", "rich", "matplotlib")


def _runs_without(packages: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    blocker = textwrap.dedent(
        f"""
        import sys
        BLOCKED = {packages!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
                return None

        sys.meta_path.insert(0, Block())
        """
    )
    return subprocess.run(
        [sys.executable, "-c", blocker + code], capture_output=True, text=True, timeout=300, check=False
    )


def test_the_service_starts_without_the_batch_extra(tmp_path: object) -> None:
    code = textwrap.dedent(
        """
        from gongkai.server.api.app import create_app
        from gongkai.settings import Settings
        import tempfile, pathlib
        root = pathlib.Path(tempfile.mkdtemp())
        app = create_app(Settings(database_url=f"sqlite:///{root}/db.sqlite", data_dir=root / "data"))
        assert "/v1/batches" in app.openapi()["paths"]
        import gongkai.cli
        gongkai.cli.build_parser()
        print("ok")
        """
    )
    done = _runs_without(BATCH_ONLY, code)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]
