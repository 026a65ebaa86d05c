"""The citizen report page: form, filing, confirmation, support and preview."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import create_app, intake
from app.config import TestingConfig
from app.photos import PhotoStore
from tests.app.helpers import commit_grid_and_routing

INSIDE_D = (72.815, 19.015)
#: Metres per degree of latitude, near enough for placing test points.
M_PER_DEG = 111_320.0
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _settings(database_url: str, media_dir: Path, **overrides) -> dict:
    settings = {k: getattr(TestingConfig, k) for k in dir(TestingConfig)
                if k.isupper()}
    return {**settings, "DATABASE_URL": database_url,
            "MEDIA_DIR": str(media_dir), **overrides}


@pytest.fixture
def media_dir(tmp_path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def app(database_url, media_dir):
    app = create_app(_settings(database_url, media_dir))
    yield app
    app.extensions["wardwatch_db"].engine.dispose()


@pytest.fixture
def grid(clean_db):
    return commit_grid_and_routing(clean_db)


def form_token(client) -> str:
    return TOKEN.search(client.get("/report").get_data(as_text=True))[1]


def post_report(client, token: str | None = "new", photos=(), **fields):
    """POST the report form with a valid report unless ``fields`` say
    otherwise; ``photos`` holds ``(bytes, filename)`` pairs."""
    data = {"category": "pothole", "description": "Deep pothole by the gate",
            "lon": str(INSIDE_D[0]), "lat": str(INSIDE_D[1]), **fields}
    if token == "new":
        token = form_token(client)
    if token is not None:
        data["form_token"] = token
    data["photos"] = [FileStorage(io.BytesIO(raw), filename=name,
                                  content_type="image/jpeg")
                      for raw, name in photos]
    # Built in memory: the test client would spool a large body to a
    # temporary file that it never closes.
    boundary, body = encode_multipart(data)
    return client.post("/report", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def stored(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT c.*, w.ward_code, d.code AS department_code FROM complaint c"
            " JOIN ward w ON w.ward_id = c.ward_id"
            " JOIN department d ON d.department_id = c.department_id")
        ).mappings().one())


def tracking_id_of(response) -> str:
    return response.headers["Location"].rsplit("/", 1)[-1]


def jpeg(size=(2400, 1800), gps: tuple[float, float] | None = None) -> bytes:
    """A JPEG with camera tags and, optionally, a GPS position (lon, lat)."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 7"  # Model
    if gps:
        exif[0x8825] = {1: "N", 2: _dms(gps[1]), 3: "E", 4: _dms(gps[0])}
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    minutes, seconds = divmod(value % 1 * 3600, 60)
    return (float(int(value)), float(minutes), round(seconds, 4))


