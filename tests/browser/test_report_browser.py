"""The report page in a real browser: pin, preview, photo, duplicates, no-JS."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import text

from app import intake
from app.photos import PhotoStore

CENTRE_D = (72.815, 19.015)
CENTRE_C = (72.805, 19.015)
SCREENSHOT = Path("/tmp/report.png")


def write_jpeg(path: Path, gps: tuple[float, float] | None = None) -> Path:
    """Write a small JPEG, with a GPS position (lon, lat) if given."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if gps:
        exif[0x8825] = {1: "N", 2: _dms(gps[1]), 3: "E", 4: _dms(gps[0])}
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 90)).save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())
    return path


def _dms(value: float) -> tuple[float, float, float]:
    minutes, seconds = divmod(value % 1 * 3600, 60)
    return (float(int(value)), float(minutes), round(seconds, 4))


def ward_outline(page: Page, code: str) -> Locator:
    """The ward's outline on the map, scrolled into view once the map has
    stopped moving."""
    outline = page.locator(f"path.ward-{code}")
    outline.wait_for(state="attached")
    page.wait_for_function(
        "() => !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')")
    page.locator("#map").scroll_into_view_if_needed()
    return outline


def click_middle_of(page: Page, outline: Locator) -> None:
    box = outline.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def open_report_with_pin_in_d(page: Page) -> None:
    page.goto("/report")
    page.select_option("#category", "pothole")
    click_middle_of(page, ward_outline(page, "D"))


def test_citizen_files_a_report_with_a_photo(page, script_errors, clean_db,
                                             tmp_path):
    photo = write_jpeg(tmp_path / "pothole.jpg")

    open_report_with_pin_in_d(page)
    preview = page.locator("#preview")
    expect(preview).to_contain_text("This will go to Ward, ward D")
    expect(preview).not_to_contain_text("boundary")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.fill("#description", "Deep pothole in the middle of the road")
    page.set_input_files("#photos", str(photo))
    page.click("button.submit")

    page.wait_for_url("**/report/filed/*")
    tracking_id = page.locator("#tracking-id").inner_text().strip()
    expect(page.locator("#department")).to_have_text("Ward")
    page.get_by_role("link", name="Follow your report").click()
    page.wait_for_url(f"**/c/{tracking_id}")
    expect(page.locator(".timeline")).to_contain_text("Complaint filed")
    with clean_db.connect() as conn:
        ward, n_photos = conn.execute(text(
            "SELECT w.ward_code, (SELECT count(*) FROM photo p"
            " WHERE p.complaint_id = c.complaint_id) FROM complaint c"
            " JOIN ward w ON w.ward_id = c.ward_id")).one()
    assert (ward, n_photos) == ("D", 1)
    assert script_errors == []


def test_nearby_complaint_can_be_supported_instead(page, script_errors,
                                                   clean_db, tmp_path):
    first = intake.file_once(clean_db, intake.Submission(
        category_slug="pothole", description="Crater outside the school gate",
        lon=CENTRE_D[0], lat=CENTRE_D[1]), PhotoStore(tmp_path / "media"))

    open_report_with_pin_in_d(page)
    duplicates = page.locator("#duplicates")
    expect(duplicates).to_be_visible()
    expect(duplicates).to_contain_text("Crater outside the school gate")
    duplicates.get_by_role("button", name="Support this instead").click()

    page.wait_for_url(f"**/c/{first.tracking_id}")
    with clean_db.connect() as conn:
        n_supporters = conn.execute(text(
            "SELECT n_supporters FROM complaint WHERE tracking_id = :t"),
            {"t": first.tracking_id}).scalar_one()
    assert n_supporters == 1
    assert script_errors == []


def test_pin_can_be_dragged_to_another_ward(page, script_errors):
    open_report_with_pin_in_d(page)
    expect(page.locator("#preview")).to_contain_text("ward D")
    pin = page.locator(".leaflet-marker-icon").bounding_box()
    target = ward_outline(page, "C").bounding_box()

    page.mouse.move(pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] - 4)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2,
                    target["y"] + target["height"] / 2, steps=10)
    page.mouse.up()

    expect(page.locator("#preview")).to_contain_text("ward C")
    assert script_errors == []


def test_pin_outside_the_wards_says_so(page, script_errors):
    page.goto("/report")
    page.select_option("#category", "pothole")
    grid = ward_outline(page, "D").bounding_box()
    map_box = page.locator("#map").bounding_box()

    # East of the grid, level with the line between wards B and D.
    page.mouse.click(map_box["x"] + map_box["width"] - 10,
                     grid["y"] + grid["height"])

    expect(page.get_by_role("alert").filter(has_text="outside the service area")
           ).to_be_visible()
    assert page.locator("#duplicates").is_hidden()
    assert script_errors == []


def test_reporting_anonymously_clears_contact_fields(page):
    page.goto("/report")
    page.fill("#name", "Asha")
    page.fill("#email", "asha@example.org")

    page.check("#anonymous")

    for field in ("#name", "#email", "#phone"):
        expect(page.locator(field)).to_be_disabled()
        expect(page.locator(field)).to_have_value("")


def test_photo_location_moves_the_pin(page, script_errors, tmp_path):
    photo = write_jpeg(tmp_path / "tagged.jpg", gps=CENTRE_C)
    page.goto("/report")
    ward_outline(page, "C")

    page.set_input_files("#photos", str(photo))
    page.click("#photo-location")

    expect(page.locator("#preview")).to_contain_text("ward C")
    lon = float(page.input_value("#lon"))
    lat = float(page.input_value("#lat"))
    assert lon == pytest.approx(CENTRE_C[0], abs=1e-5)
    assert lat == pytest.approx(CENTRE_C[1], abs=1e-5)
    assert script_errors == []


def test_use_my_location_places_the_pin(page, script_errors):
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"longitude": 72.815, "latitude": 19.005})
    page.goto("/report")
    ward_outline(page, "B")

    page.click("#use-location")

    expect(page.locator("#preview")).to_contain_text("The pin is in ward B")
    assert script_errors == []


def test_keyboard_places_pin_at_map_centre_and_warns_at_boundary(
        page, script_errors):
    page.goto("/report")
    ward_outline(page, "A")

    page.focus("#pin-centre")
    page.keyboard.press("Enter")

    # The grid's middle is the corner all four wards share.
    preview = page.locator("#preview")
    expect(preview).to_contain_text("The pin is in ward A")
    expect(preview).to_contain_text("within 25 m of a ward boundary")
    assert script_errors == []


def test_too_many_photos_are_refused_in_the_browser(page, tmp_path):
    photos = [str(write_jpeg(tmp_path / f"p{i}.jpg")) for i in range(4)]
    page.goto("/report")

    page.set_input_files("#photos", photos)

    expect(page.locator("#photos-status")).to_have_text(
        "You chose 4 photos; send at most 3.")
    assert page.evaluate("document.getElementById('photos').validity.valid") \
        is False


def test_form_works_without_javascript(page_without_js, clean_db):
    page = page_without_js
    page.goto("/report")
    expect(page.locator("#map")).to_be_hidden()

    page.select_option("#category", "other")
    page.fill("#description", "Streetlight out for a week")
    page.fill("#address", "Opposite the fish market")
    page.select_option("#ward_code", "C")
    page.click("button.submit")

    page.wait_for_url("**/report/filed/*")
    with clean_db.connect() as conn:
        pending, ward = conn.execute(text(
            "SELECT c.location_pending, w.ward_code FROM complaint c"
            " JOIN ward w ON w.ward_id = c.ward_id")).one()
    assert (pending, ward) == (True, "C")
