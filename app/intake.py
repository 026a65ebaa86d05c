"""Filing complaints: the one path behind the web form, Open311 and operators.

Each submission is validated, routed (``geo.routing.route``), and stored with
its first timeline event, its photos and its idempotency key in one
transaction. A replayed idempotency key returns the complaint it made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from app.errors import NotFoundError, ValidationError
from app.models import Channel, EventKind
from app.photos import MAX_PHOTOS, PhotoStore, ProcessedPhoto, process_photo
from app.tracking import new_tracking_id, normalise_tracking_id
from geo import queries
from geo.routing import Route, check_lonlat, route

logger = logging.getLogger(__name__)

MAX_LENGTHS = {"description": 4000, "address": 500, "name": 200, "email": 254,
               "phone": 32, "idempotency_key": 200}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,32}$")
DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(days=30)


@dataclass
class Contact:
    """How to reach a reporter or supporter; never shown or logged."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def cleaned(self) -> Contact:
        name, email, phone = (_clean(v) for v in (self.name, self.email,
                                                   self.phone))
        for label, value in (("name", name), ("email", email), ("phone", phone)):
            _check_length(label, value)
        if email and not EMAIL.match(email):
            raise ValidationError("email does not look like an e-mail address")
        if phone and not PHONE.match(phone):
            raise ValidationError("phone may hold only digits, spaces, +, - "
                                  "and brackets (6 to 32 characters)")
        return Contact(name, email, phone)


@dataclass
class Submission:
    """One complaint as a citizen, app or operator sent it."""

    category_slug: str
    description: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    ward_code: str | None = None
    photos: list[bytes] = field(default_factory=list)
    contact: Contact = field(default_factory=Contact)
    channel: str = Channel.WEB
    attributes: dict = field(default_factory=dict)
    locale: str | None = None
    idempotency_key: str | None = None
    api_key_id: int | None = None


@dataclass
class Filed:
    """What the reporter is told after filing."""

    complaint_id: int
    tracking_id: str
    route: Route
    replayed: bool = False


def _clean(value) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _check_length(label: str, value: str | None) -> None:
    limit = MAX_LENGTHS[label]
    if value is not None and len(value) > limit:
        raise ValidationError(f"{label} is {len(value):,} characters long; "
                              f"the limit is {limit:,}")


def validate(sub: Submission) -> Submission:
    """Return a cleaned copy of ``sub``, or raise ValidationError naming the
    field at fault. Text is kept as typed (markup included): it is escaped
    wherever it is shown."""
    description = _clean(sub.description)
    if not description:
        raise ValidationError("description is empty: say what the problem is")
    _check_length("description", description)
    address = _clean(sub.address)
    _check_length("address", address)
    key = _clean(sub.idempotency_key)
    _check_length("idempotency_key", key)
    if len(sub.photos) > MAX_PHOTOS:
        raise ValidationError(f"at most {MAX_PHOTOS} photos, got {len(sub.photos)}")
    if sub.lon is None and sub.lat is None:
        if not (address and _clean(sub.ward_code)):
            raise ValidationError("give the location: a point on the map, or an "
                                  "address or landmark together with the ward")
        lon = lat = None
    else:
        try:
            lon, lat = check_lonlat(sub.lon, sub.lat)
        except ValueError as err:
            raise ValidationError(str(err)) from None
    return Submission(
        category_slug=_clean(sub.category_slug) or "", description=description,
        lon=lon, lat=lat, address=address, ward_code=_clean(sub.ward_code),
        photos=sub.photos, contact=sub.contact.cleaned(), channel=sub.channel,
        attributes=sub.attributes, locale=sub.locale, idempotency_key=key,
        api_key_id=sub.api_key_id)


