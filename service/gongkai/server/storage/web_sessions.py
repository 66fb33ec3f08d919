"""Browser sessions of the review workspace: made from an API key, stored by the hash of their token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gongkai.server.storage.models import ApiKey, WebSession, utcnow


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create(s: Session, key_id: str, lifetime: timedelta) -> NewSession:
    """A new session for the key, valid for ``lifetime``; expired sessions are purged on the way."""
    now = utcnow()
    s.execute(delete(WebSession).where(WebSession.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        WebSession(
            token_hash=_hash(token), key_id=key_id, csrf_token=csrf, created_at=now, expires_at=now + lifetime
        )
    )
    return NewSession(token, csrf)


def resolve(s: Session, token: str) -> tuple[WebSession, ApiKey] | None:
    """The live session and its key, or None: unknown, expired, or its key revoked since sign-in."""
    if not token or len(token) > 200:
        return None
    row = s.get(WebSession, _hash(token))
    if row is None or row.expires_at <= utcnow():
        return None
    key = s.scalar(select(ApiKey).where(ApiKey.id == row.key_id))
    if key is None or key.revoked_at is not None:
        return None
    return row, key


def end(s: Session, token: str) -> None:
    s.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def csrf_matches(row: WebSession, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(row.csrf_token.encode(), (sent or "").encode())
