"""The synthetic corpus generator: truth consistency, determinism, every kind, legacy sums, fixtures."""

from __future__ import annotations

import io
import json
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from gongkai.cli import main as cli_main
from gongkai.devtools.corpora.synthetic import text as narrative
from gongkai.devtools.corpora.synthetic.fonts import available_families
from gongkai.devtools.corpora.synthetic.generate import (
    FIXTURE_SEED,
    FIXTURES,
    KINDS,
    GenerateConfig,
    failing_identities,
    generate,
    make_document,
    table_values,
)
from gongkai.devtools.corpora.synthetic.legacy import build_legacy_report, stat_rows
from gongkai.devtools.corpora.truth import Truth, load_truth
from gongkai.pipeline.schema import load_format

FIXTURE_DIR = Path(__file__).parents[1] / "fixtures" / "synthetic"
SCAN_DPI = 50  # tiny scans: the tests check structure, not OCR quality


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    # 15 documents = every (kind, format) pair once; a third of them carry an injected error
    out = tmp_path_factory.mktemp("synthetic")
    manifest = generate(GenerateConfig(out_dir=out, n=15, seed=11, inject_errors=0.34, dpi=SCAN_DPI))
    return out, manifest


def _truths(folder: Path) -> list[Truth]:
    return [load_truth(p) for p in sorted(folder.glob("*.truth.json"))]


def test_every_kind_and_format_is_produced(corpus: tuple[Path, dict]) -> None:
    out, manifest = corpus
    assert manifest["counts"]["kind"] == dict.fromkeys(sorted(KINDS), 3)
    assert manifest["counts"]["format"] == {"2019": 5, "2021": 5, "legacy": 5}
    assert len(manifest["counts"]["kind_format"]) == 15
    for row in manifest["documents"]:
        doc = out / row["document"]
        assert doc.is_file() and doc.stat().st_size > 1000
        assert (out / row["truth"]).is_file()
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["seed"] == 11 and on_disk["version"] == manifest["version"]


