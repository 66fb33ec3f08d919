"""Word 97–2003 (.doc) and WPS Office (.wps) files to DOCX through LibreOffice, headless.

Each conversion runs ``soffice`` in its own session (so a timeout kills all of its processes) with a
user profile of its own: two LibreOffice processes sharing a profile wait on each other's lock, and
a profile left half-written by a killed run must not break the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from gongkai.errors import GongkaiError


class ConversionError(GongkaiError):
    code = "conversion_failed"


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(data: bytes, *, timeout: float = 120.0, profile_dir: Path | None = None) -> bytes:
    """The DOCX LibreOffice makes of a legacy Word file; raises ``ConversionError`` with the reason."""
    binary = soffice_binary()
    if binary is None:
        raise ConversionError("a legacy Word/WPS file needs LibreOffice (soffice), which is not installed")
    with tempfile.TemporaryDirectory(prefix="gongkai-soffice-") as tmp:
        work = Path(tmp)
        # The name says .doc whatever the file was called: the content decided, and WPS files are
        # this binary format (a .wps name would send LibreOffice to its Works importer).
        src = work / "input.doc"
        src.write_bytes(data)
        profile = profile_dir or work / "profile"
        cmd = [
            binary,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(src),
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, cwd=work
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ConversionError(f"LibreOffice did not convert the file within {timeout:g} s") from None
        result = work / "out" / "input.docx"
        if proc.returncode != 0 or not result.is_file():
            detail = (err or out).decode("utf-8", "replace").strip().splitlines()
            why = next((ln for ln in reversed(detail) if "javaldx" not in ln), f"exit {proc.returncode}")
            raise ConversionError(f"LibreOffice could not convert the file: {why[:200]}")
        return result.read_bytes()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # soffice forks soffice.bin: the whole session goes, not just the launcher we know the id of.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
