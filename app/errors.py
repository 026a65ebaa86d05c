"""The one table from exceptions to HTTP statuses, and the error handlers."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from app.ratelimit import RateLimited
from geo.errors import (
    GeoError,
    InvalidGeometryError,
    NoWardSetError,
    UnknownCategoryError,
    WardNotFoundError,
)

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of errors raised by ``app`` services, with a safe message."""

    code = "service_error"


class NotFoundError(ServiceError):
    """A complaint, ward or other record does not exist."""

    code = "not_found"


class ValidationError(ServiceError):
    """A request or input file has a missing, malformed or unknown field."""

    code = "invalid_input"


STATUS_FOR = (
    (RateLimited, 429),
    (NotFoundError, 404),
    (ValidationError, 422),
    (ValueError, 422),
    (WardNotFoundError, 422),
    (UnknownCategoryError, 422),
    (InvalidGeometryError, 422),
    (NoWardSetError, 503),
    (GeoError, 422),
)


def status_for(error: Exception) -> int:
    """Return the HTTP status for a domain error; 500 for anything unknown."""
    for cls, status in STATUS_FOR:
        if isinstance(error, cls):
            return status
    return 500


def _respond(code: str, message: str, status: int):
    if request.path.startswith("/open311/"):
        from app.open311.formats import error_response

        # GeoReport v2 clients know 400 for a bad field, not 422.
        status = 400 if status == 422 else status
        return error_response(status, message), status
    if request.path.startswith("/api/"):
        return jsonify(error={"code": code, "message": message}), status
    page = render_template("error.html", message=message, status=status)
    return make_response(page), status


def register(app: Flask) -> None:
    """Attach the JSON and HTML error handlers to ``app``."""

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        response, status = _respond(error.name.lower().replace(" ", "_"),
                                    error.description or error.name,
                                    error.code or 500)
        if getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response, status

    @app.errorhandler(Exception)
    def _domain(error: Exception):
        status = status_for(error)
        if status == 500:
            logger.error("unhandled error on %s", request.path, exc_info=error)
            return _respond("internal_error", "Something went wrong on our side.",
                            500)
        response, status = _respond(getattr(error, "code", "invalid_input"),
                                    str(error), status)
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after_s)
        return response, status
