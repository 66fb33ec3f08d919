"""Repository functions: every read and write the API and the workers make, in one place."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from gongkai.server.storage import keys as keylib
from gongkai.server.storage.models import (
    ApiKey,
    CorrectionRow,
    DocumentGrant,
    DocumentRow,
    EventRow,
    JobRow,
    ResultRow,
    utcnow,
)

# --- keys ---------------------------------------------------------------------------------------


def create_key(
    s: Session, role: str, name: str = "", created_by: str | None = None, scope: str | None = None
) -> tuple[ApiKey, str]:
    if role not in keylib.ROLES:
        raise ValueError(f"role must be one of {', '.join(keylib.ROLES)}, not {role!r}")
    if scope is None:
        scope = "own" if role == "uploader" else "all"
    if scope not in keylib.SCOPES:
        raise ValueError(f"scope must be one of {', '.join(keylib.SCOPES)}, not {scope!r}")
    new = keylib.generate_key()
    row = ApiKey(
        id=new.key_id,
        name=name,
        role=role,
        scope=scope,
        salt=new.salt,
        secret_hash=new.secret_hash,
        created_at=utcnow(),
        created_by=created_by,
    )
    s.add(row)
    s.flush()
    log_event(s, created_by, "key.create", None, {"key": new.key_id, "role": role, "scope": scope})
    return row, new.plaintext


_DUMMY_SALT = "00" * 16
_DUMMY_HASH = keylib.hash_secret(_DUMMY_SALT, "x")


def verify_key(s: Session, plaintext: str) -> ApiKey | None:
    parsed = keylib.parse_key(plaintext)
    if parsed is None:
        return None
    key_id, secret = parsed
    row = s.get(ApiKey, key_id)
    if row is None:
        keylib.secret_matches(_DUMMY_SALT, _DUMMY_HASH, secret)  # same work for unknown ids
        return None
    if not keylib.secret_matches(row.salt, row.secret_hash, secret) or row.revoked_at is not None:
        return None
    return row


def list_keys(s: Session) -> list[ApiKey]:
    return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))


class LastAdminError(Exception):
    """Revoking this key would leave no active admin key, and so no way to manage keys over the API."""


def _active_admins() -> Any:
    return and_(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))


def revoke_key(s: Session, key_id: str, by: str | None, *, keep_an_admin: bool = False) -> ApiKey | None:
    """Revoke a key (None when there is no such key). With ``keep_an_admin`` (the API), refuse with
    LastAdminError to revoke the last active admin key; the CLI, run by whoever holds the database,
    may still do it and can always create a new admin."""
    row = s.get(ApiKey, key_id)
    if row is None:
        return None
    if keep_an_admin and row.role == "admin" and row.revoked_at is None:
        # Lock the active admin rows (PostgreSQL), so two admins revoking each other cannot both pass
        # the count; SQLite serializes the writes that follow anyway.
        admins = list(s.scalars(select(ApiKey.id).where(_active_admins()).with_for_update()))
        if len(admins) <= 1:
            raise LastAdminError(f"key {key_id} is the last active admin key; create another admin first")
        # The count again inside the UPDATE: on SQLite it runs under the write lock, so it is current.
        others = select(func.count()).select_from(ApiKey).where(_active_admins(), ApiKey.id != key_id)
        res = s.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None), others.scalar_subquery() > 0)
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        s.refresh(row)
        if not res.rowcount:  # type: ignore[attr-defined]
            if row.revoked_at is None:
                raise LastAdminError(f"key {key_id} is the last active admin key; create another admin first")
            return row  # revoked meanwhile by someone else
        log_event(s, by, "key.revoke", None, {"key": key_id})
        return row
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        log_event(s, by, "key.revoke", None, {"key": key_id})
    return row


# --- events -------------------------------------------------------------------------------------


def log_event(s: Session, key_id: str | None, action: str, document_id: str | None, detail: Any) -> None:
    s.add(
        EventRow(
            key_id=key_id,
            action=action,
            document_id=document_id,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
            created_at=utcnow(),
        )
    )


# --- documents ----------------------------------------------------------------------------------


def new_document_id() -> str:
    return uuid.uuid4().hex


def find_by_sha(s: Session, sha256: str) -> DocumentRow | None:
    return s.scalars(select(DocumentRow).where(DocumentRow.sha256 == sha256)).first()


def referenced_shas(s: Session) -> set[str]:
    """The sha256 of every stored object a document row points at (documents.sha256 is the key)."""
    return set(s.scalars(select(DocumentRow.sha256)))


def create_document(
    s: Session,
    *,
    sha256: str,
    media_type: str,
    size: int,
    filename: str,
    pages: int | None,
    key_id: str,
    max_attempts: int,
) -> tuple[DocumentRow, JobRow]:
    now = utcnow()
    doc = DocumentRow(
        id=new_document_id(),
        sha256=sha256,
        media_type=media_type,
        size=size,
        filename=filename,
        pages=pages,
        status="queued",
        uploaded_by=key_id,
        owner_key_id=key_id,
        created_at=now,
        updated_at=now,
    )
    s.add(doc)
    s.flush()  # the unique sha256 index speaks here when two uploads of one file race
    job = _new_job(s, doc.id, key_id, max_attempts)
    log_event(s, key_id, "document.upload", doc.id, {"sha256": sha256, "size": size})
    return doc, job


def _new_job(s: Session, document_id: str, key_id: str, max_attempts: int) -> JobRow:
    now = utcnow()
    job = JobRow(
        document_id=document_id,
        status="queued",
        stage="queued",
        attempts=0,
        max_attempts=max_attempts,
        not_before=now,
        requested_by=key_id,
        created_at=now,
    )
    s.add(job)
    s.flush()
    return job


def get_document(s: Session, document_id: str) -> DocumentRow | None:
    return s.get(DocumentRow, document_id)


def latest_job(s: Session, document_id: str) -> JobRow | None:
    return s.scalars(
        select(JobRow).where(JobRow.document_id == document_id).order_by(JobRow.id.desc()).limit(1)
    ).first()


@dataclass
class DocumentFilter:
    status: str | None = None
    format: str | None = None
    year: int | None = None
    agency: str | None = None
    failing: bool | None = None
    needs_review: bool = False


# Orders of the document list; "failing" (most failing checks, then most cells to review) is the
# review queue's default, "newest" the API's. The id last keeps paging stable.
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (DocumentRow.created_at.desc(), DocumentRow.id),
    "oldest": (DocumentRow.created_at, DocumentRow.id),
    "failing": (
        func.coalesce(DocumentRow.failing_checks, -1).desc(),
        func.coalesce(DocumentRow.cells_to_review, -1).desc(),
        DocumentRow.created_at.desc(),
        DocumentRow.id,
    ),
    "year": (func.coalesce(DocumentRow.year, 0).desc(), DocumentRow.created_at.desc(), DocumentRow.id),
    "agency": (func.coalesce(DocumentRow.agency, "\uffff"), DocumentRow.created_at.desc(), DocumentRow.id),
}


def owned_by(key_id: str) -> Any:
    """Documents the key owns; a legacy row (no owner) belongs to the key that uploaded it."""
    return or_(
        DocumentRow.owner_key_id == key_id,
        and_(DocumentRow.owner_key_id.is_(None), DocumentRow.uploaded_by == key_id),
    )


def document_owned_by(doc: DocumentRow, key_id: str) -> bool:
    """In Python, what ``owned_by`` says in SQL."""
    owner = doc.owner_key_id if doc.owner_key_id is not None else doc.uploaded_by
    return owner == key_id


def visible_to(key_id: str) -> Any:
    """Documents a key with scope "own" sees: those it owns and those it holds a grant for."""
    granted = select(DocumentGrant.document_id).where(DocumentGrant.key_id == key_id)
    return or_(owned_by(key_id), DocumentRow.id.in_(granted))


def grant_for(s: Session, document_id: str, key_id: str) -> DocumentGrant | None:
    return s.scalars(
        select(DocumentGrant).where(DocumentGrant.document_id == document_id, DocumentGrant.key_id == key_id)
    ).first()


def grants_for(s: Session, key_id: str, document_ids: list[str]) -> dict[str, DocumentGrant]:
    """The key's grants among these documents, by document id (one query for a page of a list)."""
    if not document_ids:
        return {}
    rows = s.scalars(
        select(DocumentGrant).where(
            DocumentGrant.key_id == key_id, DocumentGrant.document_id.in_(document_ids)
        )
    )
    return {g.document_id: g for g in rows}


