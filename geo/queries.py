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


def run_script(conn: Connection, name: str, params: dict[str, Any]) -> None:
    """Run the statements of ``geo/sql/<name>.sql`` one by one.

    Statements end with a semicolon at the end of a line; each statement gets
    only the parameters it names.
    """
    for statement in load_sql(name).split(";\n"):
        if statement.strip():
            clause = text(statement)
            wanted = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(clause, wanted)


def locate_staged(conn: Connection, ward_set_id: int) -> None:
    """Create table ``staged_ward``: the ward of each staged point inside one
    (``line_no``, ``ward_id``, ``ward_code``).

    Notes
    -----
    Call it with ``complaint`` locked against other imports, and call
    :func:`drop_located` before the transaction ends.
    """
    run_script(conn, "locate_staged", {"ward_set_id": ward_set_id})


def drop_located(conn: Connection) -> None:
    """Drop the tables :func:`locate_staged` made."""
    conn.execute(text("DROP TABLE staged_ward, staged_point"))


def prepare_located(conn: Connection) -> int:
    """Create temp table ``routed`` from the staged rows; return its row count.

    It holds the rows that will become complaints: inside a ward, with a
    department and due time, and with an external id not stored before.
    """
    conn.execute(text(load_sql("prepare_located")))
    return conn.execute(text("SELECT count(*) FROM routed")).scalar_one()


def insert_located(conn: Connection) -> int:
    """Insert the ``routed`` rows as imported complaints; return how many."""
    return conn.execute(text(load_sql("insert_located"))).rowcount


