"""The evaluation harness: text metrics, scoring against truth, the CLI and its JSON."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.cli import main
from gongkai.devtools.corpora.synthetic import render_docx, render_html, render_pdf
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec, SectionSpec, blank_spec
from gongkai.devtools.corpora.truth import InjectedError, Truth, TruthParagraph
from gongkai.devtools.evaluation import (
    Item,
    Outcome,
    Report,
    char_errors,
    discover,
    evaluate,
    extracted_page_text,
    levenshtein,
    levenshtein_rowwise,
    macro_f1,
    match_paragraphs,
    render_tables,
    run_items,
    run_one,
    score,
    select,
    truth_page_texts,
)
from gongkai.pipeline.schema import load_format
from tests.conftest import REPO, shared_dir

AGENCY = "某某市某某区人民政府"
PREAMBLE = (
    "本报告根据《中华人民共和国政府信息公开条例》要求编制，统计期限自2021年1月1日起至2021年12月31日止。"
)
OVERVIEW = "2021年，{a}坚持以人民为中心，围绕中心工作深化政务公开，主动公开各类政府信息共计1200余条。"
PROBLEM = "一是政务公开工作存在不足，部分单位对政务公开重视程度不够，信息发布不够及时。"
IMPROVE = "下一步，我们将进一步加强业务培训，完善工作机制，推动政务公开工作再上新台阶。"
OTHER = "本年度未收取信息处理费。{a}无其他需要报告的事项。"

Renderer = Callable[[ReportSpec, RenderOptions | None], bytes]


def _spec(year: int = 2021) -> ReportSpec:
    """A 2021 report with small consistent numbers and one paragraph per narrative label."""
    spec = blank_spec("2021", year, AGENCY, value="0")
    spec.preamble = [PREAMBLE]
    narrative = {
        "overview": [OVERVIEW.format(a=AGENCY)],
        "problems_improvements": [PROBLEM, IMPROVE],
        "other_matters": [OTHER.format(a=AGENCY)],
    }
    spec.sections = [
        SectionSpec(s.key, s.heading, narrative.get(s.key, list(s.paragraphs))) for s in spec.sections
    ]
    for row, n in (("new", 5), ("granted", 3), ("partial", 2), ("results_total", 5)):
        spec = spec.with_cell(f"requests.{row}.natural_person", str(n)).with_cell(
            f"requests.{row}.total", str(n)
        )
    return spec.with_cell("active.normative_docs.issued", "4").with_cell("active.fees.amount", "12.5")


def _truth(spec: ReportSpec, document: str, kind: str, **extra: object) -> Truth:
    cells: dict[str, int | Decimal | None] = {}
    blank = []
    for cid, text in spec.cells.items():
        if text == "":
            cells[cid] = None
            blank.append(cid)
        else:
            cells[cid] = Decimal(text) if "." in text else int(text)
    labels = {"overview": "overview", "other_matters": "other_matters"}
    paragraphs = [TruthParagraph(section="preamble", label="overview", text=p) for p in spec.preamble]
    for s in spec.sections:
        for p in s.paragraphs:
            label = labels.get(s.key) or ("improvements" if p.startswith("下一步") else "problems")
            paragraphs.append(TruthParagraph(section=s.key, label=label, text=p))  # type: ignore[arg-type]
    data: dict[str, object] = {
        "document": document,
        "kind": kind,
        "format": spec.format,
        "year": spec.year,
        "agency": spec.agency,
        "cells": cells,
        "blank": blank,
        "paragraphs": paragraphs,
    }
    data.update(extra)
    return Truth.model_validate(data)


def _identities_of(cell_id: str) -> list[str]:
    return sorted(i.id for i in load_format("2021").identities if cell_id in i.lhs + i.rhs)


def _write(folder: Path, name: str, kind: str, render: Renderer, spec: ReportSpec, **extra: object) -> None:
    (folder / name).write_bytes(render(spec, None))
    _truth(spec, name, kind, **extra).save(folder / f"{name.rsplit('.', 1)[0]}.truth.json")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pdf: clean; html: one injected error; docx: one cell printed blank."""
    folder = tmp_path_factory.mktemp("corpus")
    spec = _spec()
    _write(folder, "clean.pdf", "pdf", render_pdf, spec)
    injected = "requests.new.natural_person"
    _write(
        folder,
        "injected.html",
        "html",
        render_html,
        spec.with_cell(injected, "6"),
        injected_errors=[InjectedError(cell=injected, printed=6, consistent=5)],
        expected_failing_checks=_identities_of(injected),
    )
    _write(folder, "blank.docx", "docx", render_docx, spec.with_cell("requests.new.commercial", ""))
    (folder / "manifest.json").write_text(json.dumps({"seed": 7, "n": 3, "split": "test"}), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def report(corpus: Path) -> Report:
    return evaluate([corpus], workers=0)


# --------------------------------------------------------------------------- text metrics


def test_levenshtein_known_values() -> None:
    assert levenshtein("", "") == 0
    assert levenshtein("", "abc") == 3 and levenshtein("abc", "") == 3
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("政府信息公开", "政府信息公开") == 0
    assert levenshtein("政府信息公开", "政府信患公开") == 1  # one substitution
    assert levenshtein("年度报告", "年报告") == 1  # one deletion
    assert levenshtein("a" * 100, "b" * 100) == 100


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="政府信息公开年0123ab ", max_size=80),
    st.text(alphabet="政府信息公开年0123ab ", max_size=80),
)
def test_bit_parallel_levenshtein_equals_the_dynamic_programme(a: str, b: str) -> None:
    assert levenshtein(a, b) == levenshtein_rowwise(a, b) == levenshtein(b, a)


