"""The citizen's report page, its confirmation, and supporting a complaint
that someone else already filed.

The form works without JavaScript: the map only fills the hidden ``lon`` and
``lat`` inputs, and an address with a ward is the other way to say where.
A one-time token issued with each form is both the CSRF token (it must be one
this session was given) and the idempotency key of the filing.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app import intake, ratelimit
from app.errors import ValidationError
from app.extensions import get_db
from app.labels import STATUS_LABELS
from app.models import Channel
from app.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, PhotoStore
from app.public_complaint import find_complaint
from app.web import bp
from geo import queries
from geo.errors import UnknownCategoryError, WardNotFoundError
from geo.routing import check_lonlat

logger = logging.getLogger(__name__)

SESSION_TOKENS = "report_form_tokens"
#: Forms one browser may have open at once (tabs, the back button).
MAX_OPEN_FORMS = 10
TEXT_FIELDS = ("category", "description", "lon", "lat", "address", "ward_code",
               "name", "email", "phone")
CONTACT_FIELDS = ("name", "email", "phone")
#: Page order of the fields, for the error summary, and the id each links to.
ERROR_TARGETS = {"form": "report-form", "category": "category",
                 "description": "description", "location": "location",
                 "address": "address", "ward_code": "ward_code",
                 "photos": "photos", "name": "name", "email": "email",
                 "phone": "phone"}
MB = 1024 * 1024
_PHOTO_ERROR = re.compile(r"^photo (\d+) ")


@dataclass
class ReportForm:
    """The report form as the citizen filled it in, and what is wrong."""

    values: dict = field(default_factory=dict)
    photos: list[bytes] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[tuple[str, str]]:
        """Return ``(target id, message)`` pairs in page order."""
        return [(target, self.errors[name])
                for name, target in ERROR_TARGETS.items() if name in self.errors]

    def point(self) -> tuple[float | None, float | None]:
        if not (self.values.get("lon") or self.values.get("lat")):
            return None, None
        return check_lonlat(self.values["lon"], self.values["lat"])

    def contact(self) -> intake.Contact:
        return intake.Contact(*(self.values.get(k) or None for k in CONTACT_FIELDS))


@bp.get("/report")
def report():
    """Show an empty report form."""
    return _render_form(ReportForm(), 200)


@bp.post("/report")
def submit_report():
    """File a complaint from the report form, then show where it went.

    Raises 400 when the form token is missing or was not issued to this
    session. Problems with the input re-show the form with a 422.
    """
    try:
        token = _checked_form_token()
    except RequestEntityTooLarge:
        return _render_form(ReportForm(errors={"photos": _too_large_upload()}), 413)
    form = _read_form()
    try:
        _count_submission()
    except ratelimit.RateLimited as err:
        return _rate_limited_form(form, token, err)

    form.photos = _read_photos(form.errors)
    _check_form(form)
    filed = None if form.errors else _file(form, token)

    if filed is None:
        return _render_form(form, 422, token)
    return redirect(url_for("web.filed", tracking_id=filed.tracking_id), 303)


@bp.get("/report/filed/<tracking_id>")
def filed(tracking_id):
    """Confirm a filed complaint: its tracking id and what happens next.

    Raises 404 when no complaint has that tracking id.
    """
    with get_db().engine.connect() as conn:
        complaint = find_complaint(conn, tracking_id).complaint
    due = format_datetime(complaint["due_at"], "d MMMM y, HH:mm z")
    return render_template("filed.html", complaint=complaint, due=due,
                           track_url=_track_url(complaint["tracking_id"]))


@bp.post("/c/<tracking_id>/support")
def support(tracking_id):
    """Add the reader as a supporter of an open complaint and show it.

    Raises 400 for a bad form token, 404 for an unknown complaint, 422 for a
    closed one and 429 past the submission limit.
    """
    token = _checked_form_token()
    form = _read_form()
    _count_submission()
    form.errors.update(_contact_errors(form.values))
    if form.errors:
        return _render_form(form, 422, token)

    with get_db().engine.begin() as conn:
        tracking_id = intake.support_complaint(
            conn, tracking_id, form.contact(), str(get_locale()),
            idempotency_key=f"web-support:{token}:{tracking_id}")
    return redirect(_track_url(tracking_id), 303)


def _new_form_token() -> str:
    token = secrets.token_urlsafe(24)
    tokens = session.get(SESSION_TOKENS, [])
    session[SESSION_TOKENS] = [*tokens, token][-MAX_OPEN_FORMS:]
    return token


def _checked_form_token() -> str:
    token = request.form.get("form_token", "")
    if not token or token not in session.get(SESSION_TOKENS, []):
        abort(400, description=_("This form has expired or did not come from "
                                 "our report page. Open the page again and "
                                 "send the report from there."))
    return token


def _count_submission() -> None:
    config = current_app.config
    ratelimit.hit(get_db().engine, f"submit:{request.remote_addr}",
                  int(config["SUBMISSION_RATE_LIMIT"]),
                  int(config["SUBMISSION_RATE_WINDOW_S"]))


def _read_form() -> ReportForm:
    """Return the typed fields of the posted form; photos are read later."""
    values = {k: request.form.get(k, "").strip() for k in TEXT_FIELDS}
    # Browsers send CRLF line breaks but count them as one character.
    values["description"] = values["description"].replace("\r\n", "\n")
    values["anonymous"] = bool(request.form.get("anonymous"))
    if values["anonymous"]:
        values.update(dict.fromkeys(CONTACT_FIELDS, ""))
    values["n_photos"] = len(_uploads())
    return ReportForm(values)


def _uploads() -> list:
    return [f for f in request.files.getlist("photos") if f.filename]


def _read_photos(errors: dict[str, str]) -> list[bytes]:
    uploads = _uploads()
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = _("You chose %(n)s photos; send at most %(limit)s.",
                             n=len(uploads), limit=MAX_PHOTOS)
        return []
    photos = []
    for number, upload in enumerate(uploads, start=1):
        data = upload.stream.read(MAX_PHOTO_BYTES + 1)
        if len(data) > MAX_PHOTO_BYTES:
            errors["photos"] = _("Photo %(n)s is larger than %(limit)s MB.",
                                 n=number, limit=MAX_PHOTO_BYTES // MB)
            return []
        photos.append(data)
    return photos


def _check_form(form: ReportForm) -> None:
    values, errors = form.values, form.errors
    if not values["category"]:
        errors["category"] = _("Choose what kind of problem it is.")
    if not values["description"]:
        errors["description"] = _("Describe the problem.")
    elif len(values["description"]) > intake.MAX_LENGTHS["description"]:
        errors["description"] = _too_long(values["description"], "description")
    errors.update(_location_errors(values))
    errors.update(_contact_errors(values))


def _location_errors(values: dict) -> dict[str, str]:
    errors = {}
    if len(values["address"]) > intake.MAX_LENGTHS["address"]:
        errors["address"] = _too_long(values["address"], "address")
    if values["lon"] or values["lat"]:
        try:
            check_lonlat(values["lon"], values["lat"])
        except ValueError:
            errors["location"] = _("The map position could not be read. Place "
                                   "the pin again.")
    elif not (values["address"] and values["ward_code"]):
        errors["location"] = _("Place the pin on the map, or describe the place "
                               "and choose its ward.")
    return errors


def _contact_errors(values: dict) -> dict[str, str]:
    errors = {}
    for key in CONTACT_FIELDS:
        if len(values[key]) > intake.MAX_LENGTHS[key]:
            errors[key] = _too_long(values[key], key)
    if values["email"] and not intake.EMAIL.match(values["email"]):
        errors["email"] = _("Enter an e-mail address such as name@example.com, "
                            "or leave it empty.")
    if values["phone"] and not intake.PHONE.match(values["phone"]):
        errors["phone"] = _("Enter a phone number of 6 to 32 digits (spaces, +, "
                            "- and brackets are fine), or leave it empty.")
    return errors


def _too_long(value: str, key: str) -> str:
    return _("This is %(n)s characters long; the limit is %(limit)s.",
             n=f"{len(value):,}", limit=f"{intake.MAX_LENGTHS[key]:,}")


def _too_large_upload() -> str:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // MB
    return _("The report with its photos is larger than %(limit)s MB. Choose "
             "smaller photos and fill in the form again.", limit=limit)


def _file(form: ReportForm, token: str) -> intake.Filed | None:
    lon, lat = form.point()
    values = form.values
    submission = intake.Submission(
        category_slug=values["category"], description=values["description"],
        lon=lon, lat=lat, address=values["address"] or None,
        ward_code=values["ward_code"] if lon is None else None,
        photos=form.photos, contact=form.contact(), channel=Channel.WEB,
        locale=str(get_locale()), idempotency_key=f"web:{token}")
    store = PhotoStore(current_app.config["MEDIA_DIR"])
    try:
        return intake.file_once(get_db().engine, submission, store)
    except WardNotFoundError as err:
        form.errors["location"] = _outside_message(err)
    except UnknownCategoryError:
        form.errors["category"] = _("Choose a category from the list.")
    except ValidationError as err:
        key, message = _intake_error(str(err))
        form.errors[key] = message
    return None


def _outside_message(err: WardNotFoundError) -> str:
    if err.nearest_code is None:
        return _("This place is outside the service area.")
    return _("This place is outside the service area: the nearest ward, "
             "%(ward)s, is %(distance)s m away. Move the pin inside a ward.",
             ward=err.nearest_code, distance=f"{err.distance_m:,.0f}")


def _intake_error(message: str) -> tuple[str, str]:
    """Return the field and the words for an error the filing path raised."""
    photo = _PHOTO_ERROR.match(message)
    if photo:
        return "photos", _("Photo %(n)s is not a JPEG, PNG or WebP picture we "
                           "can open. Choose another file.", n=int(photo[1]))
    if message.startswith("unknown ward"):
        return "ward_code", _("Choose a ward from the list.")
    logger.info("report form refused by the filing path")
    return "form", _("The report could not be filed: %(reason)s", reason=message)


def _rate_limited_form(form: ReportForm, token: str, err: ratelimit.RateLimited):
    minutes = max(1, -(-err.retry_after_s // 60))
    form.errors["form"] = _("You have sent many reports in a short time. Please "
                            "try again in %(n)s minutes.", n=minutes)
    response = _render_form(form, 429, token)
    response.headers["Retry-After"] = str(err.retry_after_s)
    return response


def _render_form(form: ReportForm, status: int, token: str | None = None):
    with get_db().engine.connect() as conn:
        categories = queries.active_categories(conn)
        wards = queries.current_ward_names(conn)
    page = render_template(
        "report.html", form=form, token=token or _new_form_token(),
        category_groups=_grouped(categories), wards=wards,
        page_data=_page_data())
    response = make_response(page, status)
    # The page holds a one-time token and perhaps the reader's own details.
    response.headers["Cache-Control"] = "no-store"
    return response


def _grouped(categories: list[dict]) -> list[tuple[str, list[dict]]]:
    """Group categories under their group names, keeping the form order."""
    groups: dict[str, list[dict]] = {}
    for category in categories:
        groups.setdefault(category["group_name"], []).append(category)
    return list(groups.items())


def _page_data() -> dict:
    """Settings and translated words for report.js."""
    config = current_app.config
    return {
        "tiles": {"url": config["TILE_URL"],
                  "attribution": config["TILE_ATTRIBUTION"]},
        "center": [config["MAP_CENTER_LON"], config["MAP_CENTER_LAT"]],
        "zoom": config["MAP_ZOOM"],
        "urls": {"wards": url_for("api.wards_geojson"),
                 "preview": url_for("api.preview"),
                 "support": url_for("web.support", tracking_id="TRACKING_ID")},
        "locale": str(get_locale()),
        "maxPhotos": MAX_PHOTOS,
        "maxPhotoBytes": MAX_PHOTO_BYTES,
        "maxPhotoMb": MAX_PHOTO_BYTES // MB,
        "strings": _js_strings(),
    }


def _js_strings() -> dict:
    return {
        "routeTo": _("This will go to %(department)s, ward %(ward)s, due "
                     "%(due)s."),
        "inWard": _("The pin is in ward %(ward)s."),
        "chooseCategory": _("Choose a category to see which department it "
                            "goes to."),
        "nearBoundary": _("The pin is within 25 m of a ward boundary. Check "
                          "that it is on the right side."),
        "outside": _("This place is outside the service area. Move the pin "
                     "inside one of the wards outlined on the map."),
        "unknownCategory": _("Choose a category from the list."),
        "checking": _("Checking this place…"),
        "previewFailed": _("We could not check this place just now. You can "
                           "still send the report."),
        "locating": _("Finding your location…"),
        "locationFailed": _("Your location could not be found. Place the pin "
                            "on the map instead."),
        "pinTitle": _("Problem location: drag to move"),
        "tooManyPhotos": _("You chose %(n)s photos; send at most %(limit)s."),
        "photoTooLarge": _("Photo %(n)s is larger than %(limit)s MB."),
        "reportedOn": _("reported %(date)s"),
        "supporters": _("supporters: %(n)s"),
        "distance": _("%(distance)s m away"),
        "supportThis": _("Support this instead"),
        "statuses": {status.value: str(label)
                     for status, label in STATUS_LABELS.items()},
    }


def _track_url(tracking_id: str) -> str:
    return url_for("web.track", tracking_id=tracking_id)
