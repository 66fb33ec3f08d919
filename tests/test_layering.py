"""The package's layering, read from the source: imports only run downwards.

pipeline ← server ← commands, and devtools beside them: the runtime (pipeline, server) never imports
the developer tools, the pipeline never imports the server, and nothing imports the old top-level
names `service` or `corpora`. The batch runner (gongkai.batch) builds on the pipeline alone. Imports
inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "gongkai"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules(group: str) -> list[Path]:
    return sorted((PACKAGE / group).rglob("*.py"))


def _offenders(group: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _modules(group)
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_the_package_is_where_the_layout_says() -> None:
    assert (PACKAGE / "__init__.py").is_file()
    for group in ("pipeline", "server", "devtools", "batch"):
        assert _modules(group), f"gongkai.{group} has no modules"


@pytest.mark.parametrize(
    ("group", "forbidden"),
    [
        (
            "pipeline",
            ("gongkai.server", "gongkai.batch", "gongkai.devtools", "gongkai.commands", "gongkai.cli"),
        ),
        ("server", ("gongkai.devtools", "gongkai.commands", "gongkai.cli")),
        # The batch runner builds on the pipeline and the settings only. Its Celery path sends tasks
        # by name (gongkai.batch.remote); the task itself is the server's (see the test below).
        ("batch", ("gongkai.server", "gongkai.devtools", "gongkai.commands", "gongkai.cli")),
    ],
)
def test_imports_only_run_downwards(group: str, forbidden: tuple[str, ...]) -> None:
    assert _offenders(group, forbidden) == []


def test_the_batch_celery_task_is_the_servers_and_runs_the_batch_worker() -> None:
    # `gongkai batch --broker` and `gongkai worker` share one per-document function: the task in the
    # server calls the batch's, so neither copies the other and the batch never imports the server.
    task = _imports(PACKAGE / "server" / "jobs" / "batch_task.py")
    assert "gongkai.batch.worker.process_document" in task
    assert "gongkai.server.jobs.batch_task" in _imports(PACKAGE / "server" / "jobs" / "celery_app.py")


def test_no_module_uses_the_old_top_level_names() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in ("service", "corpora")
    ]
    assert offenders == []


def test_api_modules_do_not_import_the_app_factory() -> None:
    # The app includes the routers; a router importing the app back is the cycle that was removed.
    offenders = [
        o
        for o in _offenders("server/api", ("gongkai.server.api.app",))
        if not o.startswith("server/api/app.py")
    ]
    assert offenders == []


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that silently finds nothing: this very rule must find real imports.
    assert "gongkai.pipeline.datamodel" in _imports(PACKAGE / "pipeline" / "layout.py")
