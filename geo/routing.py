"""Routing: a point and a category become a ward, a department and a due time.

Every intake path (web form, Open311, SMS, operators, bulk import checks) goes
through :func:`route`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from geo import queries
from geo.errors import NoWardSetError, UnknownCategoryError, WardNotFoundError


@dataclass(frozen=True)
class Route:
    """Where a complaint goes and by when it is due."""

    category_id: int
    ward_id: int
    ward_code: str
    ward_name: str
    department_id: int
    department_code: str
    department_name: str
    due_at: datetime


def check_lonlat(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lon, lat)`` as floats, or raise ValueError naming the bad one."""
    for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
        if not math.isfinite(number) or abs(number) > limit:
            raise ValueError(
                f"{name} must be between -{limit:g} and {limit:g}, got {value!r}"
            )
    return float(lon), float(lat)


def route(conn: Connection, lon: float, lat: float, category_slug: str,
          filed_at: datetime | None = None) -> Route:
    """Route a complaint at ``(lon, lat)`` of category ``category_slug``.

    One PostGIS query finds the current ward covering the point (through the
    GiST index on subdivided wards), the department (a ward-specific routing
    rule overrides the category's default) and the due time (the rule's SLA,
    else the category's, added to ``filed_at``).

    Parameters
    ----------
    conn : Connection
        Open database connection.
    lon, lat : float
        Position in degrees, EPSG:4326.
    category_slug : str
        Stable key of an active category.
    filed_at : datetime, optional
        Time-zone aware filing time; now (UTC) by default.

    Returns
    -------
    Route

    Raises
    ------
    ValueError
        Coordinates out of range or a naive ``filed_at``.
    UnknownCategoryError
        No active category has that slug.
    NoWardSetError
        No ward boundaries have been imported.
    WardNotFoundError
        The point is outside every ward; carries the nearest ward and distance.

    Notes
    -----
    A point on a boundary shared by two wards goes to the ward with the lowest
    code (``ST_Covers`` holds for both). SLA hours are calendar hours.
    """
    lon, lat = check_lonlat(lon, lat)
    filed_at = filed_at or datetime.now(UTC)
    if filed_at.tzinfo is None:
        raise ValueError("filed_at must be time-zone aware")

    row = queries.route_point(conn, lon, lat, category_slug, filed_at)

    if row is None:
        raise UnknownCategoryError(f"unknown category {category_slug!r}")
    if row["ward_id"] is None:
        raise _outside(conn, lon, lat)
    return Route(**row)


def locate(conn: Connection, lon: float, lat: float) -> dict:
    """Return the current ward covering a point (``ward_id``, ``ward_code``,
    ``ward_name``); see :func:`geo.queries.ward_for_point` for boundaries.

    Raises
    ------
    ValueError
        Coordinates out of range.
    NoWardSetError
        No ward boundaries have been imported.
    WardNotFoundError
        The point is outside every ward; carries the nearest ward and distance.
    """
    lon, lat = check_lonlat(lon, lat)
    ward = queries.ward_for_point(conn, lon, lat)
    if ward is None:
        raise _outside(conn, lon, lat)
    return ward


def _outside(conn: Connection, lon: float, lat: float) -> Exception:
    nearest = queries.nearest_ward(conn, lon, lat)
    if nearest is None:
        return NoWardSetError()
    return WardNotFoundError(lon, lat, *nearest)
