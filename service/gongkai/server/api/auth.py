"""Authentication and role checks (uploader < reviewer < admin).

A caller is an API key, sent as ``Authorization: Bearer …`` or ``X-API-Key``, or a browser session of
the review workspace (the ``gongkai_session`` cookie, made from an API key at /review/sign-in). A
session writes only with its CSRF token in ``X-CSRF-Token``: the cookie alone, which a browser sends
with any request, never changes anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gongkai.server.api.deps import DbDep
from gongkai.server.api.errors import ApiError
from gongkai.server.storage import repository as repo
from gongkai.server.storage import web_sessions
from gongkai.server.storage.keys import Role, role_allows

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer gk_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key in `X-API-Key`")
SESSION_COOKIE = "gongkai_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    scope: str = "own"
    # The review workspace's session, when the caller came with its cookie instead of a key.
    csrf_token: str | None = None

    @property
    def sees_all(self) -> bool:
        """Reviewers and admins see every document; an uploader only with scope "all"."""
        return role_allows(self.role, "reviewer") or self.scope == "all"


def _authenticate(
    request: Request,
    db: DbDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Caller:
    plaintext = header or (bearer.credentials if bearer else None)
    if not plaintext:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            return session_caller(db, token, request.method, request.headers.get(CSRF_HEADER))
        raise ApiError(
            401, "unauthenticated", "an API key is required (Authorization: Bearer … or X-API-Key)"
        )
    with db.session() as s:
        key = repo.verify_key(s, plaintext)
        if key is None:
            raise ApiError(401, "unauthenticated", "the API key is not valid or was revoked")
        return Caller(key.id, key.role, key.scope)


def session_caller(db: DbDep, token: str, method: str, csrf: str | None) -> Caller:
    """The caller behind a session cookie; a write needs the session's CSRF token as well."""
    with db.session() as s:
        found = web_sessions.resolve(s, token)
        if found is None:
            raise ApiError(401, "unauthenticated", "the session has expired or was ended: sign in again")
        session, key = found
        if method not in SAFE_METHODS and not web_sessions.csrf_matches(session, csrf):
            raise ApiError(403, "csrf", f"a write from a browser session needs its {CSRF_HEADER}")
        return Caller(key.id, key.role, key.scope, csrf_token=session.csrf_token)


def require(role: Role) -> Callable[..., Caller]:
    def dependency(caller: Annotated[Caller, Depends(_authenticate)]) -> Caller:
        if not role_allows(caller.role, role):
            raise ApiError(
                403, "forbidden", f"this needs the {role} role; the key has the {caller.role} role"
            )
        return caller

    return dependency


# What a route declares to say who may call it.
Uploader = Annotated[Caller, Depends(require("uploader"))]
Reviewer = Annotated[Caller, Depends(require("reviewer"))]
Admin = Annotated[Caller, Depends(require("admin"))]
