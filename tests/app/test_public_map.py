"""Public map: the page and its filter form, and the viewport data endpoint."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from app import intake
from app.photos import PhotoStore
from app.public_map import (
    MAX_CELLS,
    MAX_POINTS,
    Viewport,
    cell_size_deg,
    parse_filters,
)
from tests.app.helpers import commit_grid_and_routing

#: The whole 2x2 grid and a margin; the grid exactly; ward A alone.
GRID_BOX = "72.79,18.99,72.83,19.03"
TIGHT_BOX = "72.80,19.00,72.82,19.02"
WARD_A_BOX = "72.80,19.00,72.81,19.01"
CONTACT = intake.Contact(name="Asha Rao", email="asha@example.org",
                         phone="+91 98200 00000")

#: Complaint ``g`` (1..n): ward A, B, C, D by g % 4; a status by (g / 4) % 4;
#: category "other" for every fifth; filed g hours ago. Each point lies well
#: inside its ward, spread over the ward by two co-prime strides.
INSERT_COMPLAINTS = """
INSERT INTO complaint (tracking_id, category_id, description, geom, ward_id,
    department_id, status, channel, reporter_name, reporter_email,
    reporter_phone, created_at, updated_at, due_at, n_supporters)
SELECT 'T' || lpad(g::text, 13, '0'), cat.category_id, 'bulk complaint',
       ST_SetSRID(ST_MakePoint(
           ST_XMin(w.geom) + 0.001 + 0.008 * ((g * 7919) % 1000) / 1000.0,
           ST_YMin(w.geom) + 0.001 + 0.008 * ((g * 104729) % 997) / 997.0),
           4326),
       w.ward_id, cat.default_department_id,
       (ARRAY['submitted', 'in_progress', 'resolved', 'closed'])[1 + (g / 4) % 4],
       'import', 'Secret Name', 'secret@example.org', '+91 90000 12345',
       now() - g * interval '1 hour', now(), now() + interval '2 days', 0
FROM generate_series(1, :n) AS g
JOIN ward AS w ON w.ward_code = (ARRAY['A', 'B', 'C', 'D'])[1 + g % 4]
JOIN ward_set AS s ON s.ward_set_id = w.ward_set_id AND s.is_current
JOIN category AS cat
  ON cat.slug = CASE WHEN g % 5 = 0 THEN 'other' ELSE 'pothole' END