def located_outside(conn: Connection) -> list[dict[str, Any]]:
    """Return the staged rows that are outside every ward."""
    return [dict(row) for row in conn.execute(text(
        "SELECT line_no, external_id, source_category, description, status,"
        " created_at, closed_at, lon, lat FROM staged_complaint s"
        " WHERE NOT EXISTS (SELECT 1 FROM staged_ward w"
        " WHERE w.line_no = s.line_no)"
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


def active_categories(conn: Connection,
                      slug: str | None = None) -> list[dict[str, Any]]:
    """Return active categories in form order, or the one with ``slug``.

    Parameters
    ----------
    conn : Connection
        Open database connection.
    slug : str, optional
        Only this category; an unknown or retired slug gives an empty list.

    Returns
    -------
    list of dict
        ``slug``, ``name``, ``group_name`` and ``attributes`` (the list of
        extra questions stored with the category).
    """
    return [dict(r) for r in conn.execute(
        text(load_sql("active_categories")), {"slug": slug}).mappings()]


def recent_complaint_ids(conn: Connection, *, since: datetime | None,
                         until: datetime | None, statuses: list[str],
                         category_slugs: list[str] | None,
                         limit: int) -> list[int]:
    """Return ids of the newest complaints matching filters, newest first.

    Parameters
    ----------
    conn : Connection
        Open database connection.
    since, until : datetime or None
        Time-zone aware bounds on the filing time, both included; None
        leaves that side open.
    statuses : list of str
        Internal statuses to keep.
    category_slugs : list of str or None
        Categories to keep; None keeps all.
    limit : int
        Most ids returned.

    Notes
    -----
    Walks the ``complaint_created_at`` index backwards and stops after
    ``limit`` matches, so no more than ``limit`` rows are read into memory.
    """
    category_ids = None
    if category_slugs is not None:
        # Real ids, not a subquery, let the planner weigh each category.
        category_ids = list(conn.execute(text(
            "SELECT category_id FROM category WHERE slug = ANY(:slugs)"),
            {"slugs": list(category_slugs)}).scalars())
        if not category_ids:
            return []
    return list(conn.execute(text(load_sql("recent_complaint_ids")), {
        "since": since, "until": until, "statuses": list(statuses),
        "category_ids": category_ids, "limit": limit,
    }).scalars())


def complaint_ids_by_tracking(conn: Connection,
                              tracking_ids: list[str]) -> list[int]:
    """Return the ids of the complaints with these public tracking ids."""
    return list(conn.execute(text(
        "SELECT complaint_id FROM complaint"
        " WHERE tracking_id = ANY(CAST(:ids AS text[]))"),
        {"ids": list(tracking_ids)}).scalars())


def public_complaints(conn: Connection,
                      complaint_ids: list[int]) -> list[dict[str, Any]]:
    """Return the public fields of some complaints, newest first.

    Each row has the tracking id, status, description, address, category,
    department name, ward code, times, ``lon``/``lat`` (EPSG:4326), whether
    the location is still pending, and the storage key of the first photo.
    Reporter contact details are never selected.
    """
    return [dict(r) for r in conn.execute(text(load_sql("public_complaints")),
                                          {"complaint_ids": list(complaint_ids)}
                                          ).mappings()]


def ward_code_matching(conn: Connection, label: str) -> str | None:
    """Return the code of the current ward whose code or name is ``label``.

    The comparison ignores case and surrounding spaces; a matching code wins
    over a matching name. None when no current ward matches.
    """
    return conn.execute(text(
        "SELECT w.ward_code FROM ward w"
        " JOIN ward_set s ON s.ward_set_id = w.ward_set_id AND s.is_current"
        " WHERE lower(w.ward_code) = lower(:label)"
        " OR lower(w.ward_name) = lower(:label)"
        " ORDER BY lower(w.ward_code) = lower(:label) DESC, w.ward_code LIMIT 1"),
        {"label": label.strip()}).scalar()


#: Tolerance in degrees (about 10 m) for simplifying ward outlines on maps.
OUTLINE_TOLERANCE_DEG = 0.0001

#: A box in EPSG:4326 degrees: ``(min_lon, min_lat, max_lon, max_lat)``.
BBox = tuple[float, float, float, float]


def _map_params(bbox: BBox, filters: dict[str, Any]) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = bbox
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon,
            "max_lat": max_lat, "statuses": filters.get("statuses"),
            "category_slug": filters.get("category_slug"),
            "ward_code": filters.get("ward_code"),
            "since": filters.get("since"), "until": filters.get("until")}


def _plan_for_these_values(conn: Connection) -> None:
    # The map statements have optional filters ("NULL or equal"). Planned for
    # the values at hand, the unused ones fold away and the partial index on
    # open complaints can serve; a cached generic plan could use neither.
    # SET LOCAL lasts until the caller's transaction ends.
    conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def complaint_cells(conn: Connection, bbox: BBox, cell_deg: float,
                    filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Count complaints in a box per square grid cell, busiest cells first.

    Parameters
    ----------
    conn : Connection
        Open connection.
    bbox : tuple of float
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees (EPSG:4326).
    cell_deg : float
        Side of a grid cell in degrees; cells are aligned on multiples of it,
        so they stay put while a map pans.
    filters : dict
        ``statuses`` (list of status values), ``category_slug``,
        ``ward_code``, ``since`` and ``until`` (datetimes, ``until``
        exclusive); a missing key or None means no filter.
    limit : int
        Most cells returned.

    Returns
    -------
    list of dict
        ``n_complaints`` and ``lon``, ``lat``: the mean position of the
        cell's complaints.

    Notes
    -----
    Aggregates in PostGIS; the box probe uses the GiST index on
    ``complaint.geom``, or the partial one on open complaints when only open
    statuses are asked for. Without a date filter a box over a whole city
    still reads every complaint in it (about 0.7 s for a million on two
    cores). Complaints with ``location_pending`` are left out because their
    point is only a stand-in inside the ward. The statement is planned for
    its parameter values (``plan_cache_mode`` is set for the rest of the
    caller's transaction).
    """
    if not cell_deg > 0:
        raise ValueError(f"cell_deg must be positive, got {cell_deg!r}")
    params = {**_map_params(bbox, filters), "cell_deg": cell_deg, "limit": limit}
    _plan_for_these_values(conn)
    rows = conn.execute(text(load_sql("map_cells")), params).mappings()
    return [{"n_complaints": r["n_complaints"], "lon": float(r["lon"]),
             "lat": float(r["lat"])} for r in rows]


def complaint_points(conn: Connection, bbox: BBox, filters: dict[str, Any],
                     limit: int) -> list[dict[str, Any]]:
    """Return the newest complaints in a box, without contact details.

    Takes the same ``bbox`` and ``filters`` as :func:`complaint_cells`. Each
    row has ``tracking_id``, ``category_slug``, ``category_name``,
    ``status``, ``created_at``, ``lon`` and ``lat``; at most ``limit`` rows.
    Meant for small boxes: every complaint in the box is read before sorting.
    """
    params = {**_map_params(bbox, filters), "limit": limit}
    _plan_for_these_values(conn)
    return [dict(r) for r in
            conn.execute(text(load_sql("map_points")), params).mappings()]


def wards_geojson(conn: Connection,
                  tolerance_deg: float = OUTLINE_TOLERANCE_DEG) -> str:
    """Return the current wards as a GeoJSON FeatureCollection (text).

    Outlines are simplified with ``ST_SimplifyPreserveTopology`` to
    ``tolerance_deg`` degrees, ward by ward, so neighbouring outlines may
    differ by up to that much. Properties are ``ward_code`` and ``ward_name``.
    """
    return conn.execute(text(load_sql("wards_geojson")),
                        {"tolerance_deg": tolerance_deg}).scalar_one()


def ward_set_extent(conn: Connection) -> BBox | None:
    """Return the current ward set's bounding box, or None without wards."""
    row = conn.execute(text(load_sql("ward_set_extent"))).first()
    if row is None or row.min_lon is None:
        return None
    return (row.min_lon, row.min_lat, row.max_lon, row.max_lat)


def public_complaint(conn: Connection, tracking_id: str,
                     tolerance_deg: float = OUTLINE_TOLERANCE_DEG
                     ) -> dict[str, Any] | None:
    """Return what the public may see of one complaint, or None.

    Includes category, ward, department, status, times, and the point
    (``lon``, ``lat``; None while ``location_pending``) and the ward's outline
    as GeoJSON text (``ward_geojson``). Never includes contact details.
    ``tracking_id`` must already be normalised.
    """
    row = conn.execute(text(load_sql("public_complaint")), {
        "tracking_id": tracking_id, "tolerance_deg": tolerance_deg,
    }).mappings().first()
    return dict(row) if row else None


def current_ward_names(conn: Connection) -> list[dict[str, Any]]:
    """Return ``ward_code`` and ``ward_name`` of each current ward, by code.

    For pick lists; cheaper than :func:`current_wards`, which reads outlines.
    """
    return [dict(r) for r in conn.execute(text(
        "SELECT w.ward_code, w.ward_name FROM ward w"
        " JOIN ward_set s ON s.ward_set_id = w.ward_set_id AND s.is_current"
        " ORDER BY w.ward_code")).mappings()]
