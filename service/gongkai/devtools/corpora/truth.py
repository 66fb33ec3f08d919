"""The truth file every evaluated document has: what a perfect extraction would say.

One JSON file per document, ``<name>.truth.json`` beside the document in a corpus folder (real
reports keep theirs in ``corpora/real/truth/`` and name a file in ``../shared/corpus/real``).
Shared by the synthetic generator (writes them), the evaluation harness and the tests (read them).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

# How a document reaches Gongkai; the evaluation table has one row per kind.
InputKind = Literal["pdf", "scan_pdf", "image", "html", "docx"]
Number = Annotated[
    int | Decimal, PlainSerializer(lambda v: v if isinstance(v, int) else float(v), when_used="json")
]


class InjectedError(BaseModel):
    """A printed value deliberately made inconsistent: the checks should catch it."""

    model_config = ConfigDict(extra="forbid")
    cell: str
    printed: Number
    consistent: Number = Field(description="The value that would satisfy the identities.")


class TruthParagraph(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str
    label: Literal["overview", "problems", "improvements", "other_matters"] | None
    text: str


class Truth(BaseModel):
    model_config = ConfigDict(extra="allow")
    document: str = Field(description="File name of the document, relative to the truth file's folder.")
    kind: InputKind = "pdf"
    format: Literal["2021", "2019", "legacy"]
    year: int
    agency: str | None = None
    title: str | None = None
    # Every statutory cell id of the format: the number printed (after any injected error), or
    # null where the cell is not printed or printed blank (then it is also listed in ``blank``).
    cells: dict[str, Number | None]
    blank: list[str] = Field(default_factory=list)
    # Non-statutory cells the document prints (e.g. requests.other.total.* in a 2021 table).
    extra_cells: dict[str, Number | None] = Field(default_factory=dict)
    injected_errors: list[InjectedError] = Field(default_factory=list)
    expected_failing_checks: list[str] = Field(default_factory=list)
    paragraphs: list[TruthParagraph] = Field(default_factory=list)
    # Narrative text per page (1-based list index + 1), for the character error rate of OCR pages.
    page_texts: list[str] = Field(default_factory=list)
    notes: str | None = None

    def save(self, path: Path) -> None:
        data = self.model_dump(mode="json", exclude_defaults=False)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_truth(path: Path) -> Truth:
    data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    return Truth.model_validate(data)
