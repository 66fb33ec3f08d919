"""Walking the sources lazily: folders, file lists and archives (zip, tar.*, 7z, nested), one file at a time.

Nothing is unpacked to disk. A member is read into memory only when the walk reaches it, and at most
``max_bytes`` of it (a larger member is reported, not read). A nested archive is walked from memory,
down to ``max_depth`` levels. Names in zips written without the UTF-8 flag are decoded as GBK (the
Chinese Windows default) when they are not UTF-8.
"""

from __future__ import annotations

import os
import queue
import tarfile
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from gongkai.batch.detect import ARCHIVES, SEVEN_Z_MAGIC, Kind, detect

SEP = "!"  # archive path ! member path, as in jar: URLs


@dataclass
class Entry:
    """One file found by the walk: its bytes, or the reason it could not be read."""

    path: str
    data: bytes | None
    size: int
    mtime: float | None = None
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class WalkLimits:
    max_bytes: int = 100 * 1024 * 1024
    max_depth: int = 4


def walk(sources: list[str], limits: WalkLimits | None = None) -> Iterator[Entry]:
    """Every document under the sources, in a stable order; archives are opened, never yielded."""
    limits = limits or WalkLimits()
    for source in sources:
        yield from _walk_source(source, limits)


def count(sources: list[str]) -> int:
    """How many files the walk will meet, cheaply (archive listings; nested archives count as one)."""
    n = 0
    for path in _top_level_files(sources):
        try:
            kind = archive_kind(path)
            if kind == Kind.ZIP:
                with zipfile.ZipFile(path) as zf:
                    n += sum(1 for i in zf.infolist() if not i.is_dir())
            elif kind == Kind.TAR:
                with tarfile.open(path, "r:*") as tf:
                    n += sum(1 for m in tf if m.isfile())
            elif kind == Kind.SEVEN_Z:
                import py7zr

                with py7zr.SevenZipFile(path) as sz:
                    n += sum(1 for i in sz.list() if not i.is_directory)
            else:
                n += 1
        except Exception:
            n += 1
    return n


def _top_level_files(sources: list[str]) -> Iterator[Path]:
    for source in sources:
        listed = _file_list(source)
        if listed is not None:
            yield from _top_level_files(listed)
            continue
        p = Path(source)
        if p.is_dir():
            yield from (f for f in _dir_files(p))
        elif p.is_file():
            yield p


def _file_list(source: str) -> list[str] | None:
    """The paths of a file list: ``@list.txt``, or a text file whose every line names an existing path."""
    explicit = source.startswith("@")
    p = Path(source[1:] if explicit else source)
    if not p.is_file() or (not explicit and p.stat().st_size > 1024 * 1024):
        return None
    try:
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8-sig").splitlines()]
    except (UnicodeDecodeError, OSError):
        return None
    paths = [ln for ln in lines if ln and not ln.startswith("#")]
    resolved = [str(q if (q := Path(ln)).is_absolute() else p.parent.absolute() / q) for ln in paths]
    if explicit or (resolved and all(os.path.exists(r) for r in resolved)):
        return resolved
    return None


def _dir_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _walk_source(source: str, limits: WalkLimits) -> Iterator[Entry]:
    listed = _file_list(source)
    if listed is not None:
        for item in listed:
            yield from _walk_source(item, limits)
        return
    # Absolute, so the manifest knows a file again whatever folder the command is run from.
    p = Path(source).absolute()
    if p.is_dir():
        for f in _dir_files(p):
            yield from _walk_file(f, limits)
    elif p.is_file():
        yield from _walk_file(p, limits)
    else:
        yield Entry(str(p), None, 0, error_code="bad_input", error=f"no such file or folder: {p}")


def _walk_file(path: Path, limits: WalkLimits) -> Iterator[Entry]:
    try:
        st = path.stat()
        kind = archive_kind(path)
    except OSError as exc:
        yield Entry(str(path), None, 0, error_code="unreadable", error=f"cannot read the file: {exc}")
        return
    if kind is not None:
        # Opened from the path so the archive itself is never held in memory.
        yield from _walk_archive(kind, str(path), lambda: path.open("rb"), limits, depth=1)
        return
    if st.st_size > limits.max_bytes:
        yield _too_large(str(path), st.st_size, limits, st.st_mtime)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield Entry(
            str(path), None, st.st_size, error_code="unreadable", error=f"cannot read the file: {exc}"
        )
        return
    yield Entry(str(path), data, len(data), mtime=st.st_mtime)


