"""Every PostGIS query of WardWatch.

Functions take an SQLAlchemy ``Connection`` (or ``Session``) first and use
named bound parameters only. Long statements live in ``geo/sql/*.sql``.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, text

logger = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent / "sql"

#: Vertex budget of one ward piece in ``ward_part``; small pieces make the
#: point-in-polygon test after the index probe cheap.
SUBDIVIDE_MAX_VERTICES = 64


@functools.cache
def load_sql(name: str) -> str:
    """Return the text of ``geo/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text()


def current_ward_set(conn: Connection) -> dict[str, Any] | None:
    """Return the current ward set as a mapping, or None before any import."""
    row = conn.execute(text(
        "SELECT ward_set_id, version, source, content_hash, imported_at,"
        " (SELECT count(*) FROM ward w WHERE w.ward_set_id = s.ward_set_id)"
        " AS n_wards FROM ward_set s WHERE is_current"
    )).mappings().first()
    return dict(row) if row else None


def store_ward_set(conn: Connection, wards: gpd.GeoDataFrame, source: str,
                   content_hash: str) -> int:
    """Insert ``wards`` as a new ward set and make it current.

    The caller's transaction makes the switch atomic: readers see either the
    old set or the new one, complete.

    Parameters
    ----------
    conn : Connection
        Open connection inside a transaction.
    wards : GeoDataFrame
        Columns ``ward_code``, ``ward_name``, ``population``, ``geom``
        (MultiPolygon, EPSG:4326).
    source : str
        Where the boundaries came from (file name), kept for reference.
    content_hash : str
        Fingerprint of the set, to recognise an unchanged re-import.

    Returns
    -------
    int
        The new set's version number.
    """
    conn.execute(text("LOCK TABLE ward_set IN EXCLUSIVE MODE"))
    version = conn.execute(text(
        "SELECT COALESCE(max(version), 0) + 1 FROM ward_set"
    )).scalar_one()
    conn.execute(text("UPDATE ward_set SET is_current = false WHERE is_current"))
    ward_set_id = conn.execute(text(
        "INSERT INTO ward_set (version, source, content_hash, is_current)"
        " VALUES (:version, :source, :hash, true) RETURNING ward_set_id"
    ), {"version": version, "source": source, "hash": content_hash}).scalar_one()
    conn.execute(text(
        "INSERT INTO ward (ward_set_id, ward_code, ward_name, population, geom,"
        " area_m2) SELECT :ward_set_id, :code, :name, :population, g,"
        " ST_Area(g::geography) FROM ST_GeomFromWKB(:wkb, 4326) AS g"
    ), [
        {"ward_set_id": ward_set_id, "code": code, "name": name,
         "population": None if pd.isna(population) else int(population),
         "wkb": shapely.to_wkb(geom)}
        for code, name, population, geom in zip(
            wards["ward_code"], wards["ward_name"], wards["population"],
            wards.geometry)
    ])
    conn.execute(text(
        "INSERT INTO ward_part (ward_id, ward_set_id, ward_code, geom)"
        " SELECT ward_id, ward_set_id, ward_code,"
        " ST_Subdivide(geom, :max_vertices) FROM ward WHERE ward_set_id = :id"
    ), {"id": ward_set_id, "max_vertices": SUBDIVIDE_MAX_VERTICES})
    conn.execute(text("ANALYZE ward_part"))
    return version


def ward_for_point(conn: Connection, lon: float, lat: float) -> dict | None:
    """Return the current ward covering a point, or None outside every ward.

    Uses ``ST_Covers``, so a point on a boundary belongs to both wards; the
    lowest ``ward_code`` is returned so that the answer is deterministic.
    """
    row = conn.execute(text(
        "SELECT p.ward_id, p.ward_code, w.ward_name FROM ward_part p"
        " JOIN ward_set s ON s.ward_set_id = p.ward_set_id AND s.is_current"
        " JOIN ward w ON w.ward_id = p.ward_id"
        " WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
        " ORDER BY p.ward_code LIMIT 1"
    ), {"lon": lon, "lat": lat}).mappings().first()
    return dict(row) if row else None


def nearest_ward(conn: Connection, lon: float,
                 lat: float) -> tuple[str, float] | None:
    """Return ``(ward_code, distance_m)`` of the current ward nearest a point.

    The distance is geodesic (``geography``), in metres; None without wards.
    """
    row = conn.execute(text(load_sql("nearest_ward")),
                       {"lon": lon, "lat": lat}).first()
    return (row.ward_code, float(row.distance_m)) if row else None


