"""API keys: ``gk_<id>_<secret>``. Only a salted HMAC-SHA256 of the secret is stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["uploader", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("uploader", "reviewer", "admin")
# What an uploader key may read: the documents it uploaded ("own") or every document ("all").
Scope = Literal["own", "all"]
SCOPES: tuple[Scope, ...] = ("own", "all")
# Each role can do everything the roles before it can.
_RANK = {r: i for i, r in enumerate(ROLES)}
_KEY = re.compile(r"^gk_([0-9a-f]{12})_([0-9a-f]{48})$")


def role_allows(role: str, needed: Role) -> bool:
    return role in _RANK and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class NewKey:
    key_id: str
    plaintext: str
    salt: str
    secret_hash: str


def hash_secret(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def generate_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_hex(24)
    salt = secrets.token_hex(16)
    return NewKey(key_id, f"gk_{key_id}_{secret}", salt, hash_secret(salt, secret))


def parse_key(plaintext: str) -> tuple[str, str] | None:
    m = _KEY.match(plaintext.strip())
    return (m.group(1), m.group(2)) if m else None


def secret_matches(salt: str, expected_hash: str, secret: str) -> bool:
    return hmac.compare_digest(hash_secret(salt, secret), expected_hash)
