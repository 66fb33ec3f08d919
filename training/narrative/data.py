"""The labelled narrative corpus: parse the team-written source, write JSONL, load splits, build instances.

Splits (see corpora/narrative/README.md):
- ``train`` / ``dev``: team-written paragraphs by authors A–D (every fifth paragraph of each author is dev);
- ``test_team``: author E (legacy-report wording), written apart and never trained or tuned on;
- ``test_real``: the hand-labelled paragraphs of the real reports (real.jsonl), never trained or tuned on.

Usage: ``python -m training.narrative.data`` rewrites corpora/narrative/team.jsonl from team_written.txt.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from gongkai.pipeline.nlp.text import LABELS, SentenceContext, majority_label, section_contexts

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpora" / "narrative"
LETTER = {"O": "overview", "P": "problems", "I": "improvements", "M": "other_matters"}
HELD_OUT_AUTHORS = {"E"}
# attributes of an @ line; heading= runs to the next attribute or the end (real headings have spaces)
_ATTRS = re.compile(r"(\w+)=(.*?)(?=\s+\w+=|$)")


@dataclass
class Paragraph:
    id: str
    author: str
    split: str
    section: str | None
    heading: str | None
    sentences: list[tuple[str, str]]  # (text, label)

    @property
    def text(self) -> str:
        return "".join(s for s, _ in self.sentences)

    @property
    def label(self) -> str:
        return majority_label([lab for _, lab in self.sentences], [len(s) for s, _ in self.sentences])


def parse_labelled_file(
    path: Path, paragraph_id: Callable[[str, int], str], split_of: Callable[[str, int], str]
) -> list[Paragraph]:
    """A labelled-text file: ``@author=… section=… heading=…`` opens a paragraph, each further line
    is ``<O|P|I|M> sentence``, ``#`` starts a comment. ``paragraph_id`` and ``split_of`` get the
    author and the paragraph's number within that author's."""
    paragraphs: list[Paragraph] = []
    per_author: dict[str, int] = {}
    current: Paragraph | None = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            attrs = dict(_ATTRS.findall(line[1:].strip()))
            author = attrs.get("author", "")
            if not author:
                raise ValueError(f"{path}:{n}: paragraph without author")
            k = per_author.get(author, 0)
            per_author[author] = k + 1
            section = attrs.get("section") or None
            current = Paragraph(
                id=paragraph_id(author, k),
                author=author,
                split=split_of(author, k),
                section=None if section == "none" else section,
                heading=attrs.get("heading") or None,
                sentences=[],
            )
            paragraphs.append(current)
            continue
        letter, _, sentence = line.partition(" ")
        if current is None or letter not in LETTER or not sentence.strip():
            raise ValueError(f"{path}:{n}: expected '<O|P|I|M> sentence', got {line!r}")
        current.sentences.append((sentence.strip(), LETTER[letter]))
    empty = [p.id for p in paragraphs if not p.sentences]
    if empty:
        raise ValueError(f"{path}: paragraphs without sentences: {empty}")
    return paragraphs


def parse_team_file(path: Path) -> list[Paragraph]:
    return parse_labelled_file(
        path,
        lambda author, k: f"team-{author}-{k:03d}",
        lambda author, k: "test_team" if author in HELD_OUT_AUTHORS else ("dev" if k % 5 == 4 else "train"),
    )


def to_row(p: Paragraph, position: int, count: int, source: str) -> dict[str, object]:
    return {
        "id": p.id,
        "source": source,
        "author": p.author,
        "split": p.split,
        "section": p.section,
        "heading": p.heading,
        "position": position,
        "paragraphs_in_section": count,
        "text": p.text,
        "label": p.label,
        "sentences": [{"text": s, "label": lab} for s, lab in p.sentences],
    }


def section_rows(paragraphs: list[Paragraph], source: str) -> list[dict[str, object]]:
    """Rows with their place in their section: consecutive paragraphs with the same author, heading
    and section form one section. ``source`` (team, real) prefixes each row's group."""
    groups: list[list[Paragraph]] = []
    for p in paragraphs:
        if groups and (groups[-1][0].author, groups[-1][0].heading, groups[-1][0].section) == (
            p.author,
            p.heading,
            p.section,
        ):
            groups[-1].append(p)
        else:
            groups.append([p])
    return [to_row(p, i, len(group), f"{source}:{p.author}") for group in groups for i, p in enumerate(group)]


