"""/v1/keys: the last active admin key cannot be revoked over the API (it would lock every admin out)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.api_support import Service, service


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    yield from service(tmp_path, workers=0)


def _id(plaintext: str) -> str:
    return plaintext.split("_")[1]


def test_last_admin_key_cannot_be_revoked(svc: Service) -> None:
    c, admin = svc.client, svc.h("admin")
    r = c.delete(f"/v1/keys/{_id(svc.keys['admin'])}", headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
    assert c.get("/v1/keys", headers=admin).status_code == 200  # still an admin
    # Other roles are revoked as before.
    assert c.delete(f"/v1/keys/{_id(svc.keys['reviewer'])}", headers=admin).status_code == 200


def test_an_admin_can_be_revoked_while_another_remains(svc: Service) -> None:
    c, admin = svc.client, svc.h("admin")
    second = c.post("/v1/keys", json={"role": "admin", "name": "second"}, headers=admin).json()
    r = c.delete(f"/v1/keys/{_id(svc.keys['admin'])}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert c.get("/v1/keys", headers=admin).status_code == 401  # the revoked key no longer works
    new = {"X-API-Key": second["key"]}
    # Now `second` is the last one, and revoking it (itself) is refused.
    r = c.delete(f"/v1/keys/{second['id']}", headers=new)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
    # Revoking an already revoked admin key stays a no-op, not a 409.
    assert c.delete(f"/v1/keys/{_id(svc.keys['admin'])}", headers=new).status_code == 200
