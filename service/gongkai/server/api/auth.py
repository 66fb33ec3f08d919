"""API-key authentication and role checks (uploader < reviewer < admin)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from gongkai.server.api.deps import DbDep
from gongkai.server.api.errors import ApiError
from gongkai.server.storage import repository as repo
from gongkai.server.storage.keys import Role, role_allows

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer gk_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key in `X-API-Key`")


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: str
    scope: str = "own"

    @property
    def sees_all(self) -> bool:
        """Reviewers and admins see every document; an uploader only with scope "all"."""
        return role_allows(self.role, "reviewer") or self.scope == "all"


def _authenticate(
    db: DbDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Caller:
    plaintext = header or (bearer.credentials if bearer else None)
    if not plaintext:
        raise ApiError(
            401, "unauthenticated", "an API key is required (Authorization: Bearer … or X-API-Key)"
        )
    with db.session() as s:
        key = repo.verify_key(s, plaintext)
        if key is None:
            raise ApiError(401, "unauthenticated", "the API key is not valid or was revoked")
        return Caller(key.id, key.role, key.scope)


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
