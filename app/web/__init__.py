"""HTML pages."""

from flask import Blueprint

bp = Blueprint("web", __name__)

from app.web import views  # noqa: E402,F401
