"""Tracking pages: one complaint's status and timeline, and its photos."""

from __future__ import annotations

import json
import os

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)

from app.errors import NotFoundError
from app.extensions import get_db
from app.labels import event_label, status_label
from app.public_complaint import clean_tracking_id, find_complaint, photo_is_stored
from app.web import bp

#: Photo files never change under their random key; let browsers keep them.
PHOTO_MAX_AGE_S = 365 * 24 * 3600


@bp.get("/c")
def track_lookup():
    """Ask for a tracking number, or go to the complaint typed in ``id``."""
    typed = request.args.get("id", "").strip()
    if typed and clean_tracking_id(typed):
        return redirect(url_for("web.track", tracking_id=clean_tracking_id(typed)))
    return render_template("track_lookup.html", typed=typed,
                           invalid=bool(typed))


@bp.get("/c/<tracking_id>")
def track(tracking_id):
    """Show a complaint's public details and timeline.

    Raises 404 (the lookup form with a message) for an unknown tracking id.
    """
    with get_db().engine.connect() as conn:
        try:
            tracked = find_complaint(conn, tracking_id)
        except NotFoundError:
            page = render_template("track_lookup.html", typed=tracking_id,
                                   not_found=True)
            return page, 404
    canonical = tracked.complaint["tracking_id"]
    if tracking_id != canonical:
        return redirect(url_for("web.track", tracking_id=canonical))
    return render_template("track.html", tracked=tracked, c=tracked.complaint,
                           status_label=status_label, event_label=event_label,
                           map_config=_map_config(tracked.complaint))


def _map_config(complaint: dict) -> dict:
    point = None
    if complaint["lon"] is not None:
        point = [complaint["lat"], complaint["lon"]]
    ward = complaint["ward_geojson"]
    return {"point": point, "ward": json.loads(ward) if ward else None,
            "tileUrl": current_app.config["TILE_URL"],
            "tileAttribution": current_app.config["TILE_ATTRIBUTION"]}


@bp.get("/media/<path:key>")
def photo(key):
    """Send a stored complaint photo.

    Raises 404 unless ``key`` names a photo of some complaint.
    """
    with get_db().engine.connect() as conn:
        if not photo_is_stored(conn, key):
            abort(404)
    media_dir = os.path.abspath(current_app.config["MEDIA_DIR"])
    response = send_from_directory(media_dir, key, max_age=PHOTO_MAX_AGE_S)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
