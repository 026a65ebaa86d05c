"""GeoReport v2 endpoints: discovery, services, service requests and tokens.

Every URL ends in ``.json`` or ``.xml``; the suffix picks the response format,
errors included (see ``app.open311.formats``).
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import Forbidden

from app import ratelimit
from app.apikeys import api_key_id
from app.errors import NotFoundError, ValidationError
from app.extensions import get_db
from app.intake import Contact, Submission, file_once
from app.models import Channel
from app.open311 import bp, formats, params
from app.photos import PhotoStore
from app.tracking import normalise_tracking_id
from geo import queries

FORMAT = "<any(json, xml):fmt>"
#: When the endpoints below last changed, for discovery.
CHANGESET = "2026-12-03T00:00:00+00:00"


@bp.url_value_preprocessor
def _drop_format(endpoint, values):
    # formats.wants_xml reads the suffix from the path, so views never need it.
    if values:
        values.pop("fmt", None)


@bp.before_request
def _check_jurisdiction():
    given = params.optional(request.values, "jurisdiction_id")
    served = current_app.config["OPEN311_JURISDICTION"]
    if given is not None and given != served:
        raise NotFoundError(f"unknown jurisdiction_id {given!r}; this server "
                            f"serves {served!r}")


@bp.get(f"/discovery.{FORMAT}")
def discovery():
    """Describe this endpoint: specification, address, formats and contact."""
    config = current_app.config
    document = formats.discovery(request.host_url + "open311/v2", CHANGESET,
                                 config["OPEN311_CONTACT"],
                                 config["OPEN311_KEY_SERVICE"])
    return formats.respond(document, "discovery")


@bp.get(f"/services.{FORMAT}")
def list_services():
    """List the active categories as services."""
    with get_db().engine.connect() as conn:
        categories = queries.active_categories(conn)
    return formats.respond([formats.service(c) for c in categories], "services")


@bp.get(f"/services/<service_code>.{FORMAT}")
def service_definition(service_code):
    """Describe the extra questions (attributes) of one service.

    Raises 404 for an unknown or retired service.
    """
    with get_db().engine.connect() as conn:
        category = _service(conn, service_code)
    return formats.respond(formats.service_definition(category),
                           "service_definition")


@bp.get(f"/requests.{FORMAT}")
def list_requests():
    """List service requests, newest first, at most 1000.

    Raises 400 for a malformed filter.
    """
    filters = params.request_filters(request.args)
    with get_db().engine.connect() as conn:
        if filters.tracking_ids is not None:
            ids = queries.complaint_ids_by_tracking(conn, filters.tracking_ids)
        else:
            ids = queries.recent_complaint_ids(
                conn, since=filters.since, until=filters.until,
                statuses=filters.statuses, category_slugs=filters.category_slugs,
                limit=params.MAX_REQUESTS)
        rows = queries.public_complaints(conn, ids)
    return _requests_response(rows)


@bp.get(f"/requests/<service_request_id>.{FORMAT}")
def get_request(service_request_id):
    """Show one service request, as a list of one.

    Raises 404 for an unknown id.
    """
    tracking_id = normalise_tracking_id(service_request_id)
    with get_db().engine.connect() as conn:
        ids = queries.complaint_ids_by_tracking(conn, [tracking_id])
        rows = queries.public_complaints(conn, ids)
    if not rows:
        raise NotFoundError(f"no service request has id {service_request_id!r}")
    return _requests_response(rows)


@bp.get(f"/tokens/<token_id>.{FORMAT}")
def get_token(token_id):
    """Give the service request behind a token (our tokens are its id).

    Raises 404 for an unknown token.
    """
    tracking_id = normalise_tracking_id(token_id)
    with get_db().engine.connect() as conn:
        found = queries.complaint_ids_by_tracking(conn, [tracking_id])
    if not found:
        raise NotFoundError(f"no service request has token {token_id!r}")
    return formats.respond(
        [{"service_request_id": tracking_id, "token": tracking_id}],
        "service_requests")


@bp.post(f"/requests.{FORMAT}")
def create_request():
    """File a service request for a client holding an API key.

    Raises 429 past the rate limit, 403 without a valid api_key, 404 for an
    unknown service_code and 400 for a missing or malformed field.
    """
    engine, config = get_db().engine, current_app.config
    ratelimit.hit(engine, f"submit:{request.remote_addr}",
                  config["SUBMISSION_RATE_LIMIT"], config["SUBMISSION_RATE_WINDOW_S"])
    with engine.connect() as conn:
        submission = _submission(conn, request.values)
    filed = file_once(engine, submission, PhotoStore(config["MEDIA_DIR"]))

    where = filed.route
    notice = formats.routing_notice(where.department_name, where.ward_code,
                                    where.due_at, submission.lon is None)
    answer = formats.filed_request(filed.tracking_id, notice,
                                   params.optional(request.values, "account_id"))
    # 200 for new and replayed requests alike: GeoReport v2 clients expect it.
    return formats.respond([answer], "service_requests")


def _service(conn, service_code: str) -> dict:
    found = queries.active_categories(conn, service_code)
    if not found:
        raise NotFoundError(f"unknown service_code {service_code!r}")
    return found[0]


def _requests_response(rows: list[dict]):
    return formats.respond([formats.service_request(r, request.host_url)
                            for r in rows], "service_requests")


def _submission(conn, values) -> Submission:
    key_id = api_key_id(conn, params.optional(values, "api_key"))
    if key_id is None:
        raise Forbidden("a valid api_key is required to file a service request")
    category = _service(conn, params.required(values, "service_code"))
    answers = params.check_attributes(category["attributes"],
                                      params.attribute_answers(values),
                                      category["slug"])
    lon, lat = params.location(values)
    address = params.optional(values, "address_string")
    contact = Contact(params.full_name(values), params.optional(values, "email"),
                      params.optional(values, "phone"))
    return Submission(
        category_slug=category["slug"], description=values.get("description", ""),
        lon=lon, lat=lat, address=address,
        ward_code=None if lon is not None else _ward_for_address(conn, address),
        photos=[upload.read() for upload in request.files.getlist("media")],
        contact=contact, channel=Channel.OPEN311, attributes=answers,
        idempotency_key=request.headers.get("Idempotency-Key"), api_key_id=key_id)


def _ward_for_address(conn, address: str | None) -> str:
    # No geocoder runs offline: an address is placed only when it names a ward.
    if address is None:
        raise ValidationError("send lat and long, or an address_string naming "
                              "a ward")
    ward_code = queries.ward_code_matching(conn, address)
    if ward_code is None:
        raise ValidationError(f"cannot place the address {address[:100]!r}; "
                              "send lat and long")
    return ward_code