def test_files_are_what_their_kind_says(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    for t in _truths(out):
        data = (out / t.document).read_bytes()
        if t.kind in ("pdf", "scan_pdf"):
            assert data.startswith(b"%PDF")
        elif t.kind == "docx":
            assert data.startswith(b"PK")
        elif t.kind == "html":
            assert b"<html" in data[:200]
        else:
            image = Image.open(io.BytesIO(data))
            assert image.format == "TIFF" and image.n_frames == len(t.page_texts)
        if t.kind in ("scan_pdf", "image"):
            assert t.page_texts and all(isinstance(x, str) for x in t.page_texts)
            assert t.title is not None and t.title[:6] in "".join(t.page_texts).replace("\n", "")
        else:
            assert t.page_texts == []


def test_truth_is_consistent_unless_an_error_was_injected(corpus: tuple[Path, dict]) -> None:
    out, manifest = corpus
    injected = 0
    for t in _truths(out):
        if t.format == "legacy":
            continue
        fmt = load_format(t.format)
        assert set(t.cells) == set(fmt.cells)
        assert set(t.blank) <= {c for c, v in t.cells.items() if v is None}
        failing = failing_identities(fmt, t.cells, t.extra_cells)
        if not t.injected_errors:
            assert failing == [] and t.expected_failing_checks == []
            continue
        injected += 1
        (err,) = t.injected_errors
        assert err.printed != err.consistent
        assert {**t.cells, **t.extra_cells}[err.cell] == err.printed
        assert failing == t.expected_failing_checks and failing  # exactly the expected checks fail
    assert injected == manifest["counts"]["injected"] and injected >= 1


def test_narrative_figures_match_the_tables(corpus: tuple[Path, dict]) -> None:
    out, _ = corpus
    checked = 0
    for t in _truths(out):
        if t.format == "legacy":
            continue
        labels = {p.label for p in t.paragraphs}
        assert {"overview", "other_matters"} <= labels and labels & {"problems", "improvements"}
        new = t.cells["requests.new.total"]
        if t.injected_errors and t.injected_errors[0].cell == "requests.new.total":
            new = t.injected_errors[0].consistent
        if new:
            overview = "".join(p.text for p in t.paragraphs if p.section == "overview")
            assert f"申请{new}件" in overview
            checked += 1
    assert checked >= 1


def test_mixed_paragraphs_are_labelled_by_character_majority() -> None:
    seen_mixed = 0
    for seed in range(60):
        facts = narrative.Facts(year=2022, agency="某县人民政府", short="县政府", region="某县")
        for p in narrative.problems_improvements(random.Random(seed), facts):
            labels = [s.label for s in p.sentences]
            assert p.text == "".join(s.text for s in p.sentences)
            if p.mixed:
                seen_mixed += 1
                share = sum(len(s.text) for s in p.sentences if s.label == p.final_label)
                assert share * 2 >= len(p.text)
                assert labels[0] == "problems" and "improvements" in labels
            else:
                assert {p.final_label} == set(labels)
    assert seen_mixed > 10


def test_generation_is_deterministic(tmp_path: Path) -> None:
    for kind in ("pdf", "docx", "html", "scan_pdf", "image"):
        rows = []
        for sub in ("a", "b"):
            config = GenerateConfig(out_dir=tmp_path / sub, n=1, seed=5, dpi=SCAN_DPI)
            config.out_dir.mkdir(exist_ok=True)
            rows.append(make_document(config, 3, (kind, "2021")))  # type: ignore[arg-type]
        a, b = (tmp_path / sub / rows[0]["document"] for sub in ("a", "b"))
        assert a.read_bytes() == b.read_bytes(), kind
        ta, tb = (tmp_path / sub / rows[0]["truth"] for sub in ("a", "b"))
        assert ta.read_bytes() == tb.read_bytes()
    other = GenerateConfig(out_dir=tmp_path / "c", n=1, seed=6)
    other.out_dir.mkdir()
    row_6 = make_document(other, 3, ("pdf", "2021"))
    row_5 = make_document(GenerateConfig(out_dir=tmp_path / "a", n=1, seed=5), 3, ("pdf", "2021"))
    assert (tmp_path / "c" / row_6["document"]).read_bytes() != (
        tmp_path / "a" / row_5["document"]
    ).read_bytes()


def test_table_values_hold_the_identities_for_many_seeds() -> None:
    for fmt_id in ("2021", "2019"):
        fmt = load_format(fmt_id)
        biggest = 0
        for seed in range(150):
            values = table_values(random.Random(seed), fmt)
            assert set(values) == set(fmt.cells)
            assert failing_identities(fmt, dict(values), {}) == []
            assert all(v >= 0 for c, v in values.items() if not c.endswith(".delta"))
            biggest = max(biggest, max(int(v) for v in values.values()))
        assert biggest >= 10**5  # some big numbers, not only small ones


def test_legacy_sums_hold_and_keys_are_unique() -> None:
    for seed in range(40):
        year = 2008 + seed % 11
        rows = stat_rows(random.Random(seed), year)
        by_key = {r.key: r for r in rows}
        ids = [r.cell_id for r in rows if not r.is_heading]
        assert len(ids) == len(set(ids))
        assert all(re.fullmatch(r"legacy\.\S+", i) for i in ids)
        for parent in by_key.values():
            kids = [r for r in rows if r.parent == parent.key]
            if kids:
                assert parent.value == sum(k.value or 0 for k in kids), (year, parent.label)
        assert ("（三）申请答复数" in {r.label for r in rows}) == (year >= 2014)
    report = build_legacy_report(random.Random(1), 2016, "某市某区人民政府", "区政府", "某区")
    cells = report.cells()
    assert all(isinstance(v, int | Decimal) for v in cells.values())
    received = cells["legacy.（一）收到申请数"]
    assert any(f"申请{received}件" in p.text for _, _, ps in report.sections for p in ps)


def test_cli_generates_and_refuses_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = cli_main(
        ["corpus", "generate", str(out), "--n", "2", "--seed", "3", "--kinds", "html", "--workers", "1"]
    )
    assert code == 0
    assert len(list(out.glob("*.truth.json"))) == 2 and (out / "manifest.json").is_file()
    assert "wrote 2 documents" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["corpus", "generate", str(out), "--kinds", "pdf,fax"])
    with pytest.raises(SystemExit):
        cli_main(["corpus", "generate", str(out), "--inject-errors", "1.5"])
    assert cli_main(["corpus", "generate", str(out), "--n", "0"]) == 2


def test_committed_fixtures_are_valid_and_small() -> None:
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == FIXTURE_SEED
    kinds = set()
    for row in manifest["documents"]:
        truth = load_truth(FIXTURE_DIR / row["truth"])
        assert (FIXTURE_DIR / truth.document).is_file()
        kinds.add(truth.kind)
        if truth.format != "legacy":
            assert failing_identities(load_format(truth.format), truth.cells, truth.extra_cells) == []
    assert kinds == set(KINDS)
    assert len(manifest["documents"]) == len(FIXTURES)
    assert sum(p.stat().st_size for p in FIXTURE_DIR.iterdir()) < 1_000_000


def test_committed_born_digital_fixtures_regenerate_bit_for_bit(tmp_path: Path) -> None:
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text(encoding="utf-8"))
    if manifest["fonts"] != list(available_families()):
        pytest.skip(
            f"fixtures were made with fonts {manifest['fonts']}, this machine has {available_families()}"
        )
    config = GenerateConfig(out_dir=tmp_path, n=len(FIXTURES), seed=FIXTURE_SEED)
    for index, kind, fmt in FIXTURES:
        if kind in ("scan_pdf", "image"):
            continue  # raster bytes depend on the pdfium / Pillow build
        row = make_document(config, index, (kind, fmt))
        assert (tmp_path / row["document"]).read_bytes() == (FIXTURE_DIR / row["document"]).read_bytes()