def file_complaint(conn: Connection, submission: Submission,
                   store: PhotoStore) -> Filed:
    """Validate, route and store a complaint with its first event.

    Runs inside the caller's transaction; photo files written here are removed
    again if the transaction cannot record them.

    Raises
    ------
    ValidationError
        A missing, malformed or over-long field, or a bad photo.
    geo.errors.WardNotFoundError
        The point is outside the service area.
    geo.errors.UnknownCategoryError
        The category does not exist.
    """
    sub = validate(submission)
    if sub.idempotency_key:
        earlier = _replayed(conn, sub.idempotency_key)
        if earlier is not None:
            return earlier
    photos = [process_photo(raw, f"photo {i}")
              for i, raw in enumerate(sub.photos, start=1)]
    location_pending = sub.lon is None
    lon, lat = (sub.lon, sub.lat) if not location_pending else \
        _stand_in(conn, sub.ward_code)
    now = datetime.now(UTC)
    where = route(conn, lon, lat, sub.category_slug, now)

    keys = [store.save(p) for p in photos]
    try:
        complaint_id, tracking_id = _insert(conn, sub, where, lon, lat, now,
                                            location_pending)
        _insert_photos(conn, complaint_id, photos, keys)
        if sub.idempotency_key:
            _remember_key(conn, sub.idempotency_key, complaint_id, "file")
    except Exception:
        for key in keys:
            store.delete(key)
        raise
    logger.info("complaint %s filed via %s in ward %s", tracking_id,
                sub.channel, where.ward_code)
    return Filed(complaint_id, tracking_id, where)


def _stand_in(conn: Connection, ward_code: str) -> tuple[float, float]:
    try:
        return queries.ward_stand_in_point(conn, ward_code)
    except LookupError:
        raise ValidationError(f"unknown ward {ward_code!r}") from None


def _insert(conn, sub: Submission, where: Route, lon, lat, now,
            location_pending) -> tuple[int, str]:
    tracking_id = new_tracking_id()
    complaint_id = conn.execute(text(
        "INSERT INTO complaint (tracking_id, category_id, description, address,"
        " geom, ward_id, department_id, status, channel, reporter_name,"
        " reporter_email, reporter_phone, created_at, updated_at, due_at,"
        " n_supporters, location_pending, attributes, reporter_locale,"
        " api_key_id) VALUES (:tracking_id, :category_id, :description,"
        " :address, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :ward_id,"
        " :department_id, 'submitted', :channel, :name, :email, :phone, :now,"
        " :now, :due_at, 0, :pending, CAST(:attributes AS jsonb), :locale,"
        " :api_key_id) RETURNING complaint_id"
    ), {
        "tracking_id": tracking_id, "category_id": where.category_id,
        "description": sub.description, "address": sub.address, "lon": lon,
        "lat": lat, "ward_id": where.ward_id,
        "department_id": where.department_id, "channel": str(sub.channel),
        "name": sub.contact.name, "email": sub.contact.email,
        "phone": sub.contact.phone, "now": now, "due_at": where.due_at,
        "pending": location_pending, "attributes": json.dumps(sub.attributes or {}),
        "locale": sub.locale, "api_key_id": sub.api_key_id,
    }).scalar_one()
    add_event(conn, complaint_id, EventKind.CREATED, status="submitted",
              body=None, at=now)
    return complaint_id, tracking_id


def _insert_photos(conn, complaint_id: int, photos: list[ProcessedPhoto],
                   keys: list[str]) -> None:
    for position, (photo, key) in enumerate(zip(photos, keys), start=1):
        conn.execute(text(
            "INSERT INTO photo (complaint_id, position, storage_key, content_type,"
            " width, height, n_bytes) VALUES (:c, :p, :k, :t, :w, :h, :n)"
        ), {"c": complaint_id, "p": position, "k": key, "t": photo.content_type,
            "w": photo.width, "h": photo.height, "n": len(photo.data)})


def add_event(conn: Connection, complaint_id: int, kind: str, *,
              status: str | None = None, body: str | None = None,
              is_public: bool = True, at: datetime | None = None) -> None:
    """Append one event to a complaint's history."""
    conn.execute(text(
        "INSERT INTO complaint_event (complaint_id, kind, status, body,"
        " is_public, created_at) VALUES (:c, :kind, :status, :body, :public,"
        " :at)"), {"c": complaint_id, "kind": str(kind), "status": status,
                   "body": body, "public": is_public,
                   "at": at or datetime.now(UTC)})


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _replayed(conn: Connection, key: str) -> Filed | None:
    row = conn.execute(text(
        "SELECT c.complaint_id, c.tracking_id FROM idempotency_key k"
        " JOIN complaint c ON c.complaint_id = k.complaint_id"
        " WHERE k.key = :key"), {"key": _key_digest(key)}).first()
    if row is None:
        return None
    return Filed(row.complaint_id, row.tracking_id,
                 complaint_route(conn, row.complaint_id), replayed=True)