def write_team_jsonl(src: Path = CORPUS / "team_written.txt", out: Path = CORPUS / "team.jsonl") -> int:
    rows = section_rows(parse_team_file(src), "team")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


@dataclass
class Row:
    """A paragraph as stored in the JSONL, with its place in its section."""

    id: str
    split: str
    author: str
    section: str | None
    position: int
    count: int
    sentences: list[tuple[str, str]]

    @property
    def label(self) -> str:
        return majority_label([lab for _, lab in self.sentences], [len(s) for s, _ in self.sentences])


def load_rows(paths: Iterable[Path] | None = None) -> list[Row]:
    paths = list(paths) if paths is not None else [CORPUS / "team.jsonl", CORPUS / "real.jsonl"]
    rows: list[Row] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            sentences = [(s["text"], s["label"]) for s in d["sentences"]]
            bad = [lab for _, lab in sentences if lab not in LABELS]
            if bad:
                raise ValueError(f"{path}: {d['id']} has unknown labels {bad}")
            rows.append(
                Row(
                    d["id"],
                    d["split"],
                    d["author"],
                    d["section"],
                    int(d["position"]),
                    int(d["paragraphs_in_section"]),
                    sentences,
                )
            )
    return rows


def sections_of(rows: list[Row]) -> list[list[Row]]:
    """Rows regrouped into their sections (consecutive rows, position restarting at 0)."""
    groups: list[list[Row]] = []
    for r in rows:
        if groups and r.position > 0 and groups[-1][-1].section == r.section:
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def contexts_for(
    section: list[Row], *, hide_heading: bool = False
) -> list[list[tuple[SentenceContext, str]]]:
    """(context, gold label) for every sentence of a section, paragraph by paragraph."""
    key = None if hide_heading else section[0].section
    ctx = section_contexts([[s for s, _ in r.sentences] for r in section], key)
    return [
        list(zip(row_ctx, [lab for _, lab in r.sentences], strict=True))
        for row_ctx, r in zip(ctx, section, strict=True)
    ]


def training_instances(
    rows: list[Row], seed: int = 0, mixed_copies: int = 2
) -> list[tuple[SentenceContext, str]]:
    """Sentences with context, each with and without its heading, plus synthetic mixed paragraphs.

    Mixed paragraphs join a problems paragraph and an improvements paragraph of the same author, as
    legacy reports often do in one paragraph; they teach the forward-cue context.
    """
    out: list[tuple[SentenceContext, str]] = []
    for section in sections_of(rows):
        for hide in (False, True):
            for para in contexts_for(section, hide_heading=hide):
                out.extend(para)
    rng = random.Random(seed)
    problems = [r for r in rows if r.label == "problems"]
    improvements = [r for r in rows if r.label == "improvements"]
    for _ in range(mixed_copies):
        for p in problems:
            same = [r for r in improvements if r.author == p.author] or improvements
            if not same:
                break
            i = rng.choice(same)
            merged = Row(f"{p.id}+{i.id}", "train", p.author, p.section, 0, 1, p.sentences + i.sentences)
            for hide in (False, True):
                for para in contexts_for([merged], hide_heading=hide):
                    out.extend(para)
    return out


def corpus_texts(rows: list[Row]) -> list[str]:
    """Plain text for the vocabulary and masked-LM pretraining (training rows only)."""
    return ["".join(s for s, _ in r.sentences) for r in rows]


if __name__ == "__main__":
    print(f"wrote {write_team_jsonl()} paragraphs to {CORPUS / 'team.jsonl'}")
