"""The hand-labelled real split: built from its source file, held out, and read as the pipeline reads
the reports (the last check needs ../shared and skips without it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import real_document
from training.narrative.data import CORPUS, load_rows, training_instances
from training.narrative.real import SOURCE, build_rows, parse_real_file

PINGTAN = {
    "pingtan-2011": "pingtan-2011.html",
    "pingtan-dishuiju-2013": "pingtan-dishuiju-2013.html",
    "pingtan-2023": "pingtan-2023.html",
}


def test_narrative_real_jsonl_is_built_from_its_source() -> None:
    built = build_rows(parse_real_file(SOURCE))
    stored = [
        json.loads(line)
        for line in (CORPUS / "real.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert [r for r in stored if r["author"] in PINGTAN] == built
    assert {r["author"] for r in built} == set(PINGTAN)


def test_narrative_real_rows_are_held_out() -> None:
    rows = load_rows()
    real = [r for r in rows if r.author in PINGTAN or r.id.startswith(("haizhou", "huaian"))]
    assert len(real) == 108 and {r.split for r in real} == {"test_real"}
    # short sub-headings such as （一）主动公开情况。 are the same everywhere; sentences are not
    train_text = {s for r in rows if r.split in ("train", "dev") for s, _ in r.sentences if len(s) > 15}
    assert not train_text & {s for r in real for s, _ in r.sentences}
    # the training instances come from train rows only, so no real sentence is among them
    instances = training_instances([r for r in rows if r.split == "train"])
    assert not {c.text for c, _ in instances if len(c.text) > 15} & {s for r in real for s, _ in r.sentences}


def test_narrative_real_mixed_paragraph_rule() -> None:
    # a paragraph with problems and improvements keeps both sentence labels and takes the label of
    # most of its characters (the datasheet's paragraph rule)
    rows = {r.id: r for r in load_rows()}
    mixed = rows["pingtan-2011-016"]
    assert [lab for _, lab in mixed.sentences] == ["problems"] * 5 + ["improvements"]
    assert mixed.label == "problems"


@pytest.mark.parametrize("author", sorted(PINGTAN))
def test_narrative_real_paragraphs_are_the_pipelines(author: str) -> None:
    pytest.importorskip("jieba", reason="the nlp extra is not installed")
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.nlp.text import split_sentences

    result = extract_path(real_document(PINGTAN[author]))
    read = [(s.key, p.text) for s in result.sections for p in s.paragraphs]
    labelled = [p for p in parse_real_file(SOURCE) if p.author == author]
    # the labelled paragraphs, in order, are the pipeline's; only non-narrative lines were left out
    left_out = re.findall(r"# not narrative, left out: O (.+)", _block(SOURCE, author))
    assert [(p.section, p.text) for p in labelled] == [(k, t) for k, t in read if t not in left_out]
    for p in labelled:
        assert [s for s, _ in p.sentences] == split_sentences(p.text)


def _block(path: Path, author: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(f"# ---- {author}.html ----")
    end = text.find("# ---- ", start + 1)
    return text[start : end if end >= 0 else None]