def test_levenshtein_on_page_sized_texts_matches_the_reference() -> None:
    rng = random.Random(3)
    alphabet = "政府信息公开工作年度报告本机关依法主动公开"
    a = "".join(rng.choice(alphabet) for _ in range(900))
    b = list(a)
    for _ in range(60):
        b[rng.randrange(len(b))] = rng.choice(alphabet)
    b_text = "".join(b[:400] + b[430:])  # substitutions plus a 30-character cut
    assert levenshtein(a, b_text) == levenshtein_rowwise(a, b_text)


def test_character_error_rate_ignores_whitespace() -> None:
    assert char_errors("政府 信息\n公开", "政府信息公开") == (0, 6)
    assert char_errors("政府信息公开", "政 府 信 患 公 开") == (1, 6)
    assert char_errors("", "多余") == (2, 0)


# --------------------------------------------------------------------------- paragraph labels


def test_macro_f1_exact_values() -> None:
    assert macro_f1([("overview", "overview"), ("problems", "problems")]) == 1.0
    # overview: tp 1, fn 1 → F1 2/3; problems: fp 1 → 0; improvements: tp 1 → 1
    pairs = [("overview", "overview"), ("overview", "problems"), ("improvements", "improvements")]
    assert macro_f1(pairs) == pytest.approx((2 / 3 + 0 + 1) / 3)
    # a missed paragraph (no prediction) is a false negative only
    assert macro_f1([("other_matters", None), ("other_matters", "other_matters")]) == pytest.approx(2 / 3)
    # text without a truth label that gets one is a false positive of that label
    assert macro_f1([(None, "overview"), ("overview", "overview")]) == pytest.approx(2 / 3)
    assert macro_f1([]) is None


def test_paragraphs_match_by_similarity_one_to_one() -> None:
    truth = ["第一段关于政务公开的文字内容。", "第二段说明存在的问题和不足之处。", "第三段。"]
    extracted = [
        "第二段说明存在的问题和不足之处",
        "第 一 段关于政务公开的文字内容。",
        "毫不相干的页眉文字内容",
    ]
    assert match_paragraphs(truth, extracted) == {0: 1, 1: 0}


# --------------------------------------------------------------------------- the harness on a tiny corpus


