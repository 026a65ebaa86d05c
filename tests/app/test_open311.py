"""Open311 GeoReport v2 at /open311/v2, read the way a client reads it.

The app sees only committed data, so each test empties the tables
(``clean_db``) and commits the 2x2 grid: wards A (SW), B (SE), C (NW) and D
(NE), 0.01° squares from 72.80 E, 19.00 N. Potholes go to ROADS in 48 h,
except in ward D (the ward office, 12 h). XML answers are parsed with
xml.etree and turned into the JSON shape, so one assertion covers both.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from app import create_app
from app.apikeys import create_api_key
from app.config import TestingConfig
from geo import queries
from tests.app.helpers import commit_grid_and_routing

BASE = "/open311/v2"
FORMATS = ("json", "xml")
DEFAULT_ROUTING = Path(__file__).resolve().parents[2] / "data/routing/default.toml"

#: XML elements that hold lists, by the GeoReport v2 convention.
LIST_TAGS = {"services", "service_requests", "attributes", "values", "endpoints",
             "formats", "errors"}
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
    "lat", "long", "media_url",
]
#: Centres of wards A and D.
IN_A = {"lat": "19.005", "long": "72.805"}
IN_D = {"lat": "19.015", "long": "72.815"}

POTHOLE_ATTRIBUTES = [
    {"code": "width_m", "description": "How wide is it, in metres?",
     "datatype": "number", "required": True},
    {"code": "lane", "description": "Which lane?", "datatype": "singlevaluelist",
     "required": False, "values": [{"key": "left", "name": "Left lane"},
                                   {"key": "right", "name": "Right lane"}]},
    {"code": "hazards", "description": "What else is there?",
     "datatype": "multivaluelist", "required": False,
     "values": ["water", "gravel"]},
    {"code": "seen_at", "description": "When did you see it?",
     "datatype": "datetime", "required": False},
]


# --------------------------------------------------------------------------
# Reading answers as a client does
# --------------------------------------------------------------------------

def from_xml(element: ET.Element):
    """Turn a GeoReport v2 XML element into the JSON shape, all scalars text."""
    if element.tag in LIST_TAGS:
        return [from_xml(child) for child in element]
    if len(element):
        return {child.tag: from_xml(child) for child in element}
    return element.text


def as_text(value):
    """JSON scalars written the way the XML writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    return None if value is None else str(value)


def read(response, fmt: str, root: str | None = None):
    """Check the media type (and XML root) and return the parsed body."""
    if fmt == "xml":
        assert response.mimetype == "text/xml"
        element = ET.fromstring(response.data)
        if root:
            assert element.tag == root
        return from_xml(element)
    assert response.mimetype == "application/json"
    return json.loads(response.data)


def error_of(response, fmt: str) -> str:
    """Return the description of a GeoReport v2 error answer."""
    body = read(response, fmt, "errors")
    assert len(body) == 1
    assert str(body[0]["code"]) == str(response.status_code)
    return body[0]["description"]


def get(client, path: str, fmt: str = "json", **query):
    return client.get(f"{BASE}/{path}.{fmt}", query_string=query)


def file(client, key: str | None, fmt: str = "json", headers=None, **fields):
    """POST a service request; ``fields`` override a valid pothole in ward A."""
    form = {"service_code": "pothole", "description": "Deep pothole by the stop",
            "attribute[width_m]": "1.5", **IN_A, **fields}
    if key is not None:
        form["api_key"] = key
    form = {k: v for k, v in form.items() if v is not None}
    return client.post(f"{BASE}/requests.{fmt}", data=form, headers=headers)


def filed_id(response) -> str:
    assert response.status_code == 200, response.data
    return json.loads(response.data)[0]["service_request_id"]


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

@pytest.fixture
def grid(clean_db):
    """Commit the ward grid and routing; pothole gets extra questions."""
    ids = commit_grid_and_routing(clean_db)
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE category SET attributes = CAST(:a AS jsonb)"
                          " WHERE slug = 'pothole'"),
                     {"a": json.dumps(POTHOLE_ATTRIBUTES)})
    return ids


