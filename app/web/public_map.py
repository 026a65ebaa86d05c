"""The public map of complaints."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import ValidationError
from app.extensions import get_db
from app.labels import STATUS_LABELS
from app.public_map import (
    FILTER_KEYS,
    POINTS_MIN_ZOOM,
    default_filters,
    filter_choices,
    parse_filters,
)
from app.web import bp
from geo import queries


@bp.get("/map")
def public_map():
    """Show recent complaints on a map, with filters.

    Malformed filters give the page with a message and status 422.
    """
    error = None
    try:
        filters = _filters_from_request()
    except ValidationError as err:
        filters, error = default_filters(datetime.now(UTC).date()), str(err)
    with get_db().engine.connect() as conn:
        choices = filter_choices(conn)
        extent = queries.ward_set_extent(conn)
    page = render_template("public_map.html", filters=filters.as_args(),
                           choices=choices, status_labels=STATUS_LABELS,
                           error=error, map_config=_map_config(extent))
    return page, 422 if error else 200


def _filters_from_request():
    if not any(key in request.args for key in FILTER_KEYS):
        return default_filters(datetime.now(UTC).date())
    return parse_filters(request.args)


def _map_config(extent) -> dict:
    config = current_app.config
    bounds = None
    center = [config["MAP_CENTER_LAT"], config["MAP_CENTER_LON"]]
    if extent is not None:
        min_lon, min_lat, max_lon, max_lat = extent
        bounds = [[min_lat, min_lon], [max_lat, max_lon]]
        center = [(min_lat + max_lat) / 2, (min_lon + max_lon) / 2]
    return {
        "dataUrl": url_for("api.map_complaints"),
        "wardsUrl": url_for("api.wards_geojson"),
        "trackUrl": url_for("web.track", tracking_id="TRACKING-ID"),
        "tileUrl": config["TILE_URL"], "tileAttribution": config["TILE_ATTRIBUTION"],
        "center": center, "zoom": config["MAP_ZOOM"], "bounds": bounds,
        "pointsMinZoom": POINTS_MIN_ZOOM,
        "statusLabels": {k: str(v) for k, v in STATUS_LABELS.items()},
        "text": _map_text(),
    }


def _map_text() -> dict:
    return {
        "loading": _("Loading complaints…"),
        "failed": _("The complaints could not be loaded. Try again later."),
        "cells": _("Complaints in this view: {n}. Zoom in to see each one."),
        "points": _("Complaints in this view: {n}."),
        "truncated": _("Showing the newest {n}. Zoom in or narrow the filters "
                       "to see the rest."),
        "none": _("No complaints match these filters in this view."),
        "open": _("Open complaint {id}"),
        "filed": _("Filed {date}"),
    }
