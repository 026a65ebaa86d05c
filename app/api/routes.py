"""Health, wards and routing endpoints."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import text

from app.api import bp
from app.errors import ValidationError
from app.extensions import get_db
from geo import queries
from geo.routing import route


@bp.get("/health")
def health():
    """Report whether the database answers."""
    with get_db().engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/wards")
def list_wards():
    """List the current wards with complaint counts."""
    with get_db().engine.connect() as conn:
        return jsonify(wards=queries.counts_by_ward(conn))


@bp.get("/route")
def preview_route():
    """Show where a complaint at lon/lat of a category would go.

    Raises 422 for a point outside every ward or an unknown category.
    """
    missing = [k for k in ("lon", "lat", "category") if not request.args.get(k)]
    if missing:
        raise ValidationError(f"missing query parameter: {', '.join(missing)}")
    with get_db().engine.connect() as conn:
        result = route(conn, request.args["lon"], request.args["lat"],
                       request.args["category"])
    return jsonify(ward_code=result.ward_code, ward_name=result.ward_name,
                   department_code=result.department_code,
                   department_name=result.department_name,
                   due_at=result.due_at.isoformat())