"""


@pytest.fixture
def db(clean_db):
    """The engine of the test database, with the ward grid committed."""
    commit_grid_and_routing(clean_db)
    return clean_db


def add_complaints(db, n: int) -> None:
    with db.begin() as conn:
        conn.execute(text(INSERT_COMPLAINTS), {"n": n})
        conn.execute(text("ANALYZE complaint"))


def count(db, where: str = "true", **params) -> int:
    with db.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM complaint AS c"
            " JOIN category AS cat ON cat.category_id = c.category_id"
            " JOIN ward AS w ON w.ward_id = c.ward_id"
            f" WHERE NOT c.location_pending AND {where}"), params).scalar_one()


def features(client, bbox: str = GRID_BOX, zoom: int = 14, **filters) -> dict:
    response = client.get("/api/v1/map/complaints",
                          query_string={"bbox": bbox, "zoom": zoom, **filters})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_cells_at_low_zoom_add_up_to_the_complaints_in_the_box(client, db):
    add_complaints(db, 5000)

    body = features(client, zoom=14)

    assert body["kind"] == "cells"
    assert len(body["features"]) <= 100
    assert sum(f["properties"]["n_complaints"] for f in body["features"]) == 5000
    assert body["n_complaints"] == 5000
    assert body["truncated"] is False


def test_cells_count_only_the_box_and_the_filters(client, db):
    add_complaints(db, 5000)

    in_a = features(client, bbox=WARD_A_BOX, zoom=15)
    open_pothole = features(client, zoom=12, status="open", category="pothole")

    assert in_a["n_complaints"] == count(db, "w.ward_code = 'A'")
    assert open_pothole["n_complaints"] == count(
        db, "c.status IN ('submitted', 'in_progress') AND cat.slug = 'pothole'")
    assert sum(f["properties"]["n_complaints"]
               for f in open_pothole["features"]) == open_pothole["n_complaints"]


def test_lower_zoom_gives_fewer_larger_cells(client, db):
    add_complaints(db, 2000)

    close = features(client, zoom=15)
    far = features(client, zoom=11)

    assert len(far["features"]) < len(close["features"])
    assert far["cell_deg"] > close["cell_deg"]
    assert far["n_complaints"] == close["n_complaints"] == 2000


def test_cell_positions_lie_inside_the_box(client, db):
    add_complaints(db, 500)

    body = features(client, bbox=WARD_A_BOX, zoom=15)

    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 72.80 <= lon <= 72.81 and 19.00 <= lat <= 19.01


def test_points_at_high_zoom_are_limited_and_newest_first(client, db):
    add_complaints(db, MAX_POINTS + 200)

    body = features(client, bbox=TIGHT_BOX, zoom=17)

    times = [f["properties"]["created_at"] for f in body["features"]]
    assert body["kind"] == "points"
    assert len(body["features"]) == MAX_POINTS
    assert body["truncated"] is True
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(("filters", "where"), [
    ({"category": "other"}, "cat.slug = 'other'"),
    ({"status": "closed"}, "c.status IN ('resolved', 'closed')"),
    ({"status": "in_progress"}, "c.status = 'in_progress'"),
    ({"ward": "C"}, "w.ward_code = 'C'"),
    ({"ward": "B", "status": "open", "category": "pothole"},
     "w.ward_code = 'B' AND c.status IN ('submitted', 'in_progress')"
     " AND cat.slug = 'pothole'"),
])
def test_points_follow_category_status_and_ward_filters(client, db, filters,
                                                        where):
    add_complaints(db, 300)

    body = features(client, zoom=16, **filters)

    assert len(body["features"]) == count(db, where) > 0
    statuses = {f["properties"]["status"] for f in body["features"]}
    if "status" in filters and filters["status"] == "closed":
        assert statuses <= {"resolved", "closed"}
    if "category" in filters:
        assert {f["properties"]["category_slug"] for f in body["features"]} == \
            {filters["category"]}


def test_points_follow_the_date_filters(client, db):
    add_complaints(db, 300)
    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=8), today - timedelta(days=3)

    body = features(client, zoom=16, since=since.isoformat(),
                    until=until.isoformat())

    start = datetime.combine(since, datetime.min.time(), UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
    assert len(body["features"]) == count(
        db, "c.created_at >= :start AND c.created_at < :end",
        start=start, end=end) > 0
    for feature in body["features"]:
        created = datetime.fromisoformat(feature["properties"]["created_at"])
        assert start <= created < end


def test_cells_follow_the_date_filters(client, db):
    add_complaints(db, 1000)
    since = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()

    body = features(client, zoom=12, since=since)

    start = datetime.fromisoformat(since).replace(tzinfo=UTC)
    assert body["n_complaints"] == count(db, "c.created_at >= :s", s=start)


def test_map_json_has_no_contact_details(client, db, tmp_path):
    filed = intake.file_once(db, intake.Submission(
        category_slug="pothole", description="Broken slab on the footpath",
        lon=72.805, lat=19.005, contact=CONTACT), PhotoStore(tmp_path))
    add_complaints(db, 20)

    cells = client.get("/api/v1/map/complaints", query_string={
        "bbox": TIGHT_BOX, "zoom": 12}).get_data(as_text=True)
    points = client.get("/api/v1/map/complaints", query_string={
        "bbox": TIGHT_BOX, "zoom": 17}).get_data(as_text=True)

    assert filed.tracking_id in points
    for raw in (cells, points):
        for secret in ("Asha", "asha@example.org", "98200", "Secret Name",
                       "secret@example.org", "90000", "reporter",
                       "Broken slab", "bulk complaint"):
            assert secret not in raw


def test_location_pending_complaints_stay_off_the_map(client, db, tmp_path):
    intake.file_once(db, intake.Submission(
        category_slug="pothole", description="Somewhere near the temple",
        address="Near the temple", ward_code="A", contact=CONTACT),
        PhotoStore(tmp_path))

    cells = features(client, zoom=12)
    points = features(client, bbox=TIGHT_BOX, zoom=17)

    assert cells["n_complaints"] == 0 and cells["features"] == []
    assert points["kind"] == "points" and points["features"] == []


@pytest.mark.parametrize(("query", "message"), [
    ({"zoom": "12"}, "bbox is required"),
    ({"bbox": "72.8,19.0,72.9", "zoom": "12"}, "bbox must be four numbers"),
    ({"bbox": "a,b,c,d", "zoom": "12"}, "bbox must be four numbers"),
    ({"bbox": "nan,19,72.9,19.1", "zoom": "12"}, "bbox must be four numbers"),
    ({"bbox": "72.9,19.0,72.8,19.1", "zoom": "12"}, "minlon < maxlon"),
    ({"bbox": "72.8,-95,72.9,19.1", "zoom": "12"}, "within -90..90"),
    ({"bbox": GRID_BOX}, "zoom is required"),
    ({"bbox": GRID_BOX, "zoom": "close"}, "zoom must be a whole number"),
    ({"bbox": GRID_BOX, "zoom": "23"}, "zoom must be a whole number"),
    ({"bbox": GRID_BOX, "zoom": "12.5"}, "zoom must be a whole number"),
    ({"bbox": GRID_BOX, "zoom": "-1"}, "zoom must be a whole number"),
    ({"bbox": GRID_BOX, "zoom": "12", "status": "maybe"}, "status must be one of"),
    ({"bbox": GRID_BOX, "zoom": "12", "since": "last week"}, "YYYY-MM-DD"),
    ({"bbox": GRID_BOX, "zoom": "12", "until": "2026-02-30"}, "YYYY-MM-DD"),
    ({"bbox": GRID_BOX, "zoom": "12", "since": "2026-05-02",
      "until": "2026-05-01"}, "is after until"),
    ({"bbox": GRID_BOX, "zoom": "12", "category": "Pot Hole!"},
     "category must be a category code"),
])
def test_malformed_viewport_or_filter_is_422_with_a_message(client, query,
                                                            message):
    response = client.get("/api/v1/map/complaints", query_string=query)

    error = response.get_json()["error"]
    assert response.status_code == 422
    assert message in error["message"]


def test_huge_box_at_street_zoom_gets_cells_not_points(client, db):
    add_complaints(db, 100)

    body = features(client, bbox="72.0,18.0,74.0,20.0", zoom=18)

    assert body["kind"] == "cells"
    assert body["n_complaints"] == 100


def test_huge_box_at_high_zoom_still_has_few_cells():
    viewport = Viewport(bbox=(-180.0, -90.0, 180.0, 90.0), zoom=15)

    cell = cell_size_deg(viewport)

    assert (360 / cell + 2) * (180 / cell + 2) <= MAX_CELLS


def test_empty_filters_mean_everything():
    filters = parse_filters({"category": "", "status": "", "ward": "",
                             "since": "", "until": ""})

    assert filters.for_query() == {"statuses": None, "category_slug": None,
                                   "ward_code": None, "since": None,
                                   "until": None}


def test_until_includes_the_whole_day():
    filters = parse_filters({"until": "2026-03-01"})

    assert filters.for_query()["until"] == datetime(2026, 3, 2, tzinfo=UTC)


class _FormControls(HTMLParser):
    """Collects the ids of form controls and the targets of labels."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.controls.append(attrs.get("id") or f"<{tag} without id>")
        if tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])