def _remember_key(conn: Connection, key: str, complaint_id: int,
                  action: str) -> None:
    conn.execute(text(
        "INSERT INTO idempotency_key (key, complaint_id, action)"
        " VALUES (:key, :c, :action)"),
        {"key": _key_digest(key), "c": complaint_id, "action": action})


def complaint_route(conn: Connection, complaint_id: int) -> Route:
    """Return the stored routing of a complaint (ward, department, due)."""
    row = conn.execute(text(
        "SELECT c.category_id, w.ward_id, w.ward_code, w.ward_name,"
        " d.department_id, d.code AS department_code,"
        " d.name AS department_name, c.due_at FROM complaint c"
        " JOIN ward w ON w.ward_id = c.ward_id"
        " JOIN department d ON d.department_id = c.department_id"
        " WHERE c.complaint_id = :id"), {"id": complaint_id}).mappings().one()
    return Route(**row)


def nearby_duplicates(conn: Connection, lon: float, lat: float,
                      category_slug: str) -> list[dict]:
    """Open complaints of the same category within 50 m from the last 30 days."""
    lon, lat = check_lonlat(lon, lat)
    return queries.nearby_open_complaints(
        conn, lon, lat, category_slug, DUPLICATE_RADIUS_M,
        datetime.now(UTC) - DUPLICATE_WINDOW)


def support_complaint(conn: Connection, tracking_id: str, contact: Contact,
                      locale: str | None = None,
                      idempotency_key: str | None = None) -> str:
    """Add a supporter to an open complaint; return its tracking id.

    Raises
    ------
    NotFoundError
        No complaint has that tracking id.
    ValidationError
        The complaint is closed, or the contact details are malformed.
    """
    contact = contact.cleaned()
    row = conn.execute(text(
        "SELECT complaint_id, tracking_id, status FROM complaint"
        " WHERE tracking_id = :t FOR UPDATE"),
        {"t": normalise_tracking_id(tracking_id)}).first()
    if row is None:
        raise NotFoundError(f"no complaint has tracking id {tracking_id!r}")
    key = _clean(idempotency_key)
    if key:
        _check_length("idempotency_key", key)
        if conn.execute(text("SELECT 1 FROM idempotency_key WHERE key = :k"),
                        {"k": _key_digest(key)}).first():
            return row.tracking_id
    if row.status not in ("submitted", "acknowledged", "in_progress"):
        raise ValidationError(f"complaint {row.tracking_id} is {row.status}; "
                              "only open complaints can be supported")
    conn.execute(text(
        "INSERT INTO supporter (complaint_id, name, email, phone, locale)"
        " VALUES (:c, :name, :email, :phone, :locale)"),
        {"c": row.complaint_id, "name": contact.name, "email": contact.email,
         "phone": contact.phone, "locale": locale})
    conn.execute(text(
        "UPDATE complaint SET n_supporters = n_supporters + 1, updated_at = now()"
        " WHERE complaint_id = :c"), {"c": row.complaint_id})
    add_event(conn, row.complaint_id, EventKind.SUPPORT,
              body="Another resident reported the same problem")
    if key:
        _remember_key(conn, key, row.complaint_id, "support")
    return row.tracking_id


def file_once(engine: Engine, submission: Submission, store: PhotoStore) -> Filed:
    """File in a transaction of its own; a concurrent replay of the same
    idempotency key gets the complaint the other request made."""
    try:
        with engine.begin() as conn:
            return file_complaint(conn, submission, store)
    except IntegrityError as err:
        if not submission.idempotency_key or "idempotency_key" not in str(err):
            raise
    with engine.begin() as conn:
        earlier = _replayed(conn, submission.idempotency_key.strip())
    if earlier is None:
        raise RuntimeError("idempotency key conflict without a stored key")
    return earlier
