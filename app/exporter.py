"""Write complaints as CSV or GeoJSON, streaming, without contact details."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import Connection

from app.errors import ValidationError
from app.models import ComplaintStatus
from geo import queries

EXPORT_FIELDS = ("tracking_id", "external_id", "category", "source_category",
                 "status", "channel", "created_at", "due_at", "resolved_at",
                 "ward_code", "department", "n_supporters", "description",
                 "lon", "lat")


@dataclass
class ExportFilters:
    ward_code: str | None = None
    category_slug: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        # Checked on creation, so a refused export never creates its output file.
        if self.status and self.status not in set(ComplaintStatus):
            raise ValidationError(
                f"unknown status {self.status!r}; use one of "
                f"{', '.join(ComplaintStatus)}")

    def as_params(self) -> dict:
        params = asdict(self)
        for key in ("since", "until"):
            if params[key] is not None and params[key].tzinfo is None:
                params[key] = params[key].replace(tzinfo=UTC)
        return params


def _cell(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def export(conn: Connection, fmt: str, out: TextIO,
           filters: ExportFilters) -> int:
    """Write matching complaints to ``out`` in ``fmt``; return how many."""
    rows = queries.iter_export_rows(conn, filters.as_params())
    if fmt == "csv":
        return _write_csv(rows, out)
    if fmt == "geojson":
        return _write_geojson(rows, out)
    raise ValidationError(f"unknown export format {fmt!r}; use csv or geojson")


def _write_csv(rows, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    n = 0
    for row in rows:
        writer.writerow([_cell(row[f]) for f in EXPORT_FIELDS])
        n += 1
    return n


def _write_geojson(rows, out: TextIO) -> int:
    out.write('{"type": "FeatureCollection", "features": [\n')
    n = 0
    for n, row in enumerate(rows, start=1):
        properties = {f: _cell(row[f]) for f in EXPORT_FIELDS
                      if f not in ("lon", "lat")}
        feature = {"type": "Feature", "properties": properties,
                   "geometry": {"type": "Point",
                                "coordinates": [row["lon"], row["lat"]]}}
        out.write(("," if n > 1 else "") + json.dumps(feature) + "\n")
    out.write("]}\n")
    return n