def grant_document(s: Session, doc: DocumentRow, key_id: str, filename: str) -> DocumentGrant:
    """Give a key that uploaded the same bytes access to the document (once; the first name stays).
    Two such uploads at once by the same key: the unique (document, key) index makes one of them
    fail here, and the caller reads the grant the other made."""
    existing = grant_for(s, doc.id, key_id)
    if existing is not None:
        return existing
    grant = DocumentGrant(document_id=doc.id, key_id=key_id, filename=filename, created_at=utcnow())
    s.add(grant)
    s.flush()
    log_event(s, key_id, "document.grant", doc.id, {"sha256": doc.sha256})
    return grant


def list_documents(
    s: Session,
    f: DocumentFilter,
    limit: int,
    offset: int,
    owner: str | None = None,
    sort: str = "newest",
) -> tuple[list[DocumentRow], int]:
    """A page of documents and the total; with ``owner``, only those that key sees (owned, granted)."""
    conds = []
    if owner is not None:
        conds.append(visible_to(owner))
    if f.status:
        conds.append(DocumentRow.status == f.status)
    if f.format:
        conds.append(DocumentRow.format == f.format)
    if f.year is not None:
        conds.append(DocumentRow.year == f.year)
    if f.agency:
        escaped = f.agency.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(DocumentRow.agency.like(f"%{escaped}%", escape="\\"))
    if f.failing is True:
        conds.append(DocumentRow.failing_checks > 0)
    elif f.failing is False:
        conds.append(DocumentRow.failing_checks == 0)
    if f.needs_review:
        conds.append(needs_review())
    where = and_(*conds) if conds else None
    q = select(DocumentRow)
    cq = select(func.count()).select_from(DocumentRow)
    if where is not None:
        q, cq = q.where(where), cq.where(where)
    total = int(s.scalar(cq) or 0)
    rows = s.scalars(q.order_by(*SORTS[sort]).limit(limit).offset(offset))
    return list(rows), total


