"""Open311 responses in the format the URL asks for (.json or .xml)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from flask import Response, request


def wants_xml() -> bool:
    """True when the request path ends in .xml (the GeoReport v2 convention)."""
    return request.path.endswith(".xml")


def error_response(status: int, description: str) -> Response:
    """A GeoReport v2 error list: ``[{"code": ..., "description": ...}]``."""
    if wants_xml():
        root = ET.Element("errors")
        error = ET.SubElement(root, "error")
        ET.SubElement(error, "code").text = str(status)
        ET.SubElement(error, "description").text = description
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return Response(body, status=status, mimetype="text/xml")
    body = json.dumps([{"code": status, "description": description}])
    return Response(body, status=status, mimetype="application/json")
