"""The tables. Machine results and human corrections live apart; the served result is their merge."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC: stored the same way in SQLite and PostgreSQL (timestamp without time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(dt: datetime) -> str:
    """A stored (naive UTC) time as the API shows it: ISO 8601 to the millisecond, with Z."""
    return dt.isoformat(timespec="milliseconds") + "Z"


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public part of the key
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    # Which documents an uploader key sees: "own" (those it uploaded) or "all". Reviewers and admins see all.
    scope: Mapped[str] = mapped_column(String(8), default="own", server_default="own")
    salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(16), ForeignKey("api_keys.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(String(255))  # display only, never a path
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # queued | processing | done | failed
    format: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    failing_checks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    uploaded_by: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"))
    # The key that owns the document (its uploader); NULL for rows from before revision 0003.
    owner_key_id: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("api_keys.id"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Cells of the served result a person should look at (CellOut.review), kept like failing_checks.
    cells_to_review: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The review state: who marked the document reviewed, and when (NULL: not reviewed yet).
    reviewed_by: Mapped[str | None] = mapped_column(String(16), ForeignKey("api_keys.id"), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ResultRow(Base):
    """The machine result as the pipeline returned it (the result contract, JSON)."""

    __tablename__ = "results"

    document_id: Mapped[str] = mapped_column(String(32), ForeignKey("documents.id"), primary_key=True)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(32), ForeignKey("documents.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    not_before: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When the job id was last sent to the broker (Celery only): the sweeper re-sends only stale ones.
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CorrectionRow(Base):
    """One human change to a cell or a paragraph; the latest per target wins when merging."""

    __tablename__ = "corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(32), ForeignKey("documents.id"), index=True)
    target: Mapped[str] = mapped_column(String(16))  # cell | paragraph
    target_id: Mapped[str] = mapped_column(String(120))  # cell id, or paragraph number
    old_json: Mapped[str] = mapped_column(Text)  # what was served before (JSON)
    new_json: Mapped[str] = mapped_column(Text)  # the change (JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class EventRow(Base):
    """Audit trail: every write, attributed to the key that made it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str | None] = mapped_column(String(16), ForeignKey("api_keys.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    document_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser session of the review workspace, made from an API key.

    The cookie holds a random token; only its SHA-256 is stored, so a copy of the database cannot be
    replayed as a cookie. The CSRF token is per session (synchroniser token)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class DocumentGrant(Base):
    """Access to a document for a key that uploaded the same bytes after another key did.

    The document (and its extraction) is shared, since it is the same file; the grant keeps what is
    this key's own: the filename it sent and when. A key with scope "own" then sees the document,
    under its own filename and never with the first uploader's key or name."""

    __tablename__ = "document_grants"
    __table_args__ = (UniqueConstraint("document_id", "key_id", name="uq_document_grants_document_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(String(32), ForeignKey("documents.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))  # display only, never a path
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BatchRow(Base):
    """An archive uploaded to POST /v1/batches: its members became documents (or were refused)."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))  # display only, never a path
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set once every member is listed; NULL while the archive is being read (or if that was cut short).
    expanded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class BatchItemRow(Base):
    """One member of a batch's archive: the document it became or was linked to, or why it was refused."""

    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(32), ForeignKey("batches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)  # the member's path in the archive (nested: a!b)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # new (a document and a job were made) | existing (linked to a document stored before) |
    # duplicate (the same bytes as an earlier member) | rejected (see error_code)
    outcome: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("documents.id"), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
