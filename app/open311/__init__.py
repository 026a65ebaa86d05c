"""Open311 GeoReport v2 at /open311/v2."""

from flask import Blueprint

bp = Blueprint("open311", __name__)
