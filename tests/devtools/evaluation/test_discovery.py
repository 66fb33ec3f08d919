"""Discovery: truth files, their documents (or why they are skipped), the selection of a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.devtools.evaluation import evaluate
from gongkai.devtools.evaluation.discovery import default_documents_dir, discover, select
from tests.conftest import REPO, shared_dir
from tests.devtools.evaluation.support import report_spec, truth_of


def test_missing_and_unreadable_documents_are_skipped_with_a_reason(tmp_path: Path) -> None:
    truth_of(report_spec(), "absent.pdf", "pdf").save(tmp_path / "absent.truth.json")
    (tmp_path / "notes.txt").write_text("text", encoding="utf-8")
    truth_of(report_spec(), "notes.txt", "pdf").save(tmp_path / "notes.truth.json")
    rep = evaluate([tmp_path], workers=0)
    reasons = {d.document: d.error for d in rep.documents}
    assert rep.total.skipped == 2 and rep.total.documents == 0
    assert "not found" in str(reasons["absent.pdf"]) and "not an input kind" in str(reasons["notes.txt"])


def test_select_round_robins_over_kinds(corpus: Path) -> None:
    items, _ = discover([corpus])
    assert [i.truth.kind for i in select(items, limit=2)] == ["pdf", "html"]
    assert sorted(i.truth.kind for i in select(items, kinds=["docx", "html"])) == ["docx", "html"]


def test_documents_are_looked_up_in_the_shared_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shared folder comes from gongkai.settings (GONGKAI_SHARED_DIR), not from the harness.
    monkeypatch.setenv("GONGKAI_SHARED_DIR", str(tmp_path / "shared"))
    assert default_documents_dir() is None
    real = tmp_path / "shared" / "corpus" / "real"
    real.mkdir(parents=True)
    assert default_documents_dir() == real
    (real / "elsewhere.pdf").write_bytes(b"%PDF-1.4\n")
    truths = tmp_path / "truth"
    truths.mkdir()
    truth_of(report_spec(), "elsewhere.pdf", "pdf").save(truths / "elsewhere.truth.json")
    [item], _ = discover([truths])
    assert item.document == real / "elsewhere.pdf" and item.skip_reason is None


# --------------------------------------------------------------------------- real documents


def test_real_truth_folder_resolves_documents_in_shared() -> None:
    if shared_dir() is None or not (shared_dir() / "corpus" / "real" / "huaian-hongze-2023.pdf").is_file():  # type: ignore[operator]
        pytest.skip("../shared/corpus/real is not available on this machine")
    rep = evaluate([REPO / "corpora" / "real" / "truth"], workers=0)
    by_doc = {d.document: d for d in rep.documents}
    hongze = by_doc["huaian-hongze-2023.pdf"]
    assert hongze.status == "ok" and hongze.cells_scored == 200 and not hongze.consistent
    assert by_doc["haizhou-2022.txt"].status == "skipped"  # a text dump, not a document