def test_tiny_corpus_exact_metrics(report: Report) -> None:
    assert set(report.by_kind) == {"pdf", "html", "docx"}
    total = report.total
    assert (total.documents, total.failed, total.skipped) == (3, 0, 0)
    assert (total.cells_scored, total.cells_right) == (600, 600)
    assert total.all_right == 3
    assert (total.consistent, total.false_alarm_docs) == (2, 0)
    assert (total.injected, total.injected_caught) == (1, 1)
    assert total.silent_errors == 0
    assert total.format_right == 3 and total.year_right == 3
    assert total.ocr_pages == 0 and total.cer is None  # no OCR page in born-digital documents
    assert total.paragraphs.n == 15  # five labelled paragraphs per document
    f1 = total.paragraphs.macro_f1()
    assert f1 is not None and f1 >= 0.75
    injected = next(d for d in report.documents if d.kind == "html")
    assert injected.injected[0].caught
    assert set(injected.injected[0].caught_by) == set(_identities_of("requests.new.natural_person"))
    assert injected.false_alarms == [] and injected.expected_not_failing == []
    blank = next(d for d in report.documents if d.kind == "docx")
    assert blank.wrong_cells == [] and blank.all_cells_right
    pdf = report.by_kind["pdf"]
    assert pdf.pages >= 3 and pdf.seconds > 0 and pdf.peak_rss_mb is not None and pdf.peak_rss_mb > 10


