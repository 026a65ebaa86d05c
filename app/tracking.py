"""Public tracking ids: short, unguessable, easy to read out on the phone."""

from __future__ import annotations

import secrets

import numpy as np

#: Crockford's base32 digits: no I, L, O or U to misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 3
GROUP_LEN = 4


def new_tracking_id() -> str:
    """Return one id such as ``7KQ2-M9XD-4TRA`` (60 random bits)."""
    return new_tracking_ids(1)[0]


def new_tracking_ids(n: int) -> list[str]:
    """Return ``n`` random tracking ids, drawn from the OS random source."""
    length = GROUPS * GROUP_LEN
    raw = np.frombuffer(secrets.token_bytes(n * length), dtype=np.uint8)
    digits = np.array(list(ALPHABET))[raw % len(ALPHABET)].reshape(n, length)
    flat = ["".join(row) for row in digits]
    return [f"{s[:4]}-{s[4:8]}-{s[8:]}" for s in flat]


def normalise_tracking_id(value: str) -> str:
    """Accept lower case, spaces and a missing dash, as people type ids."""
    clean = "".join(ch for ch in value.upper() if ch.isalnum())
    clean = clean.translate(str.maketrans("ILO", "110"))
    return "-".join(clean[i:i + GROUP_LEN] for i in range(0, len(clean), GROUP_LEN))