def archive_kind(path: Path) -> Kind | None:
    """The archive kind of a file on disk, judged without reading all of it; None for a document."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return Kind.ZIP  # a broken zip: the walk reports it
        return None if "word/document.xml" in names else Kind.ZIP
    if head.startswith(SEVEN_Z_MAGIC):
        return Kind.SEVEN_Z
    if len(head) > 262 and head[257:262] == b"ustar":
        return Kind.TAR
    if head[:2] in (b"\x1f\x8b", b"BZ", b"\xfd7"):
        try:
            return Kind.TAR if tarfile.is_tarfile(path) else None
        except (OSError, EOFError, ValueError):
            return None
    return None


def _too_large(path: str, size: int, limits: WalkLimits, mtime: float | None = None) -> Entry:
    return Entry(
        path, None, size, mtime, "too_large", f"the file is {size} bytes; the limit is {limits.max_bytes}"
    )


def _member(path: str, data: bytes, mtime: float | None, limits: WalkLimits, depth: int) -> Iterator[Entry]:
    """A file read from an archive: a document, or an archive to walk in turn."""
    kind = detect(data)
    if kind not in ARCHIVES:
        yield Entry(path, data, len(data), mtime)
    elif depth >= limits.max_depth:
        yield Entry(
            path, None, len(data), mtime, "too_deep", f"archives nested deeper than {limits.max_depth}"
        )
    else:
        yield from _walk_archive(kind, path, lambda: BytesIO(data), limits, depth + 1)


def _walk_archive(
    kind: Kind, path: str, opener: Callable[[], IO[bytes]], limits: WalkLimits, depth: int
) -> Iterator[Entry]:
    walkers = {Kind.ZIP: _walk_zip, Kind.TAR: _walk_tar, Kind.SEVEN_Z: _walk_7z}
    try:
        yield from walkers[kind](path, opener, limits, depth)
    except _ArchiveBroken as exc:
        yield Entry(path, None, 0, error_code="corrupt", error=f"the {kind} archive is broken: {exc}")


class _ArchiveBroken(Exception):
    pass


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name; without the UTF-8 flag zipfile reads it as cp437, mostly GBK in practice."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename  # zipfile already decoded it otherwise (metadata_encoding)
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _walk_zip(path: str, opener: Callable[[], IO[bytes]], limits: WalkLimits, depth: int) -> Iterator[Entry]:
    fh = opener()
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        fh.close()
        raise _ArchiveBroken(str(exc)) from exc
    with fh, zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = f"{path}{SEP}{zip_member_name(info)}"
            mtime = _zip_time(info)
            if info.file_size > limits.max_bytes:
                yield _too_large(name, info.file_size, limits, mtime)
                continue
            try:
                with zf.open(info) as member:
                    data = member.read(limits.max_bytes + 1)  # a lying header cannot make it read more
            except RuntimeError as exc:  # encrypted member
                yield Entry(name, None, info.file_size, mtime, "encrypted", f"cannot unpack: {exc}")
                continue
            except (
                zipfile.BadZipFile,
                zlib.error,
                OSError,
                EOFError,
                NotImplementedError,
                ValueError,
            ) as exc:
                yield Entry(name, None, info.file_size, mtime, "corrupt", f"cannot unpack: {exc}")
                continue
            if len(data) > limits.max_bytes:
                yield _too_large(name, len(data), limits, mtime)
                continue
            yield from _member(name, data, mtime, limits, depth)


def _zip_time(info: zipfile.ZipInfo) -> float | None:
    import datetime as dt

    try:
        return dt.datetime(*info.date_time).timestamp()
    except ValueError:
        return None


def _walk_tar(path: str, opener: Callable[[], IO[bytes]], limits: WalkLimits, depth: int) -> Iterator[Entry]:
    fh = opener()
    try:
        # Stream mode: members are read in order, compressed tars are decompressed once.
        tf = tarfile.open(fileobj=fh, mode="r|*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError) as exc:
        fh.close()
        raise _ArchiveBroken(str(exc)) from exc
    with fh, tf:
        try:
            for m in tf:
                if not m.isfile():
                    continue
                name = f"{path}{SEP}{m.name}"
                if m.size > limits.max_bytes:
                    yield _too_large(name, m.size, limits, float(m.mtime))
                    continue
                member = tf.extractfile(m)
                if member is None:
                    continue
                data = member.read()
                yield from _member(name, data, float(m.mtime), limits, depth)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            yield Entry(path, None, 0, error_code="corrupt", error=f"the tar archive breaks off: {exc}")


def _walk_7z(path: str, opener: Callable[[], IO[bytes]], limits: WalkLimits, depth: int) -> Iterator[Entry]:
    """py7zr decompresses through callbacks; a thread hands each finished member over, one at a time."""
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    done = object()
    handoff: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    class _Member(Py7zIO):
        def __init__(self, name: str) -> None:
            self.name, self.buf, self.over = name, BytesIO(), False

        def write(self, s: bytes | bytearray) -> int:
            if self.buf.tell() + len(s) > limits.max_bytes:
                self.over = True  # keep counting nothing: the member is reported as too large
                return len(s)
            return self.buf.write(s)

        def read(self, size: int | None = None) -> bytes:
            return self.buf.read(size)

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.buf.seek(offset, whence)

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.buf.getbuffer().nbytes

        def close(self) -> None:
            put((self.name, None if self.over else self.buf.getvalue()))
            self.buf = BytesIO()

    class _Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            return _Member(filename)

    def run() -> None:
        try:
            with py7zr.SevenZipFile(opener()) as sz:
                sz.extract(factory=_Factory())
            put(done)
        except Exception as exc:
            put(exc)

    try:
        with py7zr.SevenZipFile(opener()) as sz:
            dates = {i.filename: i.creationtime for i in sz.list() if not i.is_directory}
    except Exception as exc:
        raise _ArchiveBroken(str(exc)) from exc
    worker = threading.Thread(target=run, name="gongkai-7z", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is done:
                break
            if isinstance(item, Exception):
                yield Entry(path, None, 0, error_code="corrupt", error=f"the 7z archive breaks off: {item}")
                break
            name, data = item
            when = dates.get(name)
            mtime = when.timestamp() if when is not None else None
            full = f"{path}{SEP}{name}"
            if data is None:
                yield _too_large(full, limits.max_bytes + 1, limits, mtime)
            else:
                yield from _member(full, data, mtime, limits, depth)
    finally:
        stop.set()
