"""Request and response bodies of the HTTP API (the result itself is the result contract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

DocStatus = Literal["queued", "processing", "done", "failed"]
STAGE_PROGRESS = {
    "queued": 0.0,
    "retry_wait": 0.0,
    "claimed": 0.1,
    "reading": 0.2,
    "extracting": 0.5,
    "storing": 0.9,
    "done": 1.0,
    "failed": 1.0,
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None = Field(
        default=None, description="the id of the request, as in X-Request-ID and the log"
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


class JobOut(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    stage: str
    progress: float = Field(ge=0, le=1)
    attempts: int
    max_attempts: int
    error: ErrorDetail | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None


class DocumentError(ErrorDetail):
    retryable: bool = Field(description="POST …/retry runs the document again")


class DocumentOut(BaseModel):
    id: str
    sha256: str
    filename: str
    media_type: str
    size: int
    pages: int | None = None
    status: DocStatus
    job: JobOut | None = None
    error: DocumentError | None = None
    format: str | None = None
    year: int | None = None
    agency: str | None = None
    title: str | None = None
    failing_checks: int | None = None
    cells_to_review: int | None = Field(
        None, description="Cells of the served result flagged for a person (`review`), not corrected since"
    )
    reviewed_by: str | None = Field(None, description="The key that marked the document reviewed")
    reviewed_at: str | None = None
    uploaded_by: str
    created_at: str
    updated_at: str
    links: dict[str, str]


class UploadOut(DocumentOut):
    duplicate: bool = Field(description="True when this file (same sha256) was uploaded before")


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int
    next: str | None = None


class CellCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Strict: JSON true/false is refused rather than read as 1/0, and a number stays the number sent.
    value: StrictInt | StrictFloat | StrictStr | None = Field(
        description="The number as it should read; a string is parsed like a printed cell (e.g. '1,234') "
        "or as a number in exponent form ('1e5'); null means printed blank. Counts are whole numbers "
        "in [0, 10^12); amounts (万元) are in [0, 10^12) with at most 4 decimals (fewer above "
        "5.5×10^11, where a JSON float cannot carry all 4). A value that cannot be stored exactly "
        "is refused (422), never rounded.",
    )
    reason: str = Field("", max_length=2000)


class ParagraphCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=100_000)
    label: Literal["overview", "problems", "improvements", "other_matters"] | None = None
    clear_label: bool = Field(False, strict=True, description="Set the label to null (a JSON boolean)")
    reason: str = Field("", max_length=2000)


class CheckChange(BaseModel):
    id: str
    before: str | None
    after: str


class CorrectionOut(BaseModel):
    id: int
    target: Literal["cell", "paragraph"]
    target_id: str
    old: Any
    new: Any
    reason: str
    by: str
    at: str


class CellCorrectionResult(BaseModel):
    correction: CorrectionOut
    cell: dict[str, Any]
    checks: list[dict[str, Any]]
    changed_checks: list[CheckChange]
    failing_checks: int


class ParagraphCorrectionResult(BaseModel):
    correction: CorrectionOut
    paragraph: dict[str, Any]


class HistoryOut(BaseModel):
    document_id: str
    corrections: list[CorrectionOut]


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["uploader", "reviewer", "admin"]
    name: str = Field("", max_length=200)
    scope: Literal["own", "all"] | None = Field(
        None,
        description='Which documents an uploader key sees: "own" (the default for uploaders) or "all". '
        "Reviewers and admins see every document.",
    )


class KeyOut(BaseModel):
    id: str
    name: str
    role: str
    scope: str
    created_at: str
    created_by: str | None = None
    revoked_at: str | None = None


class KeyCreated(KeyOut):
    key: str = Field(description="The API key. It is shown once and stored only as a salted hash.")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    jobs: str
    version: str
    # The local pool only (None otherwise): fewer alive than configured answers 503 "degraded".
    workers_alive: int | None = None
    workers_configured: int | None = None


class ReviewState(BaseModel):
    reviewed: bool = Field(description="true: mark the document reviewed (by the caller, now); false: unmark")