def machine_result_json(s: Session, document_id: str) -> str | None:
    """The machine result as stored: the result contract's JSON text."""
    row = s.get(ResultRow, document_id)
    return None if row is None else row.result_json


def corrections(s: Session, document_id: str) -> list[CorrectionRow]:
    return list(
        s.scalars(
            select(CorrectionRow)
            .where(CorrectionRow.document_id == document_id)
            .order_by(CorrectionRow.created_at, CorrectionRow.id)
        )
    )


def add_correction(
    s: Session,
    doc: DocumentRow,
    *,
    target: str,
    target_id: str,
    old: Any,
    new: Any,
    reason: str,
    key_id: str,
) -> CorrectionRow:
    """Store one correction (old and new as JSON) and its audit event."""
    row = CorrectionRow(
        document_id=doc.id,
        target=target,
        target_id=target_id,
        old_json=json.dumps(old, ensure_ascii=False),
        new_json=json.dumps(new, ensure_ascii=False),
        reason=reason,
        key_id=key_id,
        created_at=utcnow(),
    )
    s.add(row)
    s.flush()
    log_event(s, key_id, f"correction.{target}", doc.id, {"target": target_id, "correction": row.id})
    return row


def lock_document(s: Session, document_id: str) -> DocumentRow | None:
    """The document, locked until the transaction ends (None when there is no such document).

    Whoever reads and then writes a document's corrections takes this first, so the read is current
    and no other writer commits in between: on PostgreSQL a row lock (``SELECT … FOR UPDATE``; the
    statements after it, in READ COMMITTED, see what the previous holder committed); on SQLite a no-op
    UPDATE as the transaction's first statement, which takes the database's one write lock (waiting
    out the busy timeout) before anything is read."""
    if s.get_bind().dialect.name == "sqlite":
        s.execute(
            update(DocumentRow)
            .where(DocumentRow.id == document_id)
            .values(updated_at=DocumentRow.updated_at)
            .execution_options(synchronize_session=False)
        )
    q = select(DocumentRow).where(DocumentRow.id == document_id).with_for_update()
    return s.scalars(q.execution_options(populate_existing=True)).first()


def latest_correction_id(s: Session, document_id: str) -> int | None:
    """The id of the document's latest correction (ids only grow), None without corrections."""
    q = select(func.max(CorrectionRow.id)).where(CorrectionRow.document_id == document_id)
    return s.scalar(q)


def set_failing_checks(doc: DocumentRow, failing: int, to_review: int | None = None) -> None:
    doc.failing_checks = failing
    if to_review is not None:
        doc.cells_to_review = to_review
    doc.updated_at = utcnow()


def set_reviewed(s: Session, doc: DocumentRow, reviewed: bool, key_id: str) -> None:
    """Mark the document reviewed by ``key_id`` now, or not reviewed; logged either way."""
    doc.reviewed_by = key_id if reviewed else None
    doc.reviewed_at = utcnow() if reviewed else None
    log_event(s, key_id, "reviewed" if reviewed else "unreviewed", doc.id, {})


def last_reviewers(s: Session, document_ids: list[str]) -> dict[str, str]:
    """The key of each document's latest correction (documents without corrections are absent)."""
    if not document_ids:
        return {}
    latest = (
        select(CorrectionRow.document_id, func.max(CorrectionRow.id).label("last"))
        .where(CorrectionRow.document_id.in_(document_ids))
        .group_by(CorrectionRow.document_id)
        .subquery()
    )
    rows = s.execute(
        select(CorrectionRow.document_id, CorrectionRow.key_id).join(
            latest, CorrectionRow.id == latest.c.last
        )
    )
    return {doc_id: key_id for doc_id, key_id in rows}


