"""Plain ``make_*`` helpers with sensible defaults and keyword overrides."""

from __future__ import annotations

import geopandas as gpd
import shapely
from sqlalchemy import Connection, text

from geo import queries

#: South-west corner and side (degrees) of the 2x2 test grid.
GRID_ORIGIN = (72.80, 19.00)
GRID_STEP = 0.01


def square(x0: float, y0: float, size: float = GRID_STEP) -> shapely.Polygon:
    return shapely.box(x0, y0, x0 + size, y0 + size)


def make_wards(conn: Connection, polygons: dict[str, shapely.Geometry],
               source: str = "test") -> int:
    """Store ``{code: polygon}`` as the current ward set; return its version."""
    geoms = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
             for g in polygons.values()]
    frame = gpd.GeoDataFrame({
        "ward_code": list(polygons), "ward_name": [f"Ward {c}" for c in polygons],
        "population": [None] * len(polygons), "geom": geoms,
    }, geometry="geom", crs="EPSG:4326")
    return queries.store_ward_set(conn, frame, source, f"hash-{source}")


def make_ward_grid(conn: Connection) -> dict[str, shapely.Polygon]:
    """Wards A (SW), B (SE), C (NW), D (NE) of a 2x2 grid; returns the squares."""
    x, y = GRID_ORIGIN
    squares = {
        "A": square(x, y), "B": square(x + GRID_STEP, y),
        "C": square(x, y + GRID_STEP), "D": square(x + GRID_STEP, y + GRID_STEP),
    }
    make_wards(conn, squares, source="grid")
    return squares


def make_department(conn: Connection, code: str = "ROADS",
                    name: str | None = None) -> int:
    return conn.execute(text(
        "INSERT INTO department (code, name) VALUES (:code, :name)"
        " RETURNING department_id"), {"code": code, "name": name or code.title()}
    ).scalar_one()


def make_category(conn: Connection, slug: str = "pothole", department_id: int = 0,
                  sla_hours: int = 48, group: str = "roads") -> int:
    return conn.execute(text(
        "INSERT INTO category (slug, name, group_slug, group_name, position,"
        " default_department_id, sla_hours, attributes, is_active)"
        " VALUES (:slug, :name, :group, :group, 0, :dept, :sla, '[]', true)"
        " RETURNING category_id"), {"slug": slug, "name": slug.title(),
                                    "group": group, "dept": department_id,
                                    "sla": sla_hours}).scalar_one()


def make_rule(conn: Connection, category_id: int, ward_code: str,
              department_id: int, sla_hours: int | None = None) -> None:
    conn.execute(text(
        "INSERT INTO routing_rule (category_id, ward_code, department_id,"
        " sla_hours) VALUES (:c, :w, :d, :s)"),
        {"c": category_id, "w": ward_code, "d": department_id, "s": sla_hours})


def make_routing(conn: Connection) -> dict[str, int]:
    """Roads and ward-office departments; pothole (48 h) and other (72 h).

    Potholes in ward D go to the ward office with a 12 h SLA.
    """
    roads = make_department(conn, "ROADS")
    ward_office = make_department(conn, "WARD")
    pothole = make_category(conn, "pothole", roads, 48)
    other = make_category(conn, "other", ward_office, 72, group="other")
    make_rule(conn, pothole, "D", ward_office, sla_hours=12)
    return {"roads": roads, "ward_office": ward_office, "pothole": pothole,
            "other": other}
