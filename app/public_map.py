"""The public complaint map: its filters, viewport and features.

Far out, complaints are counted per grid cell in PostGIS; close in (zoom
``POINTS_MIN_ZOOM`` and up, over a box no larger than a screen), the newest
complaints come one by one. Either way no response holds more than a couple of
thousand features, whatever the number of complaints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from app.errors import ValidationError
from app.models import CLOSED_STATUSES, OPEN_STATUSES, ComplaintStatus
from geo import queries
from geo.queries import BBox

#: From this zoom level on, the map shows complaints one by one.
POINTS_MIN_ZOOM = 16
MAX_ZOOM = 22
MAX_POINTS = 1000
MAX_CELLS = 2000
#: Width of a grid cell on screen, in pixels of a 256-pixel map tile.
CELL_PX = 64
TILE_PX = 256
#: Widest screen, in pixels, that a viewport may stand for and still get
#: single complaints; a larger box gets cells, because every complaint in it
#: would have to be read and sorted.
MAX_VIEW_PX = 2560
#: The map page opens on complaints filed in the last this many days.
DEFAULT_DAYS = 90

STATUS_GROUPS = {"any": None, "open": sorted(OPEN_STATUSES),
                 "closed": sorted(CLOSED_STATUSES)}
#: "closed" is both a group and a status; as a filter it means the group.
STATUS_CHOICES = tuple(dict.fromkeys([*STATUS_GROUPS,
                                      *(s.value for s in ComplaintStatus)]))
FILTER_KEYS = ("category", "status", "ward", "since", "until")
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_WARD_CODE = 64


@dataclass(frozen=True)
class MapFilters:
    """Which complaints the map shows; None (or ``any``) means all."""

    category: str | None = None
    status: str = "any"
    ward: str | None = None
    since: date | None = None
    until: date | None = None

    def for_query(self) -> dict[str, Any]:
        """Return the filters as ``geo.queries`` takes them (UTC days)."""
        statuses = STATUS_GROUPS.get(self.status, [self.status])
        return {"statuses": statuses, "category_slug": self.category,
                "ward_code": self.ward, "since": _day_start(self.since),
                "until": _day_start(self.until, plus_days=1)}

    def as_args(self) -> dict[str, str]:
        """Return the filters as query-string values (empty when unset)."""
        return {"category": self.category or "", "status": self.status,
                "ward": self.ward or "",
                "since": self.since.isoformat() if self.since else "",
                "until": self.until.isoformat() if self.until else ""}


@dataclass(frozen=True)
class Viewport:
    """The part of the map on screen: a box in degrees and a zoom level."""

    bbox: BBox
    zoom: int


def _day_start(day: date | None, plus_days: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=plus_days), time(), UTC)


def default_filters(today: date) -> MapFilters:
    """Return the filters of a first visit: complaints of recent weeks."""
    return MapFilters(since=today - timedelta(days=DEFAULT_DAYS))


def parse_filters(args: Mapping[str, str]) -> MapFilters:
    """Read ``category``, ``status``, ``ward``, ``since`` and ``until``.

    Raises
    ------
    ValidationError
        A value is malformed; the message names the parameter and the value.

    Notes
    -----
    ``since`` and ``until`` are calendar days in UTC, both included. A
    category or ward code that exists nowhere is not an error: it matches no
    complaint.
    """
    category = (args.get("category") or "").strip() or None
    if category is not None and not SLUG.match(category):
        raise ValidationError(
            f"category must be a category code such as 'pothole' (lower-case "
            f"letters, digits, - and _), got {category!r}")
    status = (args.get("status") or "").strip() or "any"
    if status not in STATUS_CHOICES:
        raise ValidationError(f"status must be one of {', '.join(STATUS_CHOICES)}"
                              f"; got {status!r}")
    ward = (args.get("ward") or "").strip() or None
    if ward is not None and (len(ward) > MAX_WARD_CODE or not ward.isprintable()):
        raise ValidationError(f"ward must be a ward code of at most "
                              f"{MAX_WARD_CODE} characters, got {ward[:80]!r}")
    since, until = _parse_date(args, "since"), _parse_date(args, "until")
    if since and until and since > until:
        raise ValidationError(f"since ({since}) is after until ({until})")
    return MapFilters(category, status, ward, since, until)


def _parse_date(args: Mapping[str, str], name: str) -> date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        if not ISO_DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name} must be a date written YYYY-MM-DD, got "
                              f"{value[:40]!r}") from None


def parse_viewport(args: Mapping[str, str]) -> Viewport:
    """Read ``bbox=minlon,minlat,maxlon,maxlat`` and ``zoom``.

    Raises
    ------
    ValidationError
        Either is missing or malformed, or the box is empty or off the globe.
    """
    return Viewport(_parse_bbox(args.get("bbox")), _parse_zoom(args.get("zoom")))


def _parse_bbox(value: str | None) -> BBox:
    if not value:
        raise ValidationError("bbox is required: minlon,minlat,maxlon,maxlat "
                              "in degrees")
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise ValidationError("bbox must be four numbers minlon,minlat,maxlon,"
                              f"maxlat; got {value[:80]!r}")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon < max_lon <= 180):
        raise ValidationError("bbox longitudes must lie within -180..180 with "
                              f"minlon < maxlon; got {min_lon:g}, {max_lon:g}")
    if not (-90 <= min_lat < max_lat <= 90):
        raise ValidationError("bbox latitudes must lie within -90..90 with "
                              f"minlat < maxlat; got {min_lat:g}, {max_lat:g}")
    return (min_lon, min_lat, max_lon, max_lat)


def _parse_zoom(value: str | None) -> int:
    if not value:
        raise ValidationError(f"zoom is required: a whole number from 0 to "
                              f"{MAX_ZOOM}")
    zoom = int(value) if value.isdigit() else -1
    if not 0 <= zoom <= MAX_ZOOM:
        raise ValidationError(f"zoom must be a whole number from 0 to {MAX_ZOOM}"
                              f", got {value!r}")
    return zoom


def _degrees_per_px(zoom: int) -> float:
    return 360.0 / (TILE_PX * 2 ** zoom)


def shows_points(viewport: Viewport) -> bool:
    """Return True if the viewport is close enough for single complaints."""
    min_lon, min_lat, max_lon, max_lat = viewport.bbox
    widest_deg = MAX_VIEW_PX * _degrees_per_px(viewport.zoom)
    return (viewport.zoom >= POINTS_MIN_ZOOM
            and max(max_lon - min_lon, max_lat - min_lat) <= widest_deg)


def cell_size_deg(viewport: Viewport) -> float:
    """Return the grid cell side (degrees) for a viewport.

    A cell is about ``CELL_PX`` screen pixels wide at the viewport's zoom, and
    doubles until the box holds at most ``MAX_CELLS`` cells (a client may ask
    for a box much larger than its zoom suggests).
    """
    min_lon, min_lat, max_lon, max_lat = viewport.bbox
    cell = CELL_PX * _degrees_per_px(viewport.zoom)
    while _n_cells(max_lon - min_lon, max_lat - min_lat, cell) > MAX_CELLS:
        cell *= 2
    return cell


def _n_cells(width: float, height: float, cell: float) -> int:
    # Unaligned edges can each cut one more cell.
    return (math.floor(width / cell) + 2) * (math.floor(height / cell) + 2)


def map_features(conn: Connection, viewport: Viewport,
                 filters: MapFilters) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection for a viewport.

    ``kind`` is ``points`` (one feature per complaint, newest first) when
    :func:`shows_points`, else ``cells`` (each feature counts
    ``n_complaints`` around its point).
    ``n_complaints`` is the number of complaints the features stand for, and
    ``truncated`` says whether more matched than were sent.
    """
    query = filters.for_query()
    if shows_points(viewport):
        rows = queries.complaint_points(conn, viewport.bbox, query,
                                        MAX_POINTS + 1)
        features = [_point_feature(r) for r in rows[:MAX_POINTS]]
        return _collection("points", features, len(features),
                           len(rows) > MAX_POINTS)

    cell = cell_size_deg(viewport)
    rows = queries.complaint_cells(conn, viewport.bbox, cell, query,
                                   MAX_CELLS + 1)
    features = [_cell_feature(r) for r in rows[:MAX_CELLS]]
    n_complaints = sum(r["n_complaints"] for r in rows[:MAX_CELLS])
    collection = _collection("cells", features, n_complaints,
                             len(rows) > MAX_CELLS)
    collection["cell_deg"] = cell
    return collection


def _collection(kind: str, features: list, n_complaints: int,
                truncated: bool) -> dict[str, Any]:
    return {"type": "FeatureCollection", "kind": kind, "features": features,
            "n_complaints": n_complaints, "truncated": truncated}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def _cell_feature(row: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _point(row["lon"], row["lat"]),
            "properties": {"n_complaints": row["n_complaints"]}}


def _point_feature(row: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _point(row["lon"], row["lat"]),
            "properties": {
                "tracking_id": row["tracking_id"],
                "category_slug": row["category_slug"],
                "category_name": row["category_name"], "status": row["status"],
                "created_at": row["created_at"].isoformat()}}


def filter_choices(conn: Connection) -> dict[str, list[dict[str, str]]]:
    """Return the categories and current wards offered as map filters."""
    categories = conn.execute(text(
        "SELECT slug, name FROM category ORDER BY NOT is_active, position, name"
    )).mappings()
    wards = conn.execute(text(
        "SELECT w.ward_code, w.ward_name FROM ward AS w JOIN ward_set AS s"
        " ON s.ward_set_id = w.ward_set_id AND s.is_current ORDER BY w.ward_code"
    )).mappings()
    return {"categories": [dict(r) for r in categories],
            "wards": [dict(r) for r in wards]}