@pytest.fixture
def key(grid, clean_db):
    with clean_db.begin() as conn:
        return create_api_key(conn, "test client")


def make_client(database_url, **overrides):
    """A second app with some settings changed; dispose its engine after use."""
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig)
                if k.isupper()}
    return create_app({**settings, "DATABASE_URL": database_url, **overrides})


def insert_complaint(engine, tracking_id: str, created_at: datetime,
                     status: str = "submitted", category: str = "pothole") -> None:
    """Store one complaint in ward A directly, with a chosen filing time."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO complaint (tracking_id, category_id, description, geom,"
            " ward_id, department_id, status, channel, created_at, updated_at,"
            " due_at, n_supporters)"
            " SELECT :t, c.category_id, 'Stored directly',"
            " ST_SetSRID(ST_MakePoint(72.805, 19.005), 4326), w.ward_id,"
            " c.default_department_id, :status, 'import', :at, :at,"
            " :at + interval '48 hours', 0"
            " FROM category c, ward w WHERE c.slug = :cat AND w.ward_code = 'A'"),
            {"t": tracking_id, "at": created_at, "status": status,
             "cat": category})


def complaint_row(engine, tracking_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT c.*, w.ward_code, d.code AS department_code,"
            " ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat FROM complaint c"
            " JOIN ward w ON w.ward_id = c.ward_id"
            " JOIN department d ON d.department_id = c.department_id"
            " WHERE tracking_id = :t"), {"t": tracking_id}).mappings().one())


def n_complaints(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM complaint")).scalar_one()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 20)).save(out, "PNG")
    return out.getvalue()


# --------------------------------------------------------------------------
# Discovery and services
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_one_production_endpoint(client, fmt):
    response = get(client, "discovery", fmt)

    body = read(response, fmt, "discovery")
    assert response.status_code == 200
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert datetime.fromisoformat(endpoint["changeset"]).tzinfo is not None


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_active_categories_with_groups(client, grid, clean_db, fmt):
    with clean_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO category (slug, name, group_slug, group_name, position,"
            " default_department_id, sla_hours, attributes, is_active)"
            " SELECT 'retired', 'Retired', 'other', 'other', 9, department_id,"
            " 24, '[]', false FROM department WHERE code = 'WARD'"))

    response = get(client, "services", fmt)

    services = read(response, fmt, "services")
    assert response.status_code == 200
    assert isinstance(services, list)
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"pothole", "other"}
    assert as_text(by_code["pothole"]) == {
        "service_code": "pothole", "service_name": "Pothole",
        "description": "Pothole", "metadata": "true", "type": "realtime",
        "keywords": as_text(by_code["pothole"]["keywords"]), "group": "roads",
    }
    assert as_text(by_code["other"]["metadata"]) == "false"
    assert by_code["other"]["group"] == "other"
    if fmt == "json":
        assert by_code["pothole"]["metadata"] is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_maps_category_attributes(client, grid, fmt):
    response = get(client, "services/pothole", fmt)

    body = read(response, fmt, "service_definition")
    assert response.status_code == 200
    assert body["service_code"] == "pothole"
    width, lane, hazards, seen_at = body["attributes"]
    assert as_text(width) == {
        "variable": "true", "code": "width_m", "datatype": "number",
        "required": "true", "datatype_description": width["datatype_description"],
        "order": "1", "description": "How wide is it, in metres?",
    }
    assert as_text(lane["required"]) == "false"
    assert as_text(lane["order"]) == "2"
    assert lane["values"] == [{"key": "left", "name": "Left lane"},
                              {"key": "right", "name": "Right lane"}]
    assert hazards["values"] == [{"key": "water", "name": "water"},
                                 {"key": "gravel", "name": "gravel"}]
    assert "values" not in seen_at
    if fmt == "json":
        assert width["variable"] is True and width["order"] == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_without_attributes_has_an_empty_definition(client, grid, fmt):
    body = read(get(client, "services/other", fmt), fmt, "service_definition")

    assert body == {"service_code": "other", "attributes": []}


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_definition_is_404(client, grid, fmt):
    response = get(client, "services/volcano", fmt)

    assert response.status_code == 404
    assert "volcano" in error_of(response, fmt)


# --------------------------------------------------------------------------
# Filing service requests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_post_files_a_routed_complaint(client, key, clean_db, fmt):
    response = file(client, key, fmt, first_name="Asha", last_name="Rao",
                    email="asha@example.org", phone="+91 98200 00000",
                    account_id="acct-7", device_id="phone-1",
                    **{"attribute[lane]": "left", "attribute[hazards][]": "water"})

    body = read(response, fmt, "service_requests")
    assert response.status_code == 200
    [answer] = body
    assert set(answer) == {"service_request_id", "token", "service_notice",
                           "account_id"}
    assert answer["token"] == answer["service_request_id"]
    assert answer["account_id"] == "acct-7"
    stored = complaint_row(clean_db, answer["service_request_id"])
    assert (stored["ward_code"], stored["department_code"]) == ("A", "ROADS")
    assert answer["service_notice"] == (
        f"Routed to Roads of ward A; due "
        f"{stored['due_at'].astimezone(UTC).isoformat(timespec='seconds')}")
    assert stored["channel"] == "open311"
    assert stored["api_key_id"] is not None
    assert stored["reporter_name"] == "Asha Rao"
    assert stored["attributes"] == {"width_m": 1.5, "lane": "left",
                                    "hazards": ["water"]}
    assert not stored["location_pending"]


def test_post_follows_the_ward_rule(client, key, clean_db):
    tracking_id = filed_id(file(client, key, **IN_D))

    stored = complaint_row(clean_db, tracking_id)
    assert (stored["ward_code"], stored["department_code"]) == ("D", "WARD")
    assert stored["due_at"] - stored["created_at"] == timedelta(hours=12)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sent", [None, "", "not-a-key"])
def test_post_without_a_valid_key_is_403(client, key, clean_db, fmt, sent):
    response = file(client, sent, fmt)

    assert response.status_code == 403
    assert "api_key" in error_of(response, fmt)
    assert n_complaints(clean_db) == 0


def test_revoked_key_is_403(client, key, clean_db):
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE api_key SET revoked_at = now()"))

    assert file(client, key).status_code == 403


def test_key_in_the_query_string_is_accepted(client, key):
    response = client.post(f"{BASE}/requests.json?api_key={key}", data={
        "service_code": "other", "description": "Broken bench", **IN_A})

    assert filed_id(response)


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_unknown_service_is_404(client, key, fmt):
    response = file(client, key, fmt, service_code="volcano")

    assert response.status_code == 404
    assert "volcano" in error_of(response, fmt)


@pytest.mark.parametrize(("fields", "message"), [
    ({"service_code": ""}, "service_code is required"),
    ({"lat": None, "long": None}, "send lat and long"),
    ({"lat": "", "long": ""}, "send lat and long"),
    ({"long": None}, "send lat and long together"),
    ({"lat": "north"}, "lat must be a number"),
    ({"long": "200"}, "long must be between -180 and 180"),
    ({"description": ""}, "description is empty"),
    ({"description": "   "}, "description is empty"),
    ({"description": None}, "description is empty"),
    ({"description": "x" * 4001}, "description is 4,001 characters long"),
    ({"address_string": "y" * 501}, "address is 501 characters long"),
    ({"email": "not-an-address"}, "email does not look like an e-mail"),
    ({"attribute[width_m]": ""}, "requires attribute width_m"),
    ({"attribute[width_m]": "wide"}, "attribute width_m must be a number"),
    ({"attribute[colour]": "red"}, "has no attribute colour"),
    ({"attribute[lane]": "middle"}, "attribute lane must be one of left, right"),
    ({"attribute[hazards][]": "lava"}, "attribute hazards must be one of"),
    ({"attribute[seen_at]": "yesterday"}, "attribute seen_at must be a date"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_post_bad_field_is_400_naming_it(client, key, clean_db, fmt, fields,
                                         message):
    response = file(client, key, fmt, **fields)

    assert response.status_code == 400
    assert message in error_of(response, fmt)
    assert n_complaints(clean_db) == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_outside_every_ward_is_400(client, key, fmt):
    response = file(client, key, fmt, lat="19.005", long="72.90")

    assert response.status_code == 400
    assert "outside the service area" in error_of(response, fmt)


def test_empty_optional_fields_count_as_absent(client, key, clean_db):
    tracking_id = filed_id(file(client, key, email="", phone="", first_name="",
                                address_string="", account_id="",
                                **{"attribute[lane]": ""}))

    stored = complaint_row(clean_db, tracking_id)
    assert stored["reporter_email"] is None and stored["address"] is None
    assert stored["attributes"] == {"width_m": 1.5}


def test_multivaluelist_takes_several_answers(client, key, clean_db):
    response = client.post(f"{BASE}/requests.json", data={
        "api_key": key, "service_code": "pothole", "description": "Deep",
        "attribute[width_m]": "2", "attribute[hazards][]": ["water", "gravel"],
        "attribute[seen_at]": "2026-12-01T08:00:00+05:30", **IN_A})

    stored = complaint_row(clean_db, filed_id(response))
    assert stored["attributes"]["hazards"] == ["water", "gravel"]
    assert stored["attributes"]["seen_at"] == "2026-12-01T08:00:00+05:30"


SCRIPT = "<script>alert('x & y')</script> \"quoted\" ]]> done"


@pytest.mark.parametrize("fmt", FORMATS)
def test_markup_is_stored_and_returned_as_text(client, key, clean_db, fmt):
    tracking_id = filed_id(file(client, key, description=SCRIPT,
                                address_string="<b>Gate 2</b>"))

    response = get(client, f"requests/{tracking_id}", fmt)

    [found] = read(response, fmt, "service_requests")
    assert found["description"] == SCRIPT
    assert found["address"] == "<b>Gate 2</b>"
    assert complaint_row(clean_db, tracking_id)["description"] == SCRIPT
    if fmt == "xml":
        assert b"<script>" not in response.data
        assert b"&lt;script&gt;" in response.data


def test_characters_xml_cannot_carry_are_replaced(client, key):
    tracking_id = filed_id(file(client, key, description="bell\x07 and\ttab"))

    response = get(client, f"requests/{tracking_id}", "xml")

    [found] = read(response, "xml", "service_requests")
    assert found["description"] == "bell\ufffd and\ttab"


def test_idempotency_key_replay_returns_the_same_request(client, key, clean_db):
    headers = {"Idempotency-Key": "client-retry-42"}

    first = file(client, key, headers=headers)
    again = file(client, key, "xml", headers=headers)

    [replayed] = read(again, "xml", "service_requests")
    assert replayed["service_request_id"] == filed_id(first)
    assert replayed["service_notice"] == json.loads(first.data)[0]["service_notice"]
    assert n_complaints(clean_db) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_rate_limit_is_429_in_the_requested_format(database_url, key, clean_db,
                                                   fmt):
    limited = make_client(database_url, SUBMISSION_RATE_LIMIT=2)
    try:
        client = limited.test_client()
        assert [file(client, key).status_code for _ in range(2)] == [200, 200]
        response = file(client, key, fmt)
    finally:
        limited.extensions["wardwatch_db"].engine.dispose()

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "too many submissions" in error_of(response, fmt)
    assert n_complaints(clean_db) == 2


@pytest.mark.parametrize(("jurisdiction", "status"), [
    ("", 200), ("wardwatch", 200), ("elsewhere", 404)])
def test_jurisdiction_id_must_be_ours_or_empty(client, key, jurisdiction, status):
    posted = file(client, key, jurisdiction_id=jurisdiction)
    listed = get(client, "services", jurisdiction_id=jurisdiction)

    assert (posted.status_code, listed.status_code) == (status, status)
    if status == 404:
        assert "jurisdiction_id 'elsewhere'" in error_of(posted, "json")


@pytest.mark.parametrize("address", ["ward b", " B ", "WARD B"])
def test_address_naming_a_ward_files_a_pending_location(client, key, clean_db,
                                                        address):
    tracking_id = filed_id(file(client, key, lat=None, long=None,
                                address_string=address))

    stored = complaint_row(clean_db, tracking_id)
    assert stored["ward_code"] == "B" and stored["location_pending"]
    [found] = read(get(client, f"requests/{tracking_id}"), "json")
    assert found["lat"] is None and found["long"] is None
    assert found["address"] == address.strip()
    assert "an operator will place it" in found["service_notice"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_address_that_is_not_a_ward_is_400(client, key, clean_db, fmt):
    response = file(client, key, fmt, lat=None, long=None,
                    address_string="12 Station Road")

    assert response.status_code == 400
    assert error_of(response, fmt) == ("cannot place the address "
                                       "'12 Station Road'; send lat and long")
    assert n_complaints(clean_db) == 0


def test_point_wins_over_an_address(client, key, clean_db):
    tracking_id = filed_id(file(client, key, address_string="Ward D"))

    stored = complaint_row(clean_db, tracking_id)
    assert stored["ward_code"] == "A" and not stored["location_pending"]


def test_uploaded_photo_becomes_the_media_url(database_url, key, clean_db,
                                              tmp_path):
    media_app = make_client(database_url, MEDIA_DIR=str(tmp_path))
    try:
        client = media_app.test_client()
        response = client.post(f"{BASE}/requests.json", data={
            "api_key": key, "service_code": "other", "description": "Litter",
            "media": (io.BytesIO(png_bytes()), "litter.png"), **IN_A},
            content_type="multipart/form-data")
        tracking_id = filed_id(response)
        [found] = read(get(client, f"requests/{tracking_id}"), "json")
    finally:
        media_app.extensions["wardwatch_db"].engine.dispose()

    with clean_db.connect() as conn:
        storage_key = conn.execute(text("SELECT storage_key FROM photo")).scalar_one()
    assert found["media_url"] == f"http://localhost/media/{storage_key}"
    assert (tmp_path / storage_key).is_file()


# --------------------------------------------------------------------------
# Reading service requests
# --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_request_by_id_is_a_list_of_one_with_every_field(client, key, clean_db,
                                                         fmt):
    tracking_id = filed_id(file(client, key, address_string="Near gate 2"))

    response = get(client, f"requests/{tracking_id}", fmt)

    [found] = read(response, fmt, "service_requests")
    assert response.status_code == 200
    assert list(found) == REQUEST_FIELDS
    stored = complaint_row(clean_db, tracking_id)
    assert as_text(found) == as_text({
        "service_request_id": tracking_id, "status": "open",
        "status_notes": "Submitted", "service_name": "Pothole",
        "service_code": "pothole", "description": "Deep pothole by the stop",
        "agency_responsible": "Roads", "service_notice": found["service_notice"],
        "requested_datetime": found["requested_datetime"],
        "updated_datetime": found["updated_datetime"],
        "expected_datetime": found["expected_datetime"],
        "address": "Near gate 2", "address_id": None, "zipcode": None,
        "lat": 19.005, "long": 72.805, "media_url": None,
    })
    assert datetime.fromisoformat(found["requested_datetime"]) == \
        stored["created_at"].replace(microsecond=0)
    assert datetime.fromisoformat(found["expected_datetime"]) == \
        stored["due_at"].replace(microsecond=0)
    assert found["requested_datetime"].endswith("+00:00")
    if fmt == "json":
        assert isinstance(found["lat"], float)


def test_request_id_is_read_as_people_type_it(client, key):
    tracking_id = filed_id(file(client, key))

    response = get(client, f"requests/{tracking_id.lower().replace('-', '')}")

    assert read(response, "json")[0]["service_request_id"] == tracking_id


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_request_is_404(client, grid, fmt):
    response = get(client, "requests/ABCD-EFGH-JKMN", fmt)

    assert response.status_code == 404
    assert "ABCD-EFGH-JKMN" in error_of(response, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_gives_the_request_id(client, key, fmt):
    posted = json.loads(file(client, key).data)[0]

    response = get(client, f"tokens/{posted['token']}", fmt)

    assert read(response, fmt, "service_requests") == [
        {"service_request_id": posted["service_request_id"],
         "token": posted["token"]}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_token_is_404(client, grid, fmt):
    response = get(client, "tokens/ABCD-EFGH-JKMN", fmt)

    assert response.status_code == 404
    assert "ABCD-EFGH-JKMN" in error_of(response, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_contact_details_never_leave_the_server(client, key, fmt):
    tracking_id = filed_id(file(client, key, first_name="Meera",
                                last_name="Kulkarni", email="meera@example.org",
                                phone="+91 98200 11111"))

    for response in (get(client, "requests", fmt),
                     get(client, f"requests/{tracking_id}", fmt),
                     get(client, "requests", fmt, service_request_id=tracking_id)):
        assert response.status_code == 200
        for private in (b"Meera", b"Kulkarni", b"meera@example.org", b"98200"):
            assert private not in response.data


STATUSES = [
    ("submitted", "open", "Submitted"), ("acknowledged", "open", "Acknowledged"),
    ("in_progress", "open", "In progress"), ("resolved", "closed", "Resolved"),
    ("closed", "closed", "Closed"), ("rejected", "closed", "Rejected"),
    ("duplicate", "closed", "Duplicate of another request"),
]


@pytest.fixture
def one_of_each_status(grid, clean_db):
    """One complaint per internal status, ids S000-0000-000n, an hour apart."""
    now = datetime.now(UTC)
    for n, (status, _, _) in enumerate(STATUSES):
        insert_complaint(clean_db, f"S000-0000-000{n}", now - timedelta(hours=n),
                         status)


@pytest.mark.parametrize("fmt", FORMATS)
def test_statuses_map_to_open_or_closed_with_notes(client, one_of_each_status,
                                                   fmt):
    found = read(get(client, "requests", fmt), fmt, "service_requests")

    assert [(r["status"], r["status_notes"]) for r in found] == \
        [(open_closed, notes) for _, open_closed, notes in STATUSES]


@pytest.mark.parametrize(("status", "expected"), [
    ("open", {0, 1, 2}), ("closed", {3, 4, 5, 6}),
    ("open,closed", set(range(7))), (" closed , open ", set(range(7))),
    ("", set(range(7))),
])
def test_status_filter(client, one_of_each_status, status, expected):
    found = read(get(client, "requests", status=status), "json")

    assert {int(r["service_request_id"][-1]) for r in found} == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_status_filter_is_400(client, grid, fmt):
    response = get(client, "requests", fmt, status="open,pending")

    assert response.status_code == 400
    assert "status must be open or closed" in error_of(response, fmt)
    assert "pending" in error_of(response, fmt)


def test_service_code_filter_takes_a_comma_list(client, key):
    pothole = filed_id(file(client, key))
    other = filed_id(file(client, key, service_code="other",
                          **{"attribute[width_m]": None}))

    def codes(value):
        found = read(get(client, "requests", service_code=value), "json")
        return {r["service_request_id"] for r in found}

    assert codes("pothole") == {pothole}
    assert codes("other") == {other}
    assert codes("pothole,other") == {pothole, other}
    assert codes("volcano") == set()


def test_service_request_id_filter_ignores_the_other_filters(client, key,
                                                             clean_db):
    recent = filed_id(file(client, key))
    insert_complaint(clean_db, "0DD0-0000-0001",
                     datetime.now(UTC) - timedelta(days=400), "closed")

    found = read(get(client, "requests", service_request_id=f"{recent},0dd000000001,"
                     "ABCD-EFGH-JKMN", status="closed", service_code="other",
                     start_date="2000-01-01T00:00:00Z",
                     end_date="2000-01-02T00:00:00Z"), "json")

    assert [r["service_request_id"] for r in found] == [recent, "0DD0-0000-0001"]


@pytest.fixture
def november(grid, clean_db):
    """Complaints filed at 00:00 UTC on 1, 10 and 20 November 2026."""
    for day in (1, 10, 20):
        insert_complaint(clean_db, f"N0V0-0000-00{day:02d}",
                         datetime(2026, 11, day, tzinfo=UTC))


@pytest.mark.parametrize(("query", "days"), [
    ({"start_date": "2026-11-05T00:00:00Z"}, [20, 10]),
    ({"start_date": "2026-11-10T05:30:00+05:30"}, [20, 10]),
    ({"start_date": "2026-11-10T05:30:01+05:30"}, [20]),
    ({"end_date": "2026-11-09T23:59:59+00:00"}, [1]),
    ({"end_date": "2026-11-09T19:00:00-05:00"}, [10, 1]),
    ({"start_date": "2026-11-10T00:00:00Z", "end_date": "2026-11-10T00:00:00Z"},
     [10]),
    ({"start_date": "2026-10-31T20:00:00-04:00",
      "end_date": "2026-11-19T23:59:59Z"}, [10, 1]),
    # A "+" left unescaped in a query string arrives as a space.
    ({"start_date": "2026-11-10T05:30:00 05:30"}, [20, 10]),
])
def test_date_filters_respect_offsets(client, november, query, days):
    found = read(get(client, "requests", **query), "json")

    assert [r["service_request_id"] for r in found] == \
        [f"N0V0-0000-00{d:02d}" for d in days]


@pytest.mark.parametrize(("query", "named"), [
    ({"start_date": "2026-11-05T00:00:00"}, "start_date"),
    ({"start_date": "2026-11-05"}, "start_date"),
    ({"end_date": "5 November 2026"}, "end_date"),
    ({"end_date": "2026-13-01T00:00:00Z"}, "end_date"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_naive_or_malformed_date_is_400_naming_it(client, grid, fmt, query,
                                                  named):
    response = get(client, "requests", fmt, **query)

    assert response.status_code == 400
    message = error_of(response, fmt)
    assert message.startswith(f"{named} must be a date-time with a time zone")
    assert repr(query[named]) in message


def test_start_after_end_is_400(client, grid):
    response = get(client, "requests", start_date="2026-11-10T00:00:00Z",
                   end_date="2026-11-01T00:00:00Z")

    assert response.status_code == 400
    assert "start_date must not be after end_date" in error_of(response, "json")


def test_default_window_is_the_last_90_days(client, grid, clean_db):
    now = datetime.now(UTC)
    insert_complaint(clean_db, "0DD0-0000-0120", now - timedelta(days=120))
    insert_complaint(clean_db, "NEW0-0000-0080", now - timedelta(days=80))

    default = read(get(client, "requests"), "json")
    wider = read(get(client, "requests", start_date=(
        now - timedelta(days=150)).isoformat()), "json")

    assert [r["service_request_id"] for r in default] == ["NEW0-0000-0080"]
    assert [r["service_request_id"] for r in wider] == ["NEW0-0000-0080",
                                                        "0DD0-0000-0120"]


def test_at_most_1000_requests_newest_first(client, grid, clean_db):
    with clean_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO complaint (tracking_id, category_id, description, geom,"
            " ward_id, department_id, status, channel, created_at, updated_at,"
            " due_at, n_supporters)"
            " SELECT 'MANY-' || lpad(g::text, 4, '0') || '-0000', c.category_id,"
            " 'Bulk ' || g, ST_SetSRID(ST_MakePoint(72.805, 19.005), 4326),"
            " w.ward_id, c.default_department_id, 'submitted', 'import', t, t,"
            " t + interval '48 hours', 0"
            " FROM generate_series(1, 1005) AS g"
            " CROSS JOIN LATERAL (SELECT now() - g * interval '1 minute' AS t) AS s"
            " JOIN category c ON c.slug = 'pothole'"
            " JOIN ward w ON w.ward_code = 'A'"))

    response = get(client, "requests", "xml")

    found = read(response, "xml", "service_requests")
    assert len(found) == 1000
    assert found[0]["service_request_id"] == "MANY-0001-0000"
    assert found[-1]["service_request_id"] == "MANY-1000-0000"
    times = [datetime.fromisoformat(r["requested_datetime"]) for r in found]
    assert times == sorted(times, reverse=True)


def explain_recent(conn, category_ids) -> str:
    plan = conn.execute(text("EXPLAIN " + queries.load_sql("recent_complaint_ids")),
                        {"since": datetime.now(UTC) - timedelta(days=900),
                         "until": None, "statuses": ["submitted"],
                         "category_ids": category_ids, "limit": 1000})
    return "\n".join(plan.scalars())


def test_request_query_reads_through_an_index(grid, clean_db):
    """20,000 complaints, one in a hundred of category other."""
    with clean_db.begin() as conn:
        conn.execute(text(
            "INSERT INTO complaint (tracking_id, category_id, description, geom,"
            " ward_id, department_id, status, channel, created_at, updated_at,"
            " due_at, n_supporters)"
            " SELECT 'PLAN-' || g, c.category_id, '',"
            " ST_SetSRID(ST_MakePoint(72.805, 19.005), 4326),"
            " w.ward_id, c.default_department_id, 'submitted', 'import', t, t, t, 0"
            " FROM generate_series(1, 20000) AS g"
            " CROSS JOIN LATERAL (SELECT now() - g * interval '1 hour' AS t) AS s"
            " JOIN category c ON c.slug = CASE WHEN g % 100 = 0 THEN 'other'"
            " ELSE 'pothole' END"
            " JOIN ward w ON w.ward_code = 'A'"))
        conn.execute(text("ANALYZE complaint"))
        every = explain_recent(conn, None)
        rare = explain_recent(conn, [grid["other"]])

    assert "Index Scan Backward using complaint_created_at" in every
    assert "Index Scan using complaint_category_created" in rare
    for plan in (every, rare):
        assert plan.startswith("Limit") and "Seq Scan" not in plan


# --------------------------------------------------------------------------
# Errors outside the routes, and the API key command
# --------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "fmt"), [
    ("/open311/v2/nothing.xml", "xml"), ("/open311/v2/nothing.json", "json"),
    ("/open311/v2/services", "json"), ("/open311/v2/services.html", "json"),
])
def test_unknown_open311_path_is_404_never_html(client, path, fmt):
    response = client.get(path)

    assert response.status_code == 404
    assert error_of(response, fmt)
    assert b"<html" not in response.data


@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_method_is_405_in_the_requested_format(client, fmt):
    response = client.delete(f"{BASE}/requests.{fmt}")

    assert response.status_code == 405
    assert error_of(response, fmt)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_apikeys_create_prints_a_working_key(cli, client, grid):
    result = cli("apikeys", "create", "city app")
    again = cli("apikeys", "create", "city app")

    assert result.exit_code == 0
    printed = result.output.strip().splitlines()[-1]
    assert filed_id(file(client, printed))
    assert again.exit_code == 1
    assert "already has a key" in again.output


# --------------------------------------------------------------------------
# Real boundaries
# --------------------------------------------------------------------------

def test_pothole_at_csmt_goes_to_ward_a(cli, client, clean_db, shared_data):
    wards = shared_data / "wards" / "mumbai_admin_wards.geojson"
    assert cli("wards", "import", str(wards), "--code-field", "name").exit_code == 0
    assert cli("routing", "load", str(DEFAULT_ROUTING)).exit_code == 0
    with clean_db.begin() as conn:
        key = create_api_key(conn, "csmt test")

    tracking_id = filed_id(file(client, key, lat="18.9398", long="72.8355",
                                description="Pothole outside CSMT station",
                                **{"attribute[width_m]": None}))

    [found] = read(get(client, f"requests/{tracking_id}"), "json")
    assert found["agency_responsible"] == "Roads Department"
    assert found["service_notice"].startswith("Routed to Roads Department of "
                                              "ward A; due ")
    stored = complaint_row(clean_db, tracking_id)
    assert (stored["ward_code"], stored["department_code"]) == ("A", "RDS")
    assert stored["due_at"] - stored["created_at"] == timedelta(hours=48)
