"""`gongkai worker` (Celery) whose first extraction stalls until the process is killed: the fault tests'
way to make "mid-job" deterministic. Run as ``python -m tests.server.celery_stall_worker MARKER``.

The first prefork child to reach an extraction creates MARKER (with its pid) and sleeps while its
heartbeat keeps the lease; any extraction after that (a later worker, the marker exists) runs normally.
The patch is made in the parent before Celery forks, so the children inherit it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any


def stall_first_extraction(marker: Path) -> None:
    """Patch extraction in this process (and the children it forks) so that the first extraction to
    create ``marker`` writes its pid there and sleeps until killed; every other one runs normally."""
    import gongkai.pipeline.extract as extract

    real = extract.extract_bytes

    def stall_once(data: bytes, filename: str, **kw: Any) -> Any:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return real(data, filename, **kw)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(120)  # the test kills this worker long before; a bound if it does not
        return real(data, filename, **kw)

    extract.extract_bytes = stall_once  # type: ignore[assignment]


def main(marker: Path) -> int:
    from gongkai.cli import main as cli

    stall_first_extraction(marker)
    return cli(["worker", "--concurrency", "1", "--loglevel", "WARNING"])


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
