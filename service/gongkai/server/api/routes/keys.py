"""/v1/keys: API keys (admin only). A key's secret is shown once, at creation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Path as PathParam

from gongkai.server.api import schemas
from gongkai.server.api.auth import Admin
from gongkai.server.api.deps import DbDep
from gongkai.server.api.errors import ApiError
from gongkai.server.api.routes.common import ERRORS, optional_iso
from gongkai.server.storage import repository as repo
from gongkai.server.storage.models import ApiKey, iso

router = APIRouter()


def _key_out(k: ApiKey) -> dict[str, Any]:
    return schemas.KeyOut(
        id=k.id,
        name=k.name,
        role=k.role,
        scope=k.scope,
        created_at=iso(k.created_at),
        created_by=k.created_by,
        revoked_at=optional_iso(k.revoked_at),
    ).model_dump()


@router.post("/v1/keys", status_code=201, response_model=schemas.KeyCreated, responses=ERRORS, tags=["keys"])
def create_key(caller: Admin, db: DbDep, body: schemas.KeyCreate) -> Any:
    with db.session() as s:
        row, plaintext = repo.create_key(s, body.role, body.name, created_by=caller.key_id, scope=body.scope)
        return {**_key_out(row), "key": plaintext}


@router.get("/v1/keys", response_model=list[schemas.KeyOut], responses=ERRORS, tags=["keys"])
def list_keys(caller: Admin, db: DbDep) -> Any:
    with db.session() as s:
        return [_key_out(k) for k in repo.list_keys(s)]


@router.delete(
    "/v1/keys/{key_id}",
    response_model=schemas.KeyOut,
    responses={409: {"model": schemas.ErrorBody, "description": "The last active admin key"}, **ERRORS},
    tags=["keys"],
)
def revoke_key(
    caller: Admin,
    db: DbDep,
    key_id: str = PathParam(pattern=r"^[0-9a-f]{12}$"),
) -> Any:
    with db.session() as s:
        try:
            row = repo.revoke_key(s, key_id, caller.key_id, keep_an_admin=True)
        except repo.LastAdminError as exc:
            raise ApiError(409, "last_admin", str(exc)) from exc
        if row is None:
            raise ApiError(404, "not_found", f"no key {key_id}")
        return _key_out(row)
