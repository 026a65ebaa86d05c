"""What the public tracking page shows of a complaint.

Everything here is public: contact details of reporters and supporters are
never read, and only events marked public make up the timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from app.errors import NotFoundError
from app.models import OPEN_STATUSES
from app.tracking import normalise_tracking_id
from geo import queries

logger = logging.getLogger(__name__)

#: Longer input than this is no tracking id, however it is typed.
MAX_TRACKING_INPUT = 40


@dataclass
class Due:
    """A complaint's due time seen from now."""

    due_at: datetime
    is_open: bool
    overdue: bool
    #: Time left (open and not overdue) or time past due (overdue); positive.
    delta: timedelta


@dataclass
class TrackedComplaint:
    """One complaint with its photos, public timeline and due state."""

    complaint: dict[str, Any]
    photos: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    due: Due


def clean_tracking_id(value: str) -> str:
    """Return the stored form of a typed tracking id ('' if it is no id)."""
    if not value or len(value) > MAX_TRACKING_INPUT:
        return ""
    return normalise_tracking_id(value)


def find_complaint(conn: Connection, tracking_id: str,
                   now: datetime | None = None) -> TrackedComplaint:
    """Return the public view of the complaint with ``tracking_id``.

    Raises
    ------
    NotFoundError
        No complaint has that tracking id (after normalising it).
    """
    complaint = queries.public_complaint(conn, clean_tracking_id(tracking_id))
    if complaint is None:
        raise NotFoundError(f"no complaint has tracking id {tracking_id!r}")

    complaint_id = complaint["complaint_id"]
    return TrackedComplaint(
        complaint=complaint, photos=complaint_photos(conn, complaint_id),
        timeline=public_timeline(conn, complaint_id),
        due=due_state(complaint["due_at"], complaint["status"],
                      now or datetime.now(UTC)))


def complaint_photos(conn: Connection, complaint_id: int) -> list[dict[str, Any]]:
    """Return the stored photos of a complaint in the order they were sent."""
    return [dict(r) for r in conn.execute(text(
        "SELECT position, storage_key, width, height FROM photo"
        " WHERE complaint_id = :id ORDER BY position"), {"id": complaint_id}
    ).mappings()]


def public_timeline(conn: Connection, complaint_id: int) -> list[dict[str, Any]]:
    """Return the public events of a complaint, oldest first."""
    return [dict(r) for r in conn.execute(
        text(queries.load_sql("public_timeline")),
        {"complaint_id": complaint_id}).mappings()]


def due_state(due_at: datetime, status: str, now: datetime) -> Due:
    """Say whether an open complaint is overdue, and by how much or how long
    it has left; a closed complaint is never overdue."""
    is_open = status in OPEN_STATUSES
    overdue = is_open and now > due_at
    return Due(due_at=due_at, is_open=is_open, overdue=overdue,
               delta=abs(due_at - now))


def photo_is_stored(conn: Connection, storage_key: str) -> bool:
    """Return True if ``storage_key`` names a photo of some complaint."""
    return conn.execute(text("SELECT 1 FROM photo WHERE storage_key = :k"),
                        {"k": storage_key}).first() is not None
