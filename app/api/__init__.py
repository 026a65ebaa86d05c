"""JSON API at /api/v1."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import map, report_api, routes  # noqa: E402,F401
