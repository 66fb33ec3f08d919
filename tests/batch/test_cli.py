"""``gongkai batch`` on the command line: JSON progress lines, quiet mode, the progress bar, bad flags."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from gongkai.batch.progress import JsonReporter, RichReporter
from gongkai.cli import main
from tests.batch.fake import PROCESSOR
from tests.batch.helpers import run


def _inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_bytes(b"agency=A;year=2020")
    (src / "b.txt").write_bytes(b"agency=A;year=2020")  # same bytes as a.txt
    (src / "c.txt").write_bytes(b"FLAKY agency=C;year=2020")
    return src


def test_json_progress_is_one_object_per_line_and_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_TEST_FLAKY", "1")
    src = _inputs(tmp_path)
    out = tmp_path / "out"
    code = main(
        ["batch", str(src), "--out", str(out), "--json-progress", "--processor", PROCESSOR, "--timeout", "60"]
    )
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert events[0]["event"] == "start" and events[0]["total"] == 3
    docs = {Path(e["path"]).name: e for e in events if e["event"] == "document"}
    assert docs["a.txt"]["outcome"] == "done" and docs["a.txt"]["pages"] == 1
    assert docs["b.txt"]["outcome"] == "duplicate"
    assert docs["c.txt"]["outcome"] == "failed" and docs["c.txt"]["error_code"] == "flaky"
    assert events[-1] == {**events[-1], "event": "finish", "counts": {"done": 1, "duplicate": 1, "failed": 1}}
    # --quiet: nothing on stdout, and the rerun skips all three.
    assert main(["batch", str(src), "--out", str(out), "--quiet", "--processor", PROCESSOR]) == 0
    assert capsys.readouterr().out == ""


def test_the_progress_bar_counts_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_TEST_FLAKY", "1")
    buf = io.StringIO()
    reporter = RichReporter(Console(file=buf, width=150, force_terminal=False))
    from gongkai.batch.runner import BatchConfig, run_batch

    counts = run_batch(
        BatchConfig(sources=[str(_inputs(tmp_path))], out_dir=tmp_path / "out", processor=PROCESSOR, argv=[]),
        reporter,
    )
    assert counts == {"done": 1, "duplicate": 1, "failed": 1}
    shown = buf.getvalue()
    assert "failed" in shown and "c.txt: flaky: failed on purpose" in shown
    assert "done 1, failed 1, duplicate 1" in shown


def test_json_reporter_writes_complete_lines() -> None:
    buf = io.StringIO()
    r = JsonReporter(buf)
    r.start(2, 1)
    r.document("x/报告.pdf", "done", {"pages": 3})
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[0]["requeued"] == 1 and lines[1]["path"] == "x/报告.pdf"


def test_bad_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["batch", "x", "--out", "y", "--workers", "0"])
    with pytest.raises(SystemExit):
        main(["batch", "x", "--out", "y", "--quiet", "--json-progress"])
    assert "--workers" in capsys.readouterr().err


def test_a_missing_source_is_listed_not_fatal(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run([tmp_path / "nowhere"], out) == {"failed": 1}
    assert "no such file or folder" in (out / "documents.csv").read_text(encoding="utf-8-sig")


def test_an_empty_batch_writes_empty_tables_of_the_same_shape(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from gongkai.batch.dataset import CELL_SCHEMA, CHECK_SCHEMA, DOCUMENT_SCHEMA

    (tmp_path / "in").mkdir()
    out = tmp_path / "out"
    assert run([tmp_path / "in"], out) == {}
    for name, schema in (("documents", DOCUMENT_SCHEMA), ("cells", CELL_SCHEMA), ("checks", CHECK_SCHEMA)):
        table = pq.read_table(out / f"{name}.parquet")
        assert table.schema.equals(schema) and table.num_rows == 0
    assert (out / "summary.html").read_text(encoding="utf-8").count("<h2>") >= 5
    assert not (out / "tmp").exists()
