"""Pages of the web front end."""

from __future__ import annotations

from flask import render_template

from app.extensions import get_db
from app.web import bp
from geo import queries


@bp.get("/")
def index():
    """Show the service's wards and how many complaints each has."""
    with get_db().engine.connect() as conn:
        ward_set = queries.current_ward_set(conn)
        counts = queries.counts_by_ward(conn)
    return render_template("index.html", ward_set=ward_set, counts=counts)
