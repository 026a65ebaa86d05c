"""Open311 GeoReport v2 at /open311/v2."""

from flask import Blueprint

bp = Blueprint("open311", __name__)

from app.open311 import views  # noqa: E402, F401  (registers the routes on bp)
