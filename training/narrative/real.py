"""Hand-labelled real paragraphs kept as a readable source file, like the team-written ones.

``corpora/narrative/real_labelled.txt`` holds the paragraphs of real reports exactly as the pipeline
reads them (``gongkai extract``), one sentence per line (``split_sentences``) with its label letter
(O/P/I/M), under an ``@ author=… section=… heading=…`` line per paragraph. The labels are the
labeller's, never the pipeline's: ``--draft`` only prints the paragraphs to start from.

    python -m training.narrative.real --draft ../shared/corpus/real/pingtan-2011.html   # a draft to label
    python -m training.narrative.real                                                  # → real.jsonl

The build replaces the rows of the authors in the source file and keeps the other rows of
real.jsonl (haizhou-2022 and huaian-hongze-2023, labelled by hand as JSON) untouched. Every row is in
``test_real``: real reports are never trained or tuned on.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from training.narrative.data import CORPUS, LETTER, Paragraph, to_row

SOURCE = CORPUS / "real_labelled.txt"
_LETTER_OF = {v: k for k, v in LETTER.items()}
# heading= runs to the end of the line: real headings contain spaces (一、 概述)
_ATTRS = re.compile(r"(\w+)=(.*?)(?=\s+\w+=|$)")


def parse_real_file(path: Path = SOURCE) -> list[Paragraph]:
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
                id=f"{author}-{k:03d}",
                author=author,
                split="test_real",
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


def build_rows(paragraphs: list[Paragraph]) -> list[dict[str, object]]:
    """Rows with their place in their section (consecutive paragraphs of one author and heading)."""
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
    return [to_row(p, i, len(group), f"real:{p.author}") for group in groups for i, p in enumerate(group)]


def write_real_jsonl(src: Path = SOURCE, out: Path = CORPUS / "real.jsonl") -> int:
    rows = build_rows(parse_real_file(src))
    authors = {r["author"] for r in rows}
    kept = [
        line
        for line in out.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["author"] not in authors
    ]
    out.write_text(
        "".join(line + "\n" for line in kept)
        + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
        encoding="utf-8",
    )
    return len(rows)


def draft(path: Path, author: str) -> str:
    """The paragraphs of a report as the pipeline reads them, every sentence marked O: a start for
    labelling by hand (the pipeline's own labels are deliberately not copied)."""
    from gongkai.pipeline.extract import extract_path
    from gongkai.pipeline.nlp.text import split_sentences

    result = extract_path(path)
    lines: list[str] = []
    for section in result.sections:
        for p in section.paragraphs:
            heading = re.sub(r"\s+", " ", section.heading or "")
            lines.append(f"@ author={author} section={section.key} heading={heading}".rstrip())
            lines += [f"O {s}" for s in split_sentences(p.text) or [p.text]]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draft", type=Path, help="print a report's paragraphs in the source format")
    ap.add_argument("--author", help="author id for --draft (default: the file name)")
    args = ap.parse_args(argv)
    if args.draft is not None:
        sys.stdout.write(draft(args.draft, args.author or args.draft.stem))
        return 0
    n = write_real_jsonl()
    print(f"wrote {n} paragraphs from {SOURCE.name} to real.jsonl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