class _Form(HTMLParser):
    """Collects the form controls, labels, optgroups and fieldsets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.groups: dict[str, list[str]] = {}
        self.n_fieldsets = self.n_legends = 0
        self._group: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **attrs})
        elif tag == "label" and "for" in attrs:
            self.label_for.add(attrs["for"])
        elif tag == "optgroup":
            self._group = attrs["label"]
            self.groups[self._group] = []
        elif tag == "option" and self._group is not None:
            self.groups[self._group].append(attrs["value"])
        elif tag == "fieldset":
            self.n_fieldsets += 1
        elif tag == "legend":
            self.n_legends += 1

    def handle_endtag(self, tag):
        if tag == "optgroup":
            self._group = None


def parse_form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


# ---- The form ---------------------------------------------------------------

def test_form_groups_categories_and_labels_every_field(client, grid):
    response = client.get("/report")

    page = parse_form(response.get_data(as_text=True))
    assert response.status_code == 200
    assert page.groups == {"roads": ["pothole"], "other": ["other"]}
    visible = [c for c in page.controls if c.get("type") != "hidden"]
    assert {c["id"] for c in visible} >= {"category", "description", "address",
                                         "ward_code", "photos", "anonymous",
                                         "name", "email", "phone"}
    assert all(c["id"] in page.label_for for c in visible)
    assert page.n_fieldsets == page.n_legends == 4
    photos = next(c for c in visible if c["id"] == "photos")
    assert photos["accept"] == "image/jpeg,image/png,image/webp"
    assert "multiple" in photos


def test_form_says_contact_details_are_private(client, grid):
    html = client.get("/report").get_data(as_text=True)

    assert "never shown on the website" in html
    assert 'lang="en"' in html


def test_form_page_is_not_cached(client, grid):
    assert client.get("/report").headers["Cache-Control"] == "no-store"


def test_hindi_browser_gets_hindi_page(client, grid):
    response = client.get("/report", headers={"Accept-Language": "hi,en;q=0.5"})

    html = response.get_data(as_text=True)
    assert '<html lang="hi">' in html
    # "Report a problem"
    assert "समस्या की शिकायत करें" in html
    assert "Report a problem" not in html


def test_marathi_switcher_gives_marathi_page(client, grid):
    html = client.get("/report?lang=mr").get_data(as_text=True)

    assert '<html lang="mr">' in html
    assert "समस्या नोंदवा" in html


# ---- Filing -------------------------------------------------------------------

def test_report_is_filed_and_confirmed(client, grid, clean_db):
    response = post_report(client)

    complaint = stored(clean_db)
    assert response.status_code == 303
    assert response.headers["Location"] == \
        f"/report/filed/{complaint['tracking_id']}"
    assert (complaint["ward_code"], complaint["department_code"]) == ("D", "WARD")
    assert complaint["channel"] == "web"
    assert complaint["reporter_locale"] == "en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert complaint["tracking_id"] in page
    assert f'href="/c/{complaint["tracking_id"]}"' in page
    assert "Ward" in page and "Ward D" in page
    assert "What happens next" in page


def test_missing_description_is_422_and_stores_nothing(client, grid, clean_db):
    response = post_report(client, description="   ")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html
    assert "Describe the problem." in html
    assert 'aria-describedby="description-hint description-error"' in html
    assert count(clean_db, "complaint") == 0


def test_refused_form_keeps_what_was_typed(client, grid):
    response = post_report(client, description="", address="Near the temple",
                           name="Asha", phone="98200 12345")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Near the temple"' in html
    assert 'value="Asha"' in html
    assert '<option value="pothole" selected>' in html
    assert f'value="{INSIDE_D[0]}"' in html


def test_point_outside_service_area_is_422(client, grid, clean_db):
    response = post_report(client, lon="72.9", lat="19.015")

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This place is outside the service area" in html
    assert "the nearest ward, B" in html or "the nearest ward, D" in html
    assert count(clean_db, "complaint") == 0


def test_no_location_at_all_is_422(client, grid, clean_db):
    response = post_report(client, lon="", lat="")

    assert response.status_code == 422
    assert "Place the pin on the map, or describe the place" in \
        response.get_data(as_text=True)
    assert count(clean_db, "complaint") == 0


def test_address_and_ward_without_map_is_location_pending(client, grid, clean_db):
    response = post_report(client, lon="", lat="", address="Behind the bus depot",
                           ward_code="B")

    complaint = stored(clean_db)
    assert response.status_code == 303
    assert complaint["location_pending"] is True
    assert complaint["ward_code"] == "B"
    assert complaint["address"] == "Behind the bus depot"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "an operator will find the place" in page


def test_bad_email_is_422(client, grid, clean_db):
    response = post_report(client, email="not-an-address")

    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert count(clean_db, "complaint") == 0


# ---- Photos -------------------------------------------------------------------

def test_fake_photo_is_422(client, grid, clean_db, media_dir):
    response = post_report(client, photos=[(b"just some text", "pothole.jpg")])

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Photo 1 is not a JPEG, PNG or WebP picture" in html
    assert "Deep pothole by the gate" in html
    assert count(clean_db, "complaint") == 0
    assert not any(media_dir.rglob("*.jpg"))


def test_photo_over_10_mb_is_422(client, grid, clean_db):
    big = b"\xff\xd8\xff" + bytes(10 * 1024 * 1024)

    response = post_report(client, photos=[(big, "huge.jpg")])

    assert response.status_code == 422
    assert "Photo 1 is larger than 10 MB." in response.get_data(as_text=True)
    assert count(clean_db, "complaint") == 0


def test_more_than_three_photos_is_422(client, grid, clean_db):
    small = jpeg(size=(40, 30))

    response = post_report(client, photos=[(small, f"p{i}.jpg") for i in range(4)])

    assert response.status_code == 422
    assert "You chose 4 photos; send at most 3." in response.get_data(as_text=True)
    assert count(clean_db, "complaint") == 0


def test_photo_is_stored_resized_without_exif(client, grid, clean_db, media_dir):
    raw = jpeg(gps=INSIDE_D)
    assert Image.open(io.BytesIO(raw)).getexif()  # the test photo has tags

    response = post_report(client, photos=[(raw, "street.jpg")])

    with clean_db.connect() as conn:
        key = conn.execute(text("SELECT storage_key FROM photo")).scalar_one()
    assert response.status_code == 303
    with Image.open(media_dir / key) as image:
        assert not image.getexif()
        assert "exif" not in image.info
        assert max(image.size) <= 1600


# ---- Tokens, replays and limits --------------------------------------------

def test_replayed_form_token_files_one_complaint(client, grid, clean_db):
    token = form_token(client)

    first = post_report(client, token=token)
    second = post_report(client, token=token)

    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(clean_db, "complaint") == 1


@pytest.mark.parametrize("token", [None, "", "made-up-token"])
def test_missing_or_unknown_token_is_400(client, grid, clean_db, token):
    response = post_report(client, token=token)

    assert response.status_code == 400
    assert count(clean_db, "complaint") == 0


def test_token_from_another_session_is_400(app, client, grid, clean_db):
    other_token = form_token(app.test_client())

    response = post_report(client, token=other_token)

    assert response.status_code == 400
    assert count(clean_db, "complaint") == 0


def test_submissions_past_the_limit_get_429(database_url, media_dir, grid,
                                            clean_db):
    app = create_app(_settings(database_url, media_dir, SUBMISSION_RATE_LIMIT=2))
    client = app.test_client()

    statuses = [post_report(client).status_code for _ in range(3)]

    app.extensions["wardwatch_db"].engine.dispose()
    assert statuses == [303, 303, 429]
    assert count(clean_db, "complaint") == 2


def test_request_over_the_size_limit_reshows_form_with_413(database_url,
                                                           media_dir, grid,
                                                           clean_db):
    app = create_app(_settings(database_url, media_dir, MAX_CONTENT_LENGTH=1024))
    client = app.test_client()

    response = post_report(client, photos=[(jpeg(size=(200, 200)), "a.jpg")])

    app.extensions["wardwatch_db"].engine.dispose()
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "The report with its photos is larger than" in html
    assert 'id="photos-error"' in html
    assert count(clean_db, "complaint") == 0


# ---- What is shown ------------------------------------------------------------

def test_markup_is_stored_verbatim_and_shown_escaped(client, grid, clean_db):
    script = "<script>alert(1)</script>"

    response = post_report(client, description=script)

    tracking_id = tracking_id_of(response)
    assert stored(clean_db)["description"] == script
    for url in (response.headers["Location"], f"/c/{tracking_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert script not in html


def test_contact_details_never_appear_on_pages(client, grid, clean_db):
    contact = {"name": "Zorawar Quintal", "email": "zq-private@example.org",
               "phone": "+91 99999 12121"}
    response = post_report(client, **contact)
    tracking_id = tracking_id_of(response)
    support = client.post(f"/c/{tracking_id}/support", data={
        "form_token": form_token(client), "name": "Yamini Supporter",
        "email": "ys-private@example.org"})
    assert support.status_code == 303

    pages = [response.headers["Location"], f"/c/{tracking_id}", "/report", "/",
             f"/api/v1/preview?lon={INSIDE_D[0]}&lat={INSIDE_D[1]}"
             "&category=pothole"]
    bodies = [client.get(url).get_data(as_text=True) for url in pages]
    for secret in [*contact.values(), "Yamini", "ys-private"]:
        assert not any(secret in body for body in bodies), secret


def test_anonymous_report_keeps_no_contact(client, grid, clean_db):
    post_report(client, anonymous="1", name="Asha", email="asha@example.org")

    complaint = stored(clean_db)
    assert complaint["reporter_name"] is None
    assert complaint["reporter_email"] is None


# ---- Supporting an existing complaint ------------------------------------

def test_support_adds_one_supporter_and_opens_tracking_page(client, grid,
                                                            clean_db):
    tracking_id = tracking_id_of(post_report(client))
    token = form_token(client)

    responses = [client.post(f"/c/{tracking_id}/support",
                             data={"form_token": token}) for _ in range(2)]

    assert [r.status_code for r in responses] == [303, 303]
    assert responses[0].headers["Location"] == f"/c/{tracking_id}"
    assert stored(clean_db)["n_supporters"] == 1


def test_support_without_token_is_400(client, grid, clean_db):
    tracking_id = tracking_id_of(post_report(client))

    response = client.post(f"/c/{tracking_id}/support", data={})

    assert response.status_code == 400
    assert stored(clean_db)["n_supporters"] == 0


# ---- JSON helpers: ward outlines and the pin preview -------------------------

def test_wards_geojson_is_small_and_cacheable(client, grid):
    response = client.get("/api/v1/wards.geojson")

    body = response.get_json(force=True)
    assert response.mimetype == "application/geo+json"
    assert [f["properties"]["ward_code"] for f in body["features"]] == \
        ["A", "B", "C", "D"]
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    again = client.get("/api/v1/wards.geojson",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def preview(client, lon: float, lat: float, category: str | None = "pothole"):
    query = f"/api/v1/preview?lon={lon}&lat={lat}"
    return client.get(query + (f"&category={category}" if category else ""))


def test_preview_names_ward_department_and_due_time(client, grid):
    body = preview(client, *INSIDE_D).get_json()

    assert (body["ward_code"], body["department_code"]) == ("D", "WARD")
    assert body["department_name"] == "Ward"
    assert body["due_at"].endswith("+00:00")
    assert body["near_boundary"] is False
    assert body["duplicates"] == []


def test_preview_without_category_gives_the_ward_only(client, grid):
    body = preview(client, 72.805, 19.005, category=None).get_json()

    assert body["ward_code"] == "A"
    assert body["department_name"] is None


def test_preview_flags_a_pin_10_m_from_the_ward_edge(client, grid):
    lat = INSIDE_D[1]
    lon = 72.82 - 10 / (M_PER_DEG * 0.9454)  # cos(19.015°)

    assert preview(client, lon, lat).get_json()["near_boundary"] is True


def test_preview_outside_service_area_is_422(client, grid):
    response = preview(client, 72.9, 19.015)

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "outside_service_area"


def _file_at(engine, store, north_m: float, category: str = "pothole",
             description: str = "A pothole") -> str:
    lon, lat = INSIDE_D
    sub = intake.Submission(category_slug=category, description=description,
                            lon=lon, lat=lat + north_m / M_PER_DEG)
    return intake.file_once(engine, sub, store).tracking_id


def test_preview_lists_only_near_open_recent_same_category(client, grid,
                                                           clean_db, tmp_path):
    store = PhotoStore(tmp_path / "other-media")
    near = _file_at(clean_db, store, 30, description="Near and open")
    _file_at(clean_db, store, 80)
    _file_at(clean_db, store, 10, category="other")
    resolved = _file_at(clean_db, store, 10)
    old = _file_at(clean_db, store, 10)
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE complaint SET status = 'resolved'"
                          " WHERE tracking_id = :t"), {"t": resolved})
        conn.execute(text("UPDATE complaint SET created_at = :at"
                          " WHERE tracking_id = :t"),
                     {"t": old, "at": datetime.now(UTC) - timedelta(days=31)})

    duplicates = preview(client, *INSIDE_D).get_json()["duplicates"]

    assert [d["tracking_id"] for d in duplicates] == [near]
    assert set(duplicates[0]) == {"tracking_id", "description", "status",
                                  "created_at", "n_supporters", "distance_m"}
    assert duplicates[0]["description"] == "Near and open"
    assert 29 < duplicates[0]["distance_m"] < 31