def needs_review() -> Any:
    """Done, not yet marked reviewed, and with a failing check or a cell waiting for a person."""
    return and_(
        DocumentRow.status == "done",
        DocumentRow.reviewed_at.is_(None),
        or_(DocumentRow.failing_checks > 0, DocumentRow.cells_to_review > 0),
    )


def next_needing_review(s: Session, after: str | None = None, owner: str | None = None) -> str | None:
    """The id of the next document needing review in the review order (most failing first), after
    ``after`` when given (wrapping around), skipping it."""
    q = select(DocumentRow.id).where(needs_review())
    if owner is not None:
        q = q.where(visible_to(owner))
    ids = list(s.scalars(q.order_by(*SORTS["failing"])))
    if after in ids:
        i = ids.index(after)
        ids = ids[i + 1 :] + ids[:i]
    return ids[0] if ids else None


# --- jobs ---------------------------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    return or_(
        and_(JobRow.status == "queued", JobRow.not_before <= now),
        and_(JobRow.status == "running", JobRow.lease_expires_at < now),
    )


def claimable_job_ids(s: Session, limit: int = 5) -> list[int]:
    now = utcnow()
    return list(s.scalars(select(JobRow.id).where(_claimable(now)).order_by(JobRow.id).limit(limit)))


def dispatchable_job_ids(s: Session, timeout_seconds: float, limit: int = 100) -> list[int]:
    """Claimable jobs the broker should be told about: never sent, sent longer than ``timeout_seconds``
    ago, or running under a lease that expired after their last send (a worker died holding them)."""
    now = utcnow()
    stale = now - timedelta(seconds=timeout_seconds)
    due = or_(
        JobRow.dispatched_at.is_(None),
        JobRow.dispatched_at < stale,
        and_(JobRow.status == "running", JobRow.dispatched_at < JobRow.lease_expires_at),
    )
    q = select(JobRow.id).where(_claimable(now), due).order_by(JobRow.id).limit(limit)
    return list(s.scalars(q))


def mark_dispatched(s: Session, job_ids: list[int], when: datetime | None = None) -> None:
    """Record that these jobs were just sent to the broker."""
    if not job_ids:
        return
    s.execute(
        update(JobRow)
        .where(JobRow.id.in_(job_ids))
        .values(dispatched_at=when or utcnow())
        .execution_options(synchronize_session=False)
    )


def try_claim(s: Session, job_id: int, owner: str, lease_seconds: int) -> bool:
    """Take a job if it is still claimable: one conditional UPDATE, so two workers never both win."""
    now = utcnow()
    res = s.execute(
        update(JobRow)
        .where(JobRow.id == job_id, _claimable(now))
        .values(
            status="running",
            stage="claimed",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=JobRow.attempts + 1,
            started_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def renew_lease(s: Session, job_id: int, owner: str, lease_seconds: int, stage: str | None = None) -> bool:
    values: dict[str, Any] = {"lease_expires_at": utcnow() + timedelta(seconds=lease_seconds)}
    if stage:
        values["stage"] = stage
    res = s.execute(
        update(JobRow)
        .where(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount)  # type: ignore[attr-defined]


def jobs_leased_by(s: Session, owner: str) -> list[JobRow]:
    """The running jobs whose lease this owner holds (a dead worker's, to hand on at once)."""
    q = select(JobRow).where(JobRow.status == "running", JobRow.lease_owner == owner).order_by(JobRow.id)
    return list(s.scalars(q))


def owns(s: Session, job_id: int, owner: str) -> JobRow | None:
    job = s.get(JobRow, job_id)
    if job is None or job.status != "running" or job.lease_owner != owner:
        return None
    return job


RETRYABLE_STATUSES = ("failed",)


def retry_document(s: Session, doc: DocumentRow, key_id: str, max_attempts: int) -> JobRow | None:
    """Queue a failed document again, or None when it is no longer retryable.

    One conditional UPDATE decides: of concurrent retries only the one whose UPDATE hit the row makes a
    job (PostgreSQL re-checks the WHERE after the winner commits; SQLite runs one writer at a time)."""
    res = s.execute(
        update(DocumentRow)
        .where(DocumentRow.id == doc.id, DocumentRow.status.in_(RETRYABLE_STATUSES))
        .values(status="queued", error_code=None, error_message=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    s.refresh(doc)  # the row as the UPDATE left it (or as the winner did)
    if not res.rowcount:  # type: ignore[attr-defined]
        return None
    job = _new_job(s, doc.id, key_id, max_attempts)
    log_event(s, key_id, "document.retry", doc.id, {"job": job.id})
    return job


def job_counts(s: Session) -> dict[str, int]:
    return {str(k): int(v) for k, v in s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))}


def document_counts(s: Session) -> dict[str, int]:
    return {
        str(k): int(v)
        for k, v in s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status))
    }


def history(s: Session, document_id: str) -> list[CorrectionRow]:
    return corrections(s, document_id)