def test_table_has_a_row_per_kind_and_dashes_for_what_does_not_apply(report: Report) -> None:
    text = render_tables(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    kinds = [r.split("|")[1].strip() for r in rows]
    assert kinds[:5] == ["kind", "pdf", "html", "docx", "**total**"]
    pdf_row = [c.strip() for c in rows[1].split("|")[1:-1]]
    assert pdf_row[3] == "100.0%" and pdf_row[10] != "—"
    assert pdf_row[9] == "—"  # no OCR page: no character error rate
    total_row = [c.strip() for c in rows[4].split("|")[1:-1]]
    assert total_row[5] == "0/2 (0%)" and total_row[6] == "1/1 (100%)"
    assert "seed=7" in text and "split=test" in text  # the held-out rule: what the run was made from


def test_wrong_cells_and_silent_errors_are_reported(corpus: Path) -> None:
    # The truth says 9 where the document prints 5: the extraction is "wrong", and nothing flags it.
    items, _ = discover([corpus])
    item = next(i for i in items if i.truth.kind == "pdf")
    cells = dict(item.truth.cells)
    cells["requests.granted.natural_person"] = 9
    item.truth = item.truth.model_copy(update={"cells": cells})
    ds = score(item, run_one(str(item.document)))
    assert ds.cells_right == 199
    [wc] = ds.wrong_cells
    assert (wc.cell, wc.truth, wc.extracted, wc.silent) == ("requests.granted.natural_person", 9, 3, True)
    assert ds.silent_errors == 1 and not ds.all_cells_right and wc.kind == "misread"
    assert "wrong cells: 1 = 0 missing" in render_tables(Report([ds], [], 0, 1.0))


def test_ocr_pages_get_a_character_error_rate(corpus: Path) -> None:
    items, _ = discover([corpus])
    item = next(i for i in items if i.truth.kind == "pdf")
    out = run_one(str(item.document))
    assert out.result is not None
    # Pretend page 1 came from OCR; the truth page has one character changed, a page number and a
    # running header (repeated on page 2), which the pipeline drops by design and are not errors.
    out.result.pages[0].text_source = "ocr"
    page1 = extracted_page_text(out.result, 1)
    assert out.result.metadata.title and page1.startswith(out.result.metadata.title)
    header = "某某区政务公开年报"
    truth1 = f"{header}\n{page1.replace('政', '攻', 1)}\n- 1 -"
    item.truth = item.truth.model_copy(update={"page_texts": [truth1, f"{header}\n表格\n2"]})
    ds = score(item, out)
    chars = len("".join(page1.split()))
    assert ds.ocr is not None and (ds.ocr.pages, ds.ocr.edits, ds.ocr.truth_chars) == ([1], 1, chars)


def test_truth_page_texts_drop_page_numbers_and_running_lines() -> None:
    pages = ["年报标题\n正文一\n第 1 页", "某局年报\n正文二\n- 2 -", "某局年报\n正文三\n3"]
    assert truth_page_texts(pages) == ["年报标题\n正文一", "正文二", "正文三"]


def test_a_corrupt_document_is_counted_failed_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage that is not a PDF body")
    _truth(_spec(), "broken.pdf", "pdf").save(tmp_path / "broken.truth.json")
    (tmp_path / "fine.html").write_bytes(render_html(_spec(), None))
    _truth(_spec(), "fine.html", "html").save(tmp_path / "fine.truth.json")
    rep = evaluate([tmp_path], workers=0)
    broken = next(d for d in rep.documents if d.document == "broken.pdf")
    assert broken.status == "failed" and broken.error_type and broken.error
    assert broken.cells_right == 0 and broken.cells_scored == 200
    assert rep.total.failed == 1 and rep.total.cells_right == 200 and rep.total.cells_scored == 400
    assert rep.by_kind["html"].all_right == 1


def test_a_document_over_the_time_limit_fails_with_timeout(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gongkai.pipeline.extract

    def slow(path: str) -> None:
        time.sleep(5)

    monkeypatch.setattr(gongkai.pipeline.extract, "extract_path", slow)
    out = run_one(str(corpus / "clean.pdf"), timeout=0.2)
    assert out.result is None and out.error_type == "Timeout"


def _crash_on_marked(path: str, timeout: float | None) -> Outcome:
    """A worker entry point that dies the way a segfault would for documents named crash*, and
    stands in for the pipeline (which the pool logic under test does not need) for the others."""
    if Path(path).name.startswith("crash"):
        os._exit(3)
    return Outcome(None, f"ran in {os.getpid()}", "Marker", None, 0.0, None)


def test_a_document_that_kills_its_worker_fails_alone(tmp_path: Path) -> None:
    names = ("a.html", "crash.html", "b.html", "c.html", "d.html")
    for name in names:
        (tmp_path / name).write_text("<html></html>", encoding="utf-8")
        _truth(_spec(), name, "html").save(tmp_path / f"{name[:-5]}.truth.json")
    items, _ = discover([tmp_path])
    outcomes = run_items(items, workers=2, runner=_crash_on_marked, warm=False)
    by_name = {it.name: out for it, out in zip(items, outcomes, strict=True)}
    assert by_name.pop("crash.html").error_type == "WorkerCrash"
    assert {out.error_type for out in by_name.values()} == {"Marker"}  # every other one ran


def test_missing_and_unreadable_documents_are_skipped_with_a_reason(tmp_path: Path) -> None:
    _truth(_spec(), "absent.pdf", "pdf").save(tmp_path / "absent.truth.json")
    (tmp_path / "notes.txt").write_text("text", encoding="utf-8")
    _truth(_spec(), "notes.txt", "pdf").save(tmp_path / "notes.truth.json")
    rep = evaluate([tmp_path], workers=0)
    reasons = {d.document: d.error for d in rep.documents}
    assert rep.total.skipped == 2 and rep.total.documents == 0
    assert "not found" in str(reasons["absent.pdf"]) and "not an input kind" in str(reasons["notes.txt"])


def test_select_round_robins_over_kinds(corpus: Path) -> None:
    items, _ = discover([corpus])
    assert [i.truth.kind for i in select(items, limit=2)] == ["pdf", "html"]
    assert sorted(i.truth.kind for i in select(items, kinds=["docx", "html"])) == ["docx", "html"]


def test_json_output_schema(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(corpus), "--json", str(out), "--workers", "0", "-q"]) == 0
    capsys.readouterr()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["schema"] == "gongkai-eval/1"
    assert set(data) >= {"machine", "workers", "corpora", "kinds", "formats", "total", "documents", "options"}
    assert list(data["kinds"]) == ["pdf", "html", "docx"]
    assert data["corpora"][0]["manifest"] == {"seed": 7, "n": 3, "split": "test"}
    for summary in [*data["kinds"].values(), data["total"]]:
        assert {
            "cell_accuracy",
            "false_alarm_rate",
            "injected_caught_rate",
            "cer",
            "seconds_per_page",
        } <= set(summary)
        assert {"n", "macro_f1", "per_label"} <= set(summary["paragraphs"])
    assert data["total"]["cell_accuracy"] == 1.0
    doc = next(d for d in data["documents"] if d["kind"] == "html")
    assert {"document", "status", "wrong_cells", "injected", "false_alarms", "pages", "seconds"} <= set(doc)
    assert doc["injected"][0]["caught"] is True and doc["split"] == "test"
    assert isinstance(data["machine"]["cpus"], int)


def test_cli_exits_0_and_prints_the_table(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(corpus), "--workers", "1", "--kinds", "pdf,docx", "--no-warmup"]) == 0
    captured = capsys.readouterr()
    assert "| kind | docs | failed | cell accuracy |" in captured.out
    assert "| pdf | 1 | 0 | 100.0% |" in captured.out and "| docx | 1 |" in captured.out
    assert "| html |" not in captured.out
    assert "[2/2]" in captured.err  # progress


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tmp_path / "nowhere")]) == 2
    assert "no such corpus folder" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "no truth files" in capsys.readouterr().err
    (tmp_path / "x.truth.json").write_text("{}", encoding="utf-8")
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "not a valid truth file" in capsys.readouterr().err


