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

from training.narrative.data import CORPUS, LETTER, Paragraph, parse_labelled_file, section_rows

SOURCE = CORPUS / "real_labelled.txt"
_LETTER_OF = {v: k for k, v in LETTER.items()}


def parse_real_file(path: Path = SOURCE) -> list[Paragraph]:
    return parse_labelled_file(path, lambda author, k: f"{author}-{k:03d}", lambda _author, _k: "test_real")


def build_rows(paragraphs: list[Paragraph]) -> list[dict[str, object]]:
    """Rows with their place in their section (consecutive paragraphs of one author and heading)."""
    return section_rows(paragraphs, "real")


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