def route_point(conn: Connection, lon: float, lat: float, category_slug: str,
                filed_at: datetime) -> dict[str, Any] | None:
    """Run the routing query for one point; see ``geo.routing.route``.

    Returns None when the category is unknown or retired; ``ward_id`` is None
    when the point is outside every ward.
    """
    row = conn.execute(text(load_sql("route_point")), {
        "lon": lon, "lat": lat, "category_slug": category_slug,
        "filed_at": filed_at,
    }).mappings().first()
    return dict(row) if row else None


def locate_staged(conn: Connection, ward_set_id: int) -> None:
    """Create temp table ``located``: ``staged_complaint`` plus ward columns."""
    conn.execute(text(load_sql("locate_staged")), {"ward_set_id": ward_set_id})


def insert_located(conn: Connection, note: str) -> int:
    """Insert located staging rows as complaints; return how many were new."""
    return conn.execute(text(load_sql("insert_located")),
                        {"note": note}).scalar_one()


def located_outside(conn: Connection) -> list[dict[str, Any]]:
    """Return the located staging rows that are outside every ward."""
    return [dict(row) for row in conn.execute(text(
        "SELECT line_no, external_id, source_category, description, status,"
        " created_at, closed_at, lon, lat FROM located WHERE ward_id IS NULL"
        " ORDER BY line_no"
    )).mappings()]


def iter_export_rows(conn: Connection, filters: dict[str, Any]):
    """Stream complaint rows for export (no contact details), oldest first.

    ``filters`` holds ``ward_code``, ``category_slug``, ``status``, ``since``
    and ``until``; None means no filter. Rows come from a server-side cursor,
    so a million complaints never sit in memory at once.
    """
    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
        text(load_sql("export_complaints")), filters)
    yield from result.mappings()


def current_wards(conn: Connection) -> gpd.GeoDataFrame:
    """Return the current ward set as a GeoDataFrame (``geom``, EPSG:4326)."""
    return gpd.read_postgis(text(load_sql("current_wards")), conn,
                            geom_col="geom", crs="EPSG:4326")


def counts_by_ward(conn: Connection) -> list[dict[str, Any]]:
    """Return complaint counts (all and open) for each current ward.

    Notes
    -----
    Counts complaints filed under the current ward set; complaints filed under
    older boundaries stay with their old wards.
    """
    return [dict(r) for r in
            conn.execute(text(load_sql("counts_by_ward"))).mappings()]


def nearby_open_complaints(conn: Connection, lon: float, lat: float,
                           category_slug: str, radius_m: float,
                           since: datetime, limit: int = 10) -> list[dict]:
    """Return open complaints of a category within ``radius_m`` of a point.

    Distances are geodesic (``ST_DWithin`` on ``geography``); a degree-box
    prefilter lets the planner use the GiST index on ``complaint.geom``.
    Complaints still waiting for an operator to place them are left out.
    """
    return [dict(r) for r in conn.execute(text(load_sql("nearby_open")), {
        "lon": lon, "lat": lat, "category_slug": category_slug,
        "radius_m": radius_m, "since": since, "limit": limit,
    }).mappings()]


def boundary_distance_m(conn: Connection, lon: float, lat: float,
                        ward_id: int) -> float:
    """Return the geodesic distance in metres from a point to a ward's edge."""
    return float(conn.execute(text(load_sql("boundary_distance")), {
        "lon": lon, "lat": lat, "ward_id": ward_id}).scalar_one())


def ward_stand_in_point(conn: Connection, ward_code: str) -> tuple[float, float]:
    """Return ``(lon, lat)`` of a point inside a current ward (for no-map
    reports), or raise LookupError if there is no such ward."""
    row = conn.execute(text(
        "SELECT ST_X(pt) AS lon, ST_Y(pt) AS lat FROM ("
        " SELECT ST_PointOnSurface(w.geom) AS pt FROM ward w"
        " JOIN ward_set s ON s.ward_set_id = w.ward_set_id AND s.is_current"
        " WHERE w.ward_code = :code) AS q"), {"code": ward_code}).first()
    if row is None:
        raise LookupError(ward_code)
    return row.lon, row.lat
