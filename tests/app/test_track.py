"""Tracking page /c/<id>: details, due time, timeline, photos and privacy."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import text

from app import intake
from app.models import EventKind
from app.photos import PhotoStore
from tests.app.helpers import commit_grid_and_routing

INSIDE_A = (72.805, 19.005)
CONTACT = intake.Contact(name="Asha Rao", email="asha@example.org",
                         phone="+91 98200 00000")
SUPPORTER = intake.Contact(name="Ravi Kulkarni", email="ravi@example.net",
                           phone="+91 99300 11111")


@pytest.fixture
def grid(clean_db):
    return commit_grid_and_routing(clean_db)


@pytest.fixture
def db(clean_db, grid):
    """The engine of the test database, with the ward grid committed."""
    return clean_db


@pytest.fixture
def store(app, tmp_path) -> PhotoStore:
    """Photo store whose folder the app serves as its media folder."""
    media = tmp_path / "media"
    app.config["MEDIA_DIR"] = str(media)
    return PhotoStore(media)


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def file(db, store, **overrides) -> intake.Filed:
    fields = {"category_slug": "pothole",
              "description": "Deep pothole outside the school gate",
              "lon": INSIDE_A[0], "lat": INSIDE_A[1], "contact": CONTACT}
    return intake.file_once(db, intake.Submission(**{**fields, **overrides}),
                            store)


def page(client, tracking_id: str) -> str:
    response = client.get(f"/c/{tracking_id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def map_config(html: str) -> dict:
    found = re.search(r'id="complaint-map-config">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_page_shows_category_ward_department_status_and_time_left(
        client, db, store):
    filed = file(db, store)

    html = page(client, filed.tracking_id)

    assert filed.tracking_id in html
    assert "Pothole" in html
    assert "Ward A (A)" in html
    assert "Roads" in html
    assert "Submitted" in html
    # Potholes have a 48-hour SLA.
    assert "2 days left" in html
    assert "overdue" not in html


def set_due(db, complaint_id: int, due_at: datetime,
            status: str | None = None) -> None:
    with db.begin() as conn:
        conn.execute(text(
            "UPDATE complaint SET due_at = :due, status = COALESCE(:s, status)"
            " WHERE complaint_id = :id"),
            {"due": due_at, "s": status, "id": complaint_id})


def test_overdue_complaint_says_by_how_much(client, db, store):
    filed = file(db, store)
    set_due(db, filed.complaint_id,
            datetime.now(UTC) - timedelta(days=3, minutes=5))

    html = page(client, filed.tracking_id)

    assert "overdue by 3 days" in html


def test_closed_complaint_is_never_overdue(client, db, store):
    filed = file(db, store)
    set_due(db, filed.complaint_id, datetime.now(UTC) - timedelta(days=3),
            status="resolved")

    html = page(client, filed.tracking_id)

    assert "Resolved" in html
    assert "overdue" not in html
    assert " left" not in html


def add_events(db, complaint_id: int) -> None:
    start = datetime.now(UTC) + timedelta(minutes=1)
    events = [
        (EventKind.STATUS_CHANGE, "acknowledged", None, True, 1),
        (EventKind.COMMENT, None, "Internal: check the budget first", False, 2),
        (EventKind.COMMENT, None, "A crew will visit on Monday.", True, 3),
        (EventKind.ASSIGNMENT, None, "Roads department", True, 4),
        (EventKind.STATUS_CHANGE, "in_progress", None, True, 5),
    ]
    with db.begin() as conn:
        for kind, status, body, public, hours in events:
            intake.add_event(conn, complaint_id, kind, status=status, body=body,
                             is_public=public, at=start + timedelta(hours=hours))


def test_timeline_lists_public_events_in_order_with_labels(
        client, db, store):
    filed = file(db, store)
    add_events(db, filed.complaint_id)

    html = page(client, filed.tracking_id)
    timeline = html[html.index('class="timeline"'):]

    expected = ["Complaint filed", "Status changed", "Acknowledged",
                "Update from the council", "A crew will visit on Monday.",
                "Assigned to a department", "Roads department",
                "Status changed", "In progress"]
    positions = []
    start = 0
    for label in expected:
        start = timeline.index(label, start)
        positions.append(start)
    assert positions == sorted(positions)
    assert "check the budget" not in html
    assert timeline.count("<time") == 5


def test_photo_is_shown_and_served_with_long_cache(client, db, store):
    filed = file(db, store, photos=[small_jpeg()])
    with db.connect() as conn:
        key = conn.execute(text("SELECT storage_key FROM photo WHERE"
                                " complaint_id = :id"),
                           {"id": filed.complaint_id}).scalar_one()

    html = page(client, filed.tracking_id)
    with client.get(f"/media/{key}") as photo:
        body = photo.data

    assert f'<img src="/media/{key}"' in html
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    assert body == store.path(key).read_bytes()
    assert photo.cache_control.max_age >= 30 * 24 * 3600
    assert photo.cache_control.immutable


def test_unknown_media_key_is_404_even_if_a_file_exists(client, grid, store):
    stray = store.root / "ab" / "not-a-photo.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(small_jpeg())

    assert client.get("/media/ab/not-a-photo.jpg").status_code == 404
    assert client.get("/media/zz/nothing.jpg").status_code == 404
    assert client.get("/media/../secret.txt").status_code == 404


def test_unknown_tracking_id_is_404_with_the_lookup_form(client, grid):
    response = client.get("/c/ZZZZ-ZZZZ-ZZZZ")

    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We found no complaint with the tracking number" in html
    assert 'name="id"' in html


def test_lower_case_id_without_dashes_finds_the_complaint(
        client, db, store):
    filed = file(db, store)
    typed = filed.tracking_id.replace("-", "").lower()

    response = client.get(f"/c/{typed}", follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == f"/c/{filed.tracking_id}"
    assert "Pothole" in response.get_data(as_text=True)


def test_lookup_form_redirects_to_the_tracking_page(client, db, store):
    filed = file(db, store)
    typed = filed.tracking_id.lower().replace("-", " ")

    response = client.get("/c", query_string={"id": typed})

    assert response.status_code == 302
    assert response.location.endswith(f"/c/{filed.tracking_id}")


def test_lookup_form_has_a_labelled_field(client):
    html = client.get("/c").get_data(as_text=True)

    assert '<label for="tracking-id">' in html
    assert 'id="tracking-id"' in html


def test_contact_details_never_appear(client, db, store):
    filed = file(db, store)
    with db.begin() as conn:
        intake.support_complaint(conn, filed.tracking_id, SUPPORTER)

    html = page(client, filed.tracking_id)

    assert "1 other resident" in html
    for contact in (CONTACT, SUPPORTER):
        for value in (contact.name, contact.email, contact.phone):
            assert value not in html
    assert "98200" not in html and "asha" not in html.lower()


def test_markup_in_description_and_comments_is_escaped(
        client, db, store):
    filed = file(db, store,
                 description="<script>alert('pwned')</script> near the gate")
    with db.begin() as conn:
        intake.add_event(conn, filed.complaint_id, EventKind.COMMENT,
                         body="<img src=x onerror=alert(1)>",
                         at=datetime.now(UTC) + timedelta(hours=1))

    html = page(client, filed.tracking_id)

    assert "&lt;script&gt;alert(" in html
    assert "<script>alert(" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_location_pending_complaint_shows_no_pin(client, db, store):
    filed = file(db, store, lon=None, lat=None, ward_code="B",
                 address="Behind the vegetable market")

    html = page(client, filed.tracking_id)

    assert "Location being confirmed by an operator" in html
    assert "Ward B (B)" in html
    config = map_config(html)
    assert config["point"] is None
    assert config["ward"]["type"] in ("Polygon", "MultiPolygon")
    assert "Latitude" not in html


def test_located_complaint_map_has_its_point(client, db, store):
    filed = file(db, store)

    config = map_config(page(client, filed.tracking_id))

    assert config["point"] == pytest.approx([INSIDE_A[1], INSIDE_A[0]])
    assert config["tileUrl"]
