"""JSON helpers of the report page: ward outlines and the pin preview."""

from __future__ import annotations

from flask import Response, jsonify, request

from app.api import bp
from app.errors import ValidationError
from app.extensions import get_db
from app.intake import nearby_duplicates
from geo import queries
from geo.routing import check_lonlat, locate, route

#: A pin closer than this to its ward's edge may belong to the neighbour.
NEAR_BOUNDARY_M = 25.0
#: Ward outlines change only on a boundary import; let browsers keep them.
WARDS_MAX_AGE_S = 3600
DUPLICATE_FIELDS = ("tracking_id", "description", "status", "created_at",
                    "n_supporters", "distance_m")


@bp.get("/wards.geojson")
def wards_geojson():
    """Return the current wards, simplified, as a GeoJSON FeatureCollection."""
    with get_db().engine.connect() as conn:
        ward_set = queries.current_ward_set(conn)
        body = queries.wards_geojson(conn)
    response = Response(body, mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = WARDS_MAX_AGE_S
    if ward_set:
        response.set_etag(f"wards-{ward_set['version']}-"
                          f"{ward_set['content_hash'][:16]}")
    return response.make_conditional(request)


@bp.get("/preview")
def preview():
    """Say where a pin would go: ward, department, due time, nearby duplicates.

    ``category`` is optional; without it only the ward is given.

    Raises 422 for a point outside every ward or an unknown category.
    """
    missing = [k for k in ("lon", "lat") if not request.args.get(k)]
    if missing:
        raise ValidationError(f"missing query parameter: {', '.join(missing)}")
    lon, lat = check_lonlat(request.args["lon"], request.args["lat"])
    category = request.args.get("category") or None
    with get_db().engine.connect() as conn:
        body = _routing(conn, lon, lat, category)
        body["near_boundary"] = queries.boundary_distance_m(
            conn, lon, lat, body.pop("ward_id")) <= NEAR_BOUNDARY_M
        body["duplicates"] = [] if category is None else [
            _public_duplicate(row)
            for row in nearby_duplicates(conn, lon, lat, category)]
    return jsonify(body)


def _routing(conn, lon: float, lat: float, category: str | None) -> dict:
    if category is not None:
        where = route(conn, lon, lat, category)
        return {"ward_id": where.ward_id, "ward_code": where.ward_code,
                "ward_name": where.ward_name,
                "department_code": where.department_code,
                "department_name": where.department_name,
                "due_at": where.due_at.isoformat()}
    ward = locate(conn, lon, lat)
    return {**ward, "department_code": None, "department_name": None,
            "due_at": None}


def _public_duplicate(row: dict) -> dict:
    duplicate = {key: row[key] for key in DUPLICATE_FIELDS}
    duplicate["created_at"] = row["created_at"].isoformat()
    duplicate["distance_m"] = round(float(row["distance_m"]), 1)
    return duplicate
