"""Reading GeoReport v2 parameters into WardWatch's own terms.

Every function takes the request's values (a ``MultiDict``) so that it can be
tried without a request. An empty parameter counts as a missing one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from werkzeug.datastructures import MultiDict

from app.errors import ValidationError
from app.models import CLOSED_STATUSES, OPEN_STATUSES
from app.tracking import normalise_tracking_id

#: Most service requests one GET returns (and most ids one GET may name).
MAX_REQUESTS = 1000
#: Window searched when a client gives neither start_date nor end_date.
DEFAULT_WINDOW = timedelta(days=90)
#: Longest answer accepted for one attribute.
MAX_ATTRIBUTE_CHARS = 1000

STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# A "+" sent unescaped in a query string arrives as a space.
_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


def optional(values: MultiDict, name: str) -> str | None:
    """Return the stripped parameter ``name``, or None if missing or empty."""
    value = (values.get(name) or "").strip()
    return value or None


def required(values: MultiDict, name: str) -> str:
    """Return the parameter ``name``; raise ValidationError if it is empty."""
    value = optional(values, name)
    if value is None:
        raise ValidationError(f"{name} is required")
    return value


def comma_list(values: MultiDict, name: str) -> list[str] | None:
    """Split a comma-separated parameter; None if it is missing or empty."""
    items = [item.strip() for raw in values.getlist(name) for item in raw.split(",")]
    items = [item for item in items if item]
    return items or None


def w3c_datetime(name: str, value: str) -> datetime:
    """Parse a W3C date-time that carries a time zone.

    Raises
    ------
    ValidationError
        The value is malformed or has no offset; the message names ``name``.
    """
    hint = (f"{name} must be a date-time with a time zone, such as "
            f"2026-01-31T09:30:00+05:30 or 2026-01-31T04:00:00Z; got {value!r}")
    try:
        moment = datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", value))
    except ValueError:
        raise ValidationError(hint) from None
    if moment.tzinfo is None:
        raise ValidationError(hint)
    return moment


@dataclass
class RequestFilters:
    """What a GET of service requests asks for."""

    tracking_ids: list[str] | None = None
    category_slugs: list[str] | None = None
    statuses: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


def request_filters(values: MultiDict,
                    now: datetime | None = None) -> RequestFilters:
    """Read the filters of ``GET requests``.

    With ``service_request_id`` the other filters are ignored, as GeoReport v2
    says. Both dates are included in the search; without either, the last 90
    days are searched.

    Raises
    ------
    ValidationError
        A bad date, status or too many ids.
    """
    ids = comma_list(values, "service_request_id")
    if ids is not None:
        if len(ids) > MAX_REQUESTS:
            raise ValidationError(f"at most {MAX_REQUESTS} service_request_id "
                                  f"values, got {len(ids)}")
        return RequestFilters(tracking_ids=[normalise_tracking_id(i) for i in ids])

    since, until = (_date(values, name) for name in ("start_date", "end_date"))
    if since and until and since > until:
        raise ValidationError("start_date must not be after end_date")
    if since is None and until is None:
        since = (now or datetime.now(UTC)) - DEFAULT_WINDOW
    return RequestFilters(category_slugs=comma_list(values, "service_code"),
                          statuses=_statuses(values), since=since, until=until)


def _date(values: MultiDict, name: str) -> datetime | None:
    value = optional(values, name)
    return None if value is None else w3c_datetime(name, value)


def _statuses(values: MultiDict) -> list[str]:
    groups = comma_list(values, "status") or list(STATUS_GROUPS)
    unknown = [g for g in groups if g not in STATUS_GROUPS]
    if unknown:
        raise ValidationError(f"status must be open or closed (comma-separated), "
                              f"got {', '.join(unknown)}")
    return sorted({str(s) for g in groups for s in STATUS_GROUPS[g]})


def location(values: MultiDict) -> tuple[float | None, float | None]:
    """Return ``(lon, lat)`` from ``long`` and ``lat``, or ``(None, None)``.

    Raises
    ------
    ValidationError
        Only one of the two is given, or one is not a number in range.
    """
    lat, lon = optional(values, "lat"), optional(values, "long")
    if lat is None and lon is None:
        return None, None
    if lat is None or lon is None:
        raise ValidationError("send lat and long together")
    return _degrees("long", lon, 180.0), _degrees("lat", lat, 90.0)


def _degrees(name: str, value: str, limit: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise ValidationError(f"{name} must be between -{limit:g} and {limit:g}, "
                              f"got {value!r}")
    return number


def full_name(values: MultiDict) -> str | None:
    """Join first_name and last_name; None when both are empty."""
    parts = [optional(values, n) for n in ("first_name", "last_name")]
    return " ".join(p for p in parts if p) or None


def attribute_answers(values: MultiDict) -> dict[str, list[str]]:
    """Collect ``attribute[CODE]`` and ``attribute[CODE][]`` answers by code."""
    answers: dict[str, list[str]] = {}
    for key in values:
        match = _ATTRIBUTE_KEY.match(key)
        if match:
            given = [v.strip() for v in values.getlist(key) if v.strip()]
            if given:
                answers.setdefault(match.group(1), []).extend(given)
    return answers


def check_attributes(specs: list[dict], answers: dict[str, list[str]],
                     service_code: str) -> dict:
    """Return the answers to store, checked against a service's questions.

    Numbers become floats, list answers stay lists, other answers are text.

    Raises
    ------
    ValidationError
        A required attribute is missing, a code is unknown, or an answer does
        not fit its datatype.
    """
    known = {spec["code"]: spec for spec in specs}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ValidationError(f"service {service_code} has no attribute "
                              f"{', '.join(unknown)}")
    missing = [code for code, spec in known.items()
               if spec.get("required") and code not in answers]
    if missing:
        raise ValidationError(f"service {service_code} requires attribute "
                              f"{', '.join(missing)}")
    return {code: _answer(known[code], given) for code, given in answers.items()}


def _answer(spec: dict, given: list[str]):
    code, datatype = spec["code"], spec.get("datatype") or "string"
    too_long = [v for v in given if len(v) > MAX_ATTRIBUTE_CHARS]
    if too_long:
        raise ValidationError(f"attribute {code} is longer than "
                              f"{MAX_ATTRIBUTE_CHARS} characters")
    if datatype == "multivaluelist":
        return [_list_key(spec, v) for v in given]
    if len(given) > 1:
        raise ValidationError(f"attribute {code} takes one value, got {len(given)}")
    value = given[0]
    if datatype == "number":
        return _number(code, value)
    if datatype == "datetime":
        return w3c_datetime(f"attribute {code}", value).isoformat()
    if datatype == "singlevaluelist":
        return _list_key(spec, value)
    return value


def _number(code: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValidationError(f"attribute {code} must be a number, got {value!r}")
    return number


def _list_key(spec: dict, value: str) -> str:
    keys = [str(v["key"]) if isinstance(v, dict) else str(v)
            for v in spec.get("values", [])]
    if value not in keys:
        raise ValidationError(f"attribute {spec['code']} must be one of "
                              f"{', '.join(keys)}; got {value!r}")
    return value
