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
    width = length + GROUPS - 1
    # 256 is a multiple of 32, so taking each random byte modulo 32 is unbiased.
    raw = np.frombuffer(secrets.token_bytes(n * length), dtype=np.uint8)
    symbols = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    chars = np.full((n, width), ord("-"), dtype=np.uint8)
    digit_columns = [i for i in range(width) if (i + 1) % (GROUP_LEN + 1)]
    chars[:, digit_columns] = symbols[raw % len(ALPHABET)].reshape(n, length)
    return chars.view(f"S{width}").ravel().astype(str).tolist()


def normalise_tracking_id(value: str) -> str:
    """Accept lower case, spaces and a missing dash, as people type ids."""
    clean = "".join(ch for ch in value.upper() if ch.isalnum())
    clean = clean.translate(str.maketrans("ILO", "110"))
    return "-".join(clean[i:i + GROUP_LEN] for i in range(0, len(clean), GROUP_LEN))
