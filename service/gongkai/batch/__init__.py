"""``gongkai batch``: a folder, file list or archive of reports in, a checked dataset out.

One module per concern: ``detect`` (what the bytes are), ``sources`` (walking folders, lists and
archives lazily), ``convert`` (legacy Word through LibreOffice), ``worker`` (one document in a
child process with limits), ``pool`` (the children, timeouts and crashes), ``remote`` (the same over
the Celery workers of ``gongkai worker``, ``--broker``), ``manifest`` (the SQLite state that makes a
run resumable), ``agencies`` (normalised names, levels, re-issue choice), ``crosscheck`` (checks
across documents), ``dataset`` and ``summary`` (the output files), ``progress`` (what the person
watching sees) and ``runner`` (wires them together).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gongkai.batch.runner import BatchConfig, run_batch

__all__ = ["BatchConfig", "run_batch"]


def __getattr__(name: str) -> Any:
    # Lazily: the service imports gongkai.batch.agencies and .sources, and must not need the batch
    # extra (pyarrow, polars, rich, matplotlib) that the runner's dataset and progress use.
    if name in __all__:
        from gongkai.batch import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
