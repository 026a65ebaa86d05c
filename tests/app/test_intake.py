"""The filing path shared by every channel: validation, photos, replays, support."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import text

from app import apikeys, intake, ratelimit
from app.errors import NotFoundError, ValidationError
from app.photos import MAX_PHOTO_BYTES, PhotoStore, process_photo
from geo.errors import UnknownCategoryError, WardNotFoundError
from tests.app.helpers import commit_grid_and_routing

INSIDE_A = (72.805, 19.005)


def jpeg(size=(2400, 1800), gps: tuple[float, float] | None = None,
         fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """An image with camera tags and, optionally, a GPS position."""
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else None)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0131] = "owner-identifying software"
    if gps:
        lon, lat = gps
        exif[0x8825] = {1: "N", 2: _dms(lat), 3: "E", 4: _dms(lon)}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


def _dms(value: float):
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def submission(**overrides) -> intake.Submission:
    fields = {"category_slug": "pothole", "description": "Deep pothole by the gate",
              "lon": INSIDE_A[0], "lat": INSIDE_A[1]}
    return intake.Submission(**{**fields, **overrides})


@pytest.fixture
def store(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path / "media")


@pytest.fixture
def grid(clean_db):
    return commit_grid_and_routing(clean_db)


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_photo_is_resized_and_loses_all_metadata():
    photo = process_photo(jpeg(gps=(72.8777, 19.076)))

    cleaned = Image.open(io.BytesIO(photo.data))
    assert cleaned.format == "JPEG"
    assert max(cleaned.size) == 1600
    assert dict(cleaned.getexif()) == {}
    assert b"TestCam" not in photo.data


def test_photo_gps_position_is_read_before_stripping():
    photo = process_photo(jpeg(gps=(72.8777, 19.076)))

    assert photo.gps == pytest.approx((72.8777, 19.076), abs=1e-4)


def test_png_with_transparency_becomes_jpeg():
    photo = process_photo(jpeg(size=(50, 40), fmt="PNG", mode="RGBA"))

    assert Image.open(io.BytesIO(photo.data)).format == "JPEG"
    assert (photo.width, photo.height) == (50, 40)


@pytest.mark.parametrize(("raw", "message"), [
    (b"<html>not a photo</html>", "not a readable JPEG, PNG or WebP"),
    (b"GIF89a" + b"\0" * 40, "not a readable JPEG, PNG or WebP"),
])
def test_fake_photo_is_refused(raw, message):
    with pytest.raises(ValidationError, match=message):
        process_photo(raw, "photo 2")


def test_gif_is_refused_by_content():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")

    with pytest.raises(ValidationError, match="photo 1 is GIF image"):
        process_photo(out.getvalue(), "photo 1")


def test_oversized_photo_is_refused_before_decoding():
    with pytest.raises(ValidationError, match="limit is 10 MB"):
        process_photo(b"\xff\xd8" + b"\0" * MAX_PHOTO_BYTES, "photo 1")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"description": "   "}, "description is empty"),
    ({"description": "x" * 4001}, "description is 4,001 characters"),
    ({"lon": None, "lat": None}, "give the location"),
    ({"lon": 200.0}, "lon must be between"),
    ({"contact": intake.Contact(email="not-an-address")}, "e-mail address"),
    ({"contact": intake.Contact(phone="call me")}, "phone may hold only"),
    ({"contact": intake.Contact(name="n" * 201)}, "name is 201 characters"),
    ({"photos": [b"1", b"2", b"3", b"4"]}, "at most 3 photos"),
])
def test_bad_submission_is_refused_and_nothing_stored(grid, clean_db, store,
                                                      overrides, message):
    with pytest.raises(ValidationError, match=message):
        intake.file_once(clean_db, submission(**overrides), store)

    assert count(clean_db, "complaint") == 0


def test_outside_service_area_and_unknown_category_store_nothing(grid, clean_db,
                                                                 store):
    with pytest.raises(WardNotFoundError, match="outside the service area"):
        intake.file_once(clean_db, submission(lon=73.5), store)
    with pytest.raises(UnknownCategoryError):
        intake.file_once(clean_db, submission(category_slug="volcano"), store)

    assert count(clean_db, "complaint") == 0


def test_filing_stores_complaint_event_and_photo_together(grid, clean_db, store):
    filed = intake.file_once(clean_db, submission(
        photos=[jpeg()], contact=intake.Contact(name="Asha", phone="+91 98200 1")),
        store)

    with clean_db.connect() as conn:
        row = conn.execute(text(
            "SELECT c.status, c.channel, c.reporter_name, w.ward_code,"
            " (SELECT count(*) FROM complaint_event e"
            "  WHERE e.complaint_id = c.complaint_id AND e.kind = 'created') AS n_ev,"
            " (SELECT storage_key FROM photo p WHERE p.complaint_id = c.complaint_id)"
            " AS photo FROM complaint c JOIN ward w USING (ward_id)"
            " WHERE c.tracking_id = :t"), {"t": filed.tracking_id}).one()
    assert (row.status, row.channel, row.reporter_name) == ("submitted", "web",
                                                            "Asha")
    assert (row.ward_code, row.n_ev) == ("A", 1)
    assert store.path(row.photo).is_file()
    assert filed.route.department_code == "ROADS"


def test_failed_filing_leaves_no_photo_file(grid, clean_db, store):
    with pytest.raises(ValidationError):
        intake.file_once(clean_db, submission(photos=[jpeg(), b"junk"]), store)

    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert files == []


def test_replayed_idempotency_key_returns_the_first_complaint(grid, clean_db,
                                                             store):
    first = intake.file_once(clean_db, submission(idempotency_key="k-1"), store)
    again = intake.file_once(clean_db, submission(idempotency_key="k-1"), store)

    assert again.tracking_id == first.tracking_id
    assert again.replayed and not first.replayed
    assert count(clean_db, "complaint") == 1


def test_markup_is_stored_as_typed(grid, clean_db, store):
    typed = "<script>alert('x')</script> & more"
    filed = intake.file_once(clean_db, submission(description=typed), store)

    with clean_db.connect() as conn:
        stored = conn.execute(text(
            "SELECT description FROM complaint WHERE tracking_id = :t"),
            {"t": filed.tracking_id}).scalar_one()
    assert stored == typed


def test_location_by_address_and_ward_waits_for_an_operator(grid, clean_db, store):
    filed = intake.file_once(clean_db, submission(
        lon=None, lat=None, address="Behind the fish market", ward_code="C"),
        store)

    with clean_db.connect() as conn:
        pending = conn.execute(text(
            "SELECT location_pending FROM complaint WHERE tracking_id = :t"),
            {"t": filed.tracking_id}).scalar_one()
    assert pending and filed.route.ward_code == "C"


def test_unknown_ward_for_address_only_report(grid, clean_db, store):
    with pytest.raises(ValidationError, match="unknown ward 'Q'"):
        intake.file_once(clean_db, submission(
            lon=None, lat=None, address="Near the temple", ward_code="Q"), store)


def test_nearby_duplicates_same_category_open_recent_within_50_m(grid, clean_db,
                                                                 store):
    near = intake.file_once(clean_db, submission(), store)
    intake.file_once(clean_db, submission(lon=INSIDE_A[0] + 0.001), store)  # ~105 m
    intake.file_once(clean_db, submission(category_slug="other"), store)
    old = intake.file_once(clean_db, submission(), store)
    closed = intake.file_once(clean_db, submission(), store)
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE complaint SET created_at = :t"
                          " WHERE tracking_id = :id"),
                     {"t": datetime.now(UTC) - timedelta(days=31),
                      "id": old.tracking_id})
        conn.execute(text("UPDATE complaint SET status = 'resolved'"
                          " WHERE tracking_id = :id"), {"id": closed.tracking_id})

    with clean_db.connect() as conn:
        found = intake.nearby_duplicates(conn, INSIDE_A[0] + 0.0002, INSIDE_A[1],
                                         "pothole")

    assert [d["tracking_id"] for d in found] == [near.tracking_id]
    assert found[0]["distance_m"] == pytest.approx(21, abs=2)


def test_supporting_counts_once_per_key_and_refuses_closed(grid, clean_db, store):
    filed = intake.file_once(clean_db, submission(), store)
    for _ in range(2):
        with clean_db.begin() as conn:
            intake.support_complaint(conn, filed.tracking_id.lower(),
                                     intake.Contact(email="b@example.org"),
                                     idempotency_key="support-1")

    with clean_db.connect() as conn:
        n = conn.execute(text("SELECT n_supporters FROM complaint")).scalar_one()
    assert n == 1
    assert count(clean_db, "supporter") == 1
    with clean_db.begin() as conn:
        conn.execute(text("UPDATE complaint SET status = 'closed'"))
    with pytest.raises(ValidationError, match="only open complaints"), \
            clean_db.begin() as conn:
        intake.support_complaint(conn, filed.tracking_id, intake.Contact())


def test_supporting_unknown_complaint_is_not_found(grid, clean_db):
    with pytest.raises(NotFoundError), clean_db.begin() as conn:
        intake.support_complaint(conn, "AAAA-BBBB-CCCC", intake.Contact())


def test_rate_limit_refuses_past_the_limit_with_retry_time(clean_db):
    for _ in range(3):
        ratelimit.hit(clean_db, "submit:127.0.0.9", limit=3, window_s=600)

    with pytest.raises(ratelimit.RateLimited) as caught:
        ratelimit.hit(clean_db, "submit:127.0.0.9", limit=3, window_s=600)
    assert 0 < caught.value.retry_after_s <= 600
    ratelimit.hit(clean_db, "submit:127.0.0.10", limit=3, window_s=600)


def test_api_keys_are_stored_hashed_and_unique(clean_db):
    with clean_db.begin() as conn:
        key = apikeys.create_api_key(conn, "FixIt app")
        assert apikeys.api_key_id(conn, key) is not None
        assert apikeys.api_key_id(conn, key + "x") is None
        stored = conn.execute(text("SELECT key_hash FROM api_key")).scalar_one()
        with pytest.raises(ValidationError, match="already has a key"):
            apikeys.create_api_key(conn, "FixIt app")
    assert key not in stored
