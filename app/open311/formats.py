"""Open311 responses in the format the URL asks for (.json or .xml).

JSON follows the GeoReport v2 mapping of its XML: a list element becomes a
top-level array, an element with children becomes an object.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from flask import Response, request

from app.models import OPEN_STATUSES

#: Element name of one entry inside each GeoReport v2 list element.
ITEM_TAGS = {
    "services": "service", "service_requests": "request",
    "attributes": "attribute", "values": "value", "endpoints": "endpoint",
    "formats": "format", "errors": "error",
}

#: The internal status of a complaint, said in words for ``status_notes``.
STATUS_NOTES = {
    "submitted": "Submitted", "acknowledged": "Acknowledged",
    "in_progress": "In progress", "resolved": "Resolved", "closed": "Closed",
    "rejected": "Rejected", "duplicate": "Duplicate of another request",
}

#: Guidance for clients on each attribute datatype (``datatype_description``).
DATATYPE_HINTS = {
    "string": "Short text",
    "text": "Text of any length",
    "number": "A number, such as 2.5",
    "datetime": "A date and time with time zone, such as 2026-01-31T09:30:00+05:30",
    "singlevaluelist": "One key from values",
    "multivaluelist": "One or more keys from values",
}

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def wants_xml() -> bool:
    """True when the request path ends in .xml (the GeoReport v2 convention)."""
    return request.path.endswith(".xml")


def respond(payload: dict | list, root: str, status: int = 200) -> Response:
    """Serialise ``payload`` as JSON, or as XML under the element ``root``."""
    if wants_xml():
        body = ET.tostring(_element(root, payload), encoding="utf-8",
                           xml_declaration=True)
        return Response(body, status=status, mimetype="text/xml")
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error_response(status: int, description: str) -> Response:
    """A GeoReport v2 error list: ``[{"code": ..., "description": ...}]``."""
    return respond([{"code": status, "description": description}], "errors",
                   status)


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        element.extend(_element(key, child) for key, child in value.items())
    elif isinstance(value, list):
        element.extend(_element(ITEM_TAGS[tag], child) for child in value)
    elif value is not None:
        element.text = _text(value)
    return element


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def w3c(moment: datetime | None) -> str | None:
    """Return a W3C date-time in UTC with an explicit offset, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def service(category: dict) -> dict:
    """One entry of the service list, from an ``active_categories`` row."""
    return {
        "service_code": category["slug"],
        "service_name": category["name"],
        "description": category["name"],
        "metadata": bool(category["attributes"]),
        "type": "realtime",
        "keywords": "",
        "group": category["group_name"],
    }


def service_definition(category: dict) -> dict:
    """The extra questions of a service (``services/{service_code}``)."""
    return {
        "service_code": category["slug"],
        "attributes": [_attribute(spec, order)
                       for order, spec in enumerate(category["attributes"], 1)],
    }


def _attribute(spec: dict, order: int) -> dict:
    datatype = spec.get("datatype") or "string"
    attribute = {
        "variable": True,
        "code": spec["code"],
        "datatype": datatype,
        "required": bool(spec.get("required", False)),
        "datatype_description": DATATYPE_HINTS.get(datatype, ""),
        "order": order,
        "description": spec.get("description", ""),
    }
    if datatype in ("singlevaluelist", "multivaluelist"):
        attribute["values"] = [_value(v) for v in spec.get("values", [])]
    return attribute


def _value(value) -> dict:
    if isinstance(value, dict):
        return {"key": str(value["key"]),
                "name": str(value.get("name", value["key"]))}
    return {"key": str(value), "name": str(value)}


def routing_notice(department_name: str, ward_code: str, due_at: datetime,
                   location_pending: bool = False) -> str:
    """Say who acts on a complaint and by when."""
    notice = f"Routed to {department_name} of ward {ward_code}; due {w3c(due_at)}"
    if location_pending:
        notice += "; an operator will place it on the map"
    return notice


def service_request(row: dict, host_url: str) -> dict:
    """One service request, from a ``public_complaints`` row.

    ``host_url`` (ending in ``/``) makes the photo address absolute. The point
    of a complaint still waiting to be placed is a stand-in, so it is left out.
    """
    pending = row["location_pending"]
    return {
        "service_request_id": row["tracking_id"],
        "status": "open" if row["status"] in OPEN_STATUSES else "closed",
        "status_notes": STATUS_NOTES.get(row["status"], row["status"]),
        "service_name": row["category_name"],
        "service_code": row["category_slug"],
        "description": row["description"],
        "agency_responsible": row["department_name"],
        "service_notice": routing_notice(row["department_name"], row["ward_code"],
                                         row["due_at"], pending),
        "requested_datetime": w3c(row["created_at"]),
        "updated_datetime": w3c(row["updated_at"]),
        "expected_datetime": w3c(row["due_at"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": None if pending else row["lat"],
        "long": None if pending else row["lon"],
        "media_url": (f"{host_url}media/{row['photo_key']}"
                      if row["photo_key"] else None),
    }


def filed_request(tracking_id: str, notice: str, account_id: str | None) -> dict:
    """The answer to a new service request; the token is the tracking id."""
    return {"service_request_id": tracking_id, "token": tracking_id,
            "service_notice": notice, "account_id": account_id}


def discovery(base_url: str, changeset: str, contact: str,
              key_service: str) -> dict:
    """The discovery document for one production endpoint at ``base_url``."""
    endpoint = {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": base_url, "changeset": changeset, "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    return {"changeset": changeset, "contact": contact,
            "key_service": key_service, "endpoints": [endpoint]}
