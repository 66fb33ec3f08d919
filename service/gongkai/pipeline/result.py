"""The result contract (../shared/spec/result-contract.md) as pydantic models; version 1.1.

Versions: 1.1 added ``CellOut.review`` and ``CellOut.review_reason`` (fields only added, so a
version-1 result still validates).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

ContractVersion = Literal["1", "1.1"]
# What new results carry; stored results of an older version still validate.
CONTRACT_VERSION: ContractVersion = "1.1"

SourceKind = Literal["text_layer", "ocr", "html", "docx", "text"]
ParagraphLabel = Literal["overview", "problems", "improvements", "other_matters"]
# A check's kind and status (gongkai.pipeline.checks uses the same vocabulary).
CheckKind = Literal["identity", "soft"]
CheckStatus = Literal["pass", "fail", "warn", "not_assessable"]


def _number_json(v: int | Decimal) -> int | float:
    # JSON readers expect numbers, not the strings pydantic gives Decimals by default.
    return v if isinstance(v, int) else float(v)


Number = Annotated[int | Decimal, PlainSerializer(_number_json, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceOut(_Model):
    filename: str
    sha256: str
    media_type: str
    pages: int


class MetadataOut(_Model):
    title: str | None = None
    agency: str | None = None
    region: str | None = None
    year: int | None = None


class PageOut(_Model):
    number: int
    width: float | None = None
    height: float | None = None
    text_source: SourceKind
    ocr_dpi: float | None = Field(None, description="OCR pages: the dpi the page image was read at.")


class CellOut(_Model):
    value: Number | None = Field(
        description="The number; null when missing or printed blank. Never invented: inferred totals say so."
    )
    raw: str | None = Field(None, description="The text as printed (or as read before a repair).")
    confidence: float = Field(ge=0.0, le=1.0)
    page: int | None = None
    bbox: list[float] | None = Field(None, description="[x0, y0, x1, y1] in PDF points, origin top-left.")
    source: SourceKind | None = None
    blank: bool = Field(False, description="Printed blank (or a dash): not a reported 0.")
    note: str | None = Field(None, description="A note printed beside the number, e.g. 其中修订16件.")
    inferred: bool = Field(False, description="Printed blank; its total was inferred from its row.")
    inferred_value: Number | None = Field(
        None, description="The inferred total (the checks use it); `value` stays null as printed."
    )
    repaired_by: str | None = Field(None, description="Id of the check whose repair changed the reading.")
    missing: bool = Field(False, description="The cell was not found in the document.")
    statutory: bool = Field(True, description="False for extra cells outside the format's statutory set.")
    review: bool = Field(
        False,
        description="A person should look at this cell: the pipeline could not settle it (a failing "
        "identity that no unambiguous repair fixed, or an OCR reading below the review threshold).",
    )
    review_reason: str | None = Field(None, description="Why `review` is set.")


class SentenceOut(_Model):
    text: str
    label: ParagraphLabel | None = None
    confidence: float = Field(ge=0.0, le=1.0)


class ParagraphOut(_Model):
    text: str
    label: ParagraphLabel | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    page: int | None = None
    bbox: list[float] | None = None
    sentences: list[SentenceOut] = Field(
        default_factory=list, description="The paragraph's sentences, each with its own label."
    )


class SectionOut(_Model):
    key: str
    heading: str | None = None
    page: int | None = None
    paragraphs: list[ParagraphOut] = Field(default_factory=list)


class FactOut(_Model):
    kind: str
    value: Number
    unit: str | None = None
    text: str
    page: int | None = None


class CheckOut(_Model):
    id: str
    kind: CheckKind
    status: CheckStatus
    expected: Number | None = None
    actual: Number | None = None
    cells: list[str] = Field(default_factory=list)
    message: str


class ExtractionResult(_Model):
    contract_version: ContractVersion = CONTRACT_VERSION
    source: SourceOut
    format: Literal["2021", "2019", "legacy"]
    metadata: MetadataOut
    pages: list[PageOut]
    cells: dict[str, CellOut]
    sections: list[SectionOut]
    facts: list[FactOut] = Field(default_factory=list)
    checks: list[CheckOut]
    warnings: list[str] = Field(default_factory=list)

    def to_json(self, indent: int | None = 1) -> str:
        data = self.model_dump(mode="json")
        return json.dumps(data, ensure_ascii=False, indent=indent)

    def failing_checks(self) -> list[CheckOut]:
        return [c for c in self.checks if c.status == "fail"]


def json_schema() -> dict[str, object]:
    return ExtractionResult.model_json_schema()