def test_map_page_has_a_labelled_filter_form_and_map(client, db):
    response = client.get("/map")

    html = response.get_data(as_text=True)
    parser = _FormControls()
    parser.feed(html)
    assert response.status_code == 200
    assert {"f-category", "f-status", "f-ward", "f-since", "f-until",
            "heat-toggle"} <= set(parser.controls)
    assert set(parser.controls) <= parser.labelled
    assert ">Pothole</option>" in html and ">Ward D</option>" in html
    assert 'id="public-map"' in html
    for script in ("leaflet.js", "leaflet.markercluster.js", "leaflet-heat.js",
                   "js/public_map.js"):
        assert script in html


def test_map_page_opens_on_recent_complaints_and_the_ward_extent(client, db):
    html = client.get("/map").get_data(as_text=True)

    since = re.search(r'name="since" value="([^"]*)"', html).group(1)
    assert date.fromisoformat(since) < datetime.now(UTC).date()
    config = json.loads(re.search(
        r'id="public-map-config">(.*?)</script>', html, re.S).group(1))
    assert config["bounds"] == [[pytest.approx(19.0), pytest.approx(72.8)],
                                [pytest.approx(19.02), pytest.approx(72.82)]]
    assert config["center"] == [pytest.approx(19.01), pytest.approx(72.81)]
    assert config["dataUrl"] == "/api/v1/map/complaints"


def test_map_page_keeps_chosen_filters(client, db):
    html = client.get("/map", query_string={
        "category": "other", "status": "open", "ward": "B", "since": "",
        "until": "2026-01-31"}).get_data(as_text=True)

    assert '<option value="other" selected>' in html
    assert '<option value="open" selected>' in html
    assert '<option value="B" selected>' in html
    assert 'name="since" value=""' in html
    assert 'name="until" value="2026-01-31"' in html


def test_map_page_with_a_bad_filter_says_what_is_wrong(client, db):
    response = client.get("/map", query_string={"since": "soon"})

    assert response.status_code == 422
    assert "since must be a date" in response.get_data(as_text=True)
