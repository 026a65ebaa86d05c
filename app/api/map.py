"""Data behind the public complaint map: grid cells or single complaints.

Ward outlines for the map come from ``api.wards_geojson``.
"""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.extensions import get_db
from app.public_map import map_features, parse_filters, parse_viewport

#: Browsers and proxies may reuse map data this long (seconds).
MAP_MAX_AGE_S = 60


@bp.get("/map/complaints")
def map_complaints():
    """Return the complaints in a map viewport as GeoJSON.

    Below zoom 16 the features are grid cells with complaint counts; from 16
    on they are single complaints, newest first. Never contact details.

    Raises 422 for a missing or malformed bbox, zoom or filter.
    """
    viewport = parse_viewport(request.args)
    filters = parse_filters(request.args)
    with get_db().engine.connect() as conn:
        collection = map_features(conn, viewport, filters)
    response = jsonify(collection)
    response.cache_control.public = True
    response.cache_control.max_age = MAP_MAX_AGE_S
    return response

