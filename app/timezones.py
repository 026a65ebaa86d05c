"""Time-zone names given on the command line or in requests."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_tz(name: str) -> ZoneInfo:
    """Return the zone called ``name`` or raise ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as "
            "Asia/Kolkata or America/New_York"
        ) from None
