"""HTML pages."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from app.web import public_map, report, track, views  # noqa: E402,F401