def test_outcome_of_a_failed_run_is_scored_without_a_result(corpus: Path) -> None:
    items, _ = discover([corpus])
    item: Item = next(i for i in items if i.truth.injected_errors)
    ds = score(item, Outcome(None, "boom", "RuntimeError", None, 0.1, None))
    assert ds.status == "failed" and ds.injected[0].caught is False and ds.paragraphs.n == 5


# --------------------------------------------------------------------------- real and committed corpora


def test_real_truth_folder_resolves_documents_in_shared() -> None:
    if shared_dir() is None or not (shared_dir() / "corpus" / "real" / "huaian-hongze-2023.pdf").is_file():  # type: ignore[operator]
        pytest.skip("../shared/corpus/real is not available on this machine")
    rep = evaluate([REPO / "corpora" / "real" / "truth"], workers=0)
    by_doc = {d.document: d for d in rep.documents}
    hongze = by_doc["huaian-hongze-2023.pdf"]
    assert hongze.status == "ok" and hongze.cells_scored == 200 and not hongze.consistent
    assert by_doc["haizhou-2022.txt"].status == "skipped"  # a text dump, not a document


def _fixtures() -> Path:
    fixtures = REPO / "tests" / "fixtures" / "synthetic"
    if not fixtures.is_dir() or not any(fixtures.rglob("*.truth.json")):
        pytest.skip("tests/fixtures/synthetic (generator samples) is not in the tree yet")
    return fixtures


def test_committed_synthetic_fixtures_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    args = [
        "evaluate",
        str(_fixtures()),
        "--kinds",
        "pdf,html,docx",
        "--workers",
        "0",
        "--json",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "| **total** |" in text and "seed=" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total"]["documents"] >= 3 and set(data["kinds"]) <= {"pdf", "html", "docx"}
    assert all(d["status"] == "ok" for d in data["documents"])  # a failure would be a pipeline bug


@pytest.mark.slow  # about 30 s on 2 cores
def test_committed_scanned_fixtures_evaluate_with_ocr(tmp_path: Path) -> None:
    fixtures = _fixtures()
    from gongkai.pipeline.ocr import ocr_available

    if not ocr_available():
        pytest.skip("the ocr extra (ONNX Runtime and the PP-OCR models) is not installed")
    out = tmp_path / "eval.json"
    assert main(["evaluate", str(fixtures), "--kinds", "scan_pdf,image", "--json", str(out), "-q"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    scanned = [d for d in data["documents"] if d["status"] == "ok"]
    assert scanned and all(d["ocr"] is not None and d["ocr"]["pages"] for d in scanned)
    assert data["total"]["cer"] is not None and data["total"]["ocr_pages"] >= len(scanned)
