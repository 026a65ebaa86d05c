"""API keys for Open311 clients. Only a SHA-256 of each key is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, text

from app.errors import ValidationError


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(conn: Connection, name: str) -> str:
    """Create a key for client ``name`` and return it; it is shown only once.

    Raises
    ------
    ValidationError
        Empty name, or a client of that name already has a key.
    """
    name = name.strip()
    if not name:
        raise ValidationError("the API key needs a client name")
    if conn.execute(text("SELECT 1 FROM api_key WHERE name = :n"),
                    {"n": name}).first():
        raise ValidationError(f"a client named {name!r} already has a key")
    key = secrets.token_urlsafe(32)
    conn.execute(text("INSERT INTO api_key (name, key_hash) VALUES (:n, :h)"),
                 {"n": name, "h": _digest(key)})
    return key


def api_key_id(conn: Connection, key: str | None) -> int | None:
    """Return the id of the active key ``key``, or None if it is not one."""
    if not key:
        return None
    return conn.execute(text(
        "SELECT api_key_id FROM api_key WHERE key_hash = :h"
        " AND revoked_at IS NULL"), {"h": _digest(key)}).scalar()
