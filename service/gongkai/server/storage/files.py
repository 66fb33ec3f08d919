"""Content-addressed file store: a file's name is its sha256, so paths never come from the client.

``FileStore`` is the interface; ``LocalFileStore`` keeps files under a directory. An S3-compatible
store can implement the same four methods later.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


class FileStore(Protocol):
    def put_file(self, path: Path, sha256: str) -> bool:
        """Move a finished temp file in under its hash; False when the object already existed."""
        ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


class SpoolTooLarge(Exception):
    """The stream went past the byte limit while being spooled."""


def _check(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.derived = self.root / "derived"
        for d in (self.objects, self.tmp, self.derived):
            d.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        h = _check(sha256)
        return self.objects / h[:2] / h[2:4] / h

    @contextlib.contextmanager
    def spool(self, stream: BinaryIO, max_bytes: int) -> Iterator[tuple[Path, str, int]]:
        """Copy a stream into a temp file (fsync'd), hashing it; the temp file is gone afterwards
        unless ``put_file`` moved it in."""
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="upload-", suffix=".part")
        path = Path(name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise SpoolTooLarge(f"the file is over the limit of {max_bytes} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            yield path, digest.hexdigest(), size
        finally:
            path.unlink(missing_ok=True)

    def put_file(self, path: Path, sha256: str) -> bool:
        target = self.path_for(sha256)
        if target.exists():
            # An object already here with no row yet (left by a crash): it is in use again, so
            # refresh its mtime to keep the start-up orphan sweep's grace period away from it.
            with contextlib.suppress(FileNotFoundError):
                os.utime(target)
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same filesystem (tmp/ is inside the root), so the rename is atomic: readers see all or nothing.
        os.replace(path, target)
        _fsync_dir(target.parent)
        return True

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    # Derived files (page images) are caches: safe to lose, rebuilt on demand.
    def derived_path(self, sha256: str, name: str) -> Path:
        if not re.fullmatch(r"[a-z0-9._-]{1,64}", name):
            raise ValueError(f"bad derived file name: {name!r}")
        return self.derived / _check(sha256)[:2] / f"{sha256}-{name}"

    def put_derived(self, sha256: str, name: str, data: bytes) -> None:
        target = self.derived_path(sha256, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp, prefix="derived-", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)

    # Crash leftovers: spool files whose upload never finished, objects whose row was never written.
    def sweep_orphans(self, known: set[str], older_than: float, now: float | None = None) -> list[Path]:
        """Delete ``tmp/*.part`` files and objects whose sha256 is not in ``known``, when last modified
        more than ``older_than`` seconds ago (younger ones may belong to an upload in flight in another
        process). An object's derived page images go with it. Returns the paths removed."""
        cutoff = (time.time() if now is None else now) - older_than
        removed: list[Path] = []

        def stale(p: Path) -> bool:
            try:
                return p.is_file() and p.stat().st_mtime < cutoff
            except FileNotFoundError:
                return False

        for part in sorted(self.tmp.glob("*.part")):
            if stale(part):
                part.unlink(missing_ok=True)
                removed.append(part)
        for obj in sorted(self.objects.glob("??/??/*")):
            if _SHA256.match(obj.name) and obj.name not in known and stale(obj):
                obj.unlink(missing_ok=True)
                removed.append(obj)
                for derived in sorted((self.derived / obj.name[:2]).glob(f"{obj.name}-*")):
                    derived.unlink(missing_ok=True)
                    removed.append(derived)
        return removed
