"""Bulk import of complaint history from CSV files.

Rows are checked in pandas, copied into a staging table, then located and
routed in one set-based SQL join. Each row ends up imported, already present
(same external id), or in the rejects file with its line number and reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text
from tqdm import tqdm

from app.bulkload import indexes_suspended, use_bulk_mode
from app.errors import ValidationError
from app.models import ComplaintStatus
from app.routing_config import CATCH_ALL
from app.tracking import new_tracking_ids
from geo import queries
from geo.errors import NoWardSetError

logger = logging.getLogger(__name__)

CHUNK_ROWS = 200_000

#: Settings for the import transaction: sorts and hashes of a million staged
#: rows fit in memory, the ward join may use parallel workers even on small
#: ward sets, and compiling a few one-off statements is not worth it.
BULK_SETTINGS = ("work_mem = '256MB'", "parallel_setup_cost = 0",
                 "parallel_tuple_cost = 0", "min_parallel_table_scan_size = 0",
                 "jit = off")
MAX_DESCRIPTION = 4000

#: Source status labels (lower case) and what they mean here.
STATUS_WORDS = {
    **{s.value: s.value for s in ComplaintStatus},
    "open": "submitted", "new": "submitted", "pending": "submitted",
    "assigned": "acknowledged", "started": "in_progress",
    "in progress": "in_progress", "in-progress": "in_progress",
    "closed": "closed", "completed": "resolved", "fixed": "resolved",
    "in_process": "in_progress", "duplicate": "duplicate",
}

#: Columns copied into staging, and their types for binary COPY. Times go in
#: as whole seconds since 1970 (UTC) and become timestamptz in the table.
STAGED_COLUMNS = {
    "line_no": "int8", "tracking_id": "text", "external_id": "text",
    "category_slug": "text", "source_category": "text", "description": "text",
    "status": "text", "created_s": "int8", "closed_s": "int8",
    "lon": "float8", "lat": "float8",
}

STAGING_DDL = """
CREATE TEMPORARY TABLE staged_complaint (
    line_no bigint, tracking_id text, external_id text, category_slug text,
    source_category text, description text, status text,
    created_s bigint, closed_s bigint, lon float8, lat float8,
    created_at timestamptz GENERATED ALWAYS AS (to_timestamp(created_s)) STORED,
    closed_at timestamptz GENERATED ALWAYS AS (to_timestamp(closed_s)) STORED
) ON COMMIT DROP
"""


@dataclass
class ImportColumns:
    """Which source columns hold what; None for columns the file lacks."""

    lon: str
    lat: str
    category: str
    created: str
    closed: str | None = None
    status: str | None = None
    external_id: str | None = None
    description: str | None = None

    def used(self) -> list[str]:
        return list(dict.fromkeys(c for c in vars(self).values() if c))


@dataclass
class ImportSummary:
    n_read: int = 0
    n_imported: int = 0
    n_already_present: int = 0
    n_rejected: int = 0
    n_other: int = 0
    n_outside: int = 0
    bulk_mode: bool = False
    other_labels: Counter = field(default_factory=Counter)
    reject_reasons: Counter = field(default_factory=Counter)
    rejects_path: Path | None = None

    def lines(self) -> list[str]:
        out = [
            f"rows read:        {self.n_read:,}",
            f"imported:         {self.n_imported:,}",
            f"already present:  {self.n_already_present:,} (same external id)",
            f"rejected:         {self.n_rejected:,}"
            + (f" (written to {self.rejects_path})" if self.n_rejected else ""),
        ]
        if self.bulk_mode:
            out.append("bulk mode: complaint indexes were rebuilt after loading")
        out += [f"  {n:,} {reason}" for reason, n in
                self.reject_reasons.most_common()]
        if self.n_outside and self.n_outside * 2 > self.n_read:
            out.append("most points are outside every ward: are the longitude "
                       "and latitude columns swapped, or the wrong wards loaded?")
        if self.n_other:
            labels = ", ".join(f"{label!r} ({n:,})" for label, n in
                               self.other_labels.most_common(5))
            out.append(f"filed under '{CATCH_ALL}': {self.n_other:,} rows whose "
                       f"category matched none of ours, e.g. {labels}")
        return out


class RejectWriter:
    """Writes rejected rows, with line number and reason, to a CSV file."""

    def __init__(self, path: Path, source_columns: list[str]) -> None:
        self.path = path
        self.count = 0
        self.reasons: Counter = Counter()
        self._file = None
        self._columns = source_columns

    def add(self, rows: pd.DataFrame, reasons: pd.Series) -> None:
        if rows.empty:
            return
        if self._file is None:
            self._file = open(self.path, "w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *self._columns])
        for line, reason, values in zip(rows.index, reasons,
                                        rows[self._columns].itertuples(index=False)):
            self._writer.writerow([line, reason, *values])
        self.count += len(rows)
        # Count by reason without the value; reasons may hold colons of their own.
        self.reasons.update(r.split(": ")[0] for r in reasons)

    def close(self, succeeded: bool) -> None:
        """Close the file; keep it only for a successful import with rejects.

        A failed import stored nothing, so its rejects would mislead; and a
        rejects file left by an earlier run must not outlive a clean one.
        """
        if self._file is not None:
            self._file.close()
        if not succeeded or self.count == 0:
            self.path.unlink(missing_ok=True)


def open_text(path: Path) -> io.TextIOBase:
    """Open a CSV file for reading, gunzipping it when it is compressed."""
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig")
    return open(path, encoding="utf-8-sig", newline="")


def read_category_map(path: Path, known: set[str]) -> dict[str, str]:
    """Read a ``source_category,category`` CSV into a lookup by lower-case label.

    Raises
    ------
    ValidationError
        Missing columns or a target slug that is not one of our categories.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValidationError(f"{path}: cannot read category map ({err})") from err
    missing = {"source_category", "category"} - set(frame.columns)
    if missing:
        raise ValidationError(f"{path}: category map needs columns source_category "
                              f"and category; missing {', '.join(sorted(missing))}")
    unknown = sorted(set(frame["category"]) - known)
    if unknown:
        raise ValidationError(f"{path}: maps to categories we do not have: "
                              f"{', '.join(unknown[:10])}")
    return {s.strip().lower(): c for s, c in zip(frame["source_category"],
                                                frame["category"])}


class ComplaintImporter:
    """Stages checked rows and turns them into complaints in one transaction.

    Parameters
    ----------
    conn : Connection
        A connection inside a transaction; nothing is stored if it rolls back.
    source_name : str
        Shown on each imported complaint's first timeline event.
    """

    def __init__(self, conn: Connection, source_name: str) -> None:
        self.conn = conn
        self.source_name = source_name
        ward_set = queries.current_ward_set(conn)
        if ward_set is None:
            raise NoWardSetError()
        self.ward_set_id = ward_set["ward_set_id"]
        conn.execute(text(STAGING_DDL))
        self.n_staged = 0
        self.bulk_mode = False

    def stage(self, rows: pd.DataFrame) -> None:
        """COPY checked rows to staging, each with a new tracking id.

        ``rows`` has the columns of ``STAGED_COLUMNS`` except ``tracking_id``,
        with ``created_at`` and ``closed_at`` (time-zone aware or NaT) in place
        of the second counts.
        """
        columns = {
            "line_no": rows["line_no"].tolist(),
            "tracking_id": new_tracking_ids(len(rows)),
            "external_id": _nullable(rows["external_id"]),
            "category_slug": rows["category_slug"].tolist(),
            "source_category": _nullable(rows["source_category"]),
            "description": _nullable(rows["description"]),
            "status": rows["status"].tolist(),
            "created_s": _epoch_seconds(rows["created_at"]),
            "closed_s": _epoch_seconds(rows["closed_at"]),
            "lon": rows["lon"].tolist(), "lat": rows["lat"].tolist(),
        }
        raw = self.conn.connection.driver_connection
        copy_sql = (f"COPY staged_complaint ({', '.join(STAGED_COLUMNS)})"
                    " FROM STDIN (FORMAT BINARY)")
        with raw.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.set_types(list(STAGED_COLUMNS.values()))
            for row in zip(*(columns[name] for name in STAGED_COLUMNS)):
                copy.write_row(row)
        self.n_staged += len(rows)

    def finish(self) -> tuple[int, list[dict]]:
        """Locate, route and insert the staged rows.

        Returns
        -------
        n_imported : int
            Complaints created (rows whose external id was new).
        outside : list of dict
            Staged rows outside every ward; they were not imported.

        Notes
        -----
        Other imports wait for this one (the table is locked against
        writes). A large import into a table not much larger than itself
        rebuilds the complaint indexes afterwards instead of updating them row
        by row (``app.bulkload``); readers wait for it too in that case.
        """
        self.conn.execute(text("ANALYZE staged_complaint"))
        for setting in BULK_SETTINGS:
            self.conn.execute(text(f"SET LOCAL {setting}"))
        self.conn.execute(text("LOCK TABLE complaint IN SHARE ROW EXCLUSIVE MODE"))
        queries.locate_staged(self.conn, self.ward_set_id)
        outside = queries.located_outside(self.conn)
        n_new = queries.prepare_located(self.conn)
        queries.drop_located(self.conn)
        self.bulk_mode = use_bulk_mode(self.conn, n_new)
        if self.bulk_mode:
            with indexes_suspended(self.conn):
                n_imported = queries.insert_located(self.conn)
        else:
            n_imported = queries.insert_located(self.conn)
        self.conn.execute(text("ANALYZE complaint"))
        logger.info("imported %d complaints from %s%s", n_imported,
                    self.source_name, " (bulk mode)" if self.bulk_mode else "")
        return n_imported, outside


def _epoch_seconds(times: pd.Series) -> list:
    """Whole seconds since 1970 (UTC) of aware times; None for NaT."""
    seconds = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(
        "datetime64[s]").astype("int64")
    return np.where(times.isna().to_numpy(), None, seconds).tolist()


def _nullable(values: pd.Series) -> list:
    """Values as a list, with None for missing ones (pandas NA or NaN)."""
    return values.astype(object).where(values.notna(), None).tolist()


class CsvRowChecker:
    """Turns raw CSV chunks into staged rows and rejected rows with reasons."""

    def __init__(self, columns: ImportColumns, tz: str,
                 category_lookup: dict[str, str]) -> None:
        self.columns = columns
        self.tz = tz
        self.lookup = category_lookup
        #: Line of each external id's first appearance, over all chunks.
        self.first_lines = pd.Series(dtype="int64")

    def check(self, raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """Return ``(good, reasons)``; ``reasons`` is indexed by rejected line."""
        cols = self.columns
        reasons = pd.Series(pd.NA, index=raw.index, dtype="object")
        lon = self._number(raw, cols.lon, "longitude", 180, reasons)
        lat = self._number(raw, cols.lat, "latitude", 90, reasons)
        created = self._time(raw, cols.created, reasons, required=True)
        closed = self._time(raw, cols.closed, reasons, required=False)
        status = self._status(raw, closed, reasons)
        external = self._external_ids(raw, reasons)
        labels = _per_value(raw[cols.category], str.strip)
        _reject(reasons, labels == "", f"missing category in {cols.category!r}")
        good = reasons.isna()
        staged = pd.DataFrame({
            "line_no": raw.index, "external_id": external,
            "category_slug": self._slugs(labels), "source_category": labels,
            "description": self._description(raw), "status": status,
            "created_at": created, "closed_at": closed, "lon": lon, "lat": lat,
        }, index=raw.index)[good]
        return staged, reasons[~good]

    def _number(self, raw, column, what, limit, reasons) -> pd.Series:
        values = pd.to_numeric(raw[column], errors="coerce")
        # Only values that did not parse need a closer look, and they are few.
        failed = values.isna()
        text_values = raw[column][failed].str.strip().reindex(raw.index)
        _reject(reasons, text_values == "", f"missing {what} in {column!r}")
        bad = failed & (text_values != "")
        _reject_values(reasons, bad, f"non-numeric {what} in {column!r}",
                       text_values)
        out = ~failed & (values.abs() > limit)
        _reject_values(reasons, out, f"{what} out of range in {column!r}",
                       raw[column])
        return values

    def _time(self, raw, column, reasons, required) -> pd.Series:
        if column is None:
            return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        parsed = self._parse_column(raw[column])
        failed = parsed.isna()
        text_values = raw[column][failed].str.strip().reindex(raw.index)
        empty = text_values == ""
        if required:
            _reject(reasons, empty, f"missing date in {column!r}")
        bad = failed & ~empty
        _reject_values(reasons, bad, f"bad date in {column!r} (expected ISO 8601 "
                       "such as 2015-01-31 14:05:00)", text_values)
        return parsed

    def _parse_column(self, values: pd.Series) -> pd.Series:
        """Parse a column of times to UTC; NaT where a value is not a time.

        Columns are usually all without an offset, or all with one, and
        parse in one pass; a column that mixes them is split by a pattern.
        """
        try:
            times = pd.to_datetime(values, format="ISO8601", errors="coerce")
        except ValueError:
            parsed = pd.Series(pd.NaT, index=values.index,
                               dtype="datetime64[ns, UTC]")
            stripped = values.str.strip()
            naive = ~stripped.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
            for mask, aware in ((naive, False), (~naive, True)):
                if mask.any():
                    parsed[mask] = self._parse_times(stripped[mask], aware)
            return parsed
        if times.dt.tz is not None:
            return times.dt.tz_convert("UTC")
        return self._localise(times)

    def _parse_times(self, values: pd.Series, aware: bool) -> pd.Series:
        times = pd.to_datetime(values, format="ISO8601", errors="coerce",
                               utc=aware)
        return times if aware else self._localise(times)

    def _localise(self, times: pd.Series) -> pd.Series:
        # A clock time that a DST change repeats is read as the first one
        # (daylight time); one that it skips is moved forward.
        return times.dt.tz_localize(
            self.tz, ambiguous=np.ones(len(times), dtype=bool),
            nonexistent="shift_forward").dt.tz_convert("UTC")

    def _status(self, raw, closed, reasons) -> pd.Series:
        if self.columns.status is None:
            return pd.Series(np.where(closed.notna(), "closed", "submitted"),
                             index=raw.index)
        words = _per_value(raw[self.columns.status], lambda v: v.strip().lower())
        mapped = words.map(STATUS_WORDS)
        mapped[words == ""] = np.where(closed[words == ""].notna(), "closed",
                                       "submitted")
        unknown = mapped.isna()
        _reject_values(reasons, unknown,
                       f"unknown status in {self.columns.status!r}",
                       raw[self.columns.status])
        return mapped

    def _external_ids(self, raw, reasons) -> pd.Series:
        column = self.columns.external_id
        if column is None:
            return pd.Series(None, index=raw.index, dtype="object")
        ids = raw[column].str.strip()
        present = ids[ids != ""]
        in_chunk = pd.Series(present.index, index=present.values)
        in_chunk = in_chunk[~in_chunk.index.duplicated()]
        new = in_chunk[~in_chunk.index.isin(self.first_lines.index)]
        self.first_lines = pd.concat([self.first_lines, new])
        first = present.map(self.first_lines)
        repeated = first[first != first.index]
        for line, first_line in repeated.items():
            if pd.isna(reasons[line]):
                reasons[line] = (f"duplicate id in {column!r}: "
                                 f"{ids[line]!r} already on line {first_line}")
        return ids.where(ids != "", None)

    def _slugs(self, labels: pd.Series) -> pd.Series:
        return _per_value(labels, str.lower).map(self.lookup).fillna(CATCH_ALL)

    def _description(self, raw) -> pd.Series:
        column = self.columns.description
        if column is None:
            return pd.Series("", index=raw.index)
        return raw[column].str.slice(0, MAX_DESCRIPTION)


def _per_value(values: pd.Series, function) -> pd.Series:
    """Apply ``function`` once per distinct value (labels repeat a lot)."""
    return values.map({v: function(v) for v in pd.unique(values)})


def _reject(reasons: pd.Series, mask: pd.Series, reason: str) -> None:
    reasons[mask & reasons.isna()] = reason


def _reject_values(reasons, mask, reason, values) -> None:
    mask = mask & reasons.isna()
    if mask.any():
        reasons[mask] = reason + ": " + values[mask].str.slice(0, 40).map(repr)


def iter_chunks(path: Path, columns: ImportColumns,
                progress: bool) -> Iterator[pd.DataFrame]:
    """Yield raw string chunks indexed by file line number (header = line 1)."""
    with open_text(path) as handle:
        header = next(csv.reader([handle.readline()]), [])
        missing = [c for c in columns.used() if c not in header]
        if missing:
            raise ValidationError(
                f"{path}: no column {', '.join(map(repr, missing))}; the file's "
                f"columns are: {', '.join(header) or '(none)'}")
        size = path.stat().st_size
        raw = handle.buffer.raw if hasattr(handle.buffer, "raw") else None
        bar = tqdm(total=size, unit="B", unit_scale=True, disable=not progress,
                   desc=f"importing {path.name}")
        reader = pd.read_csv(handle, names=header, usecols=columns.used(),
                             dtype=str, keep_default_na=False,
                             chunksize=CHUNK_ROWS)
        start = 2
        try:
            for chunk in reader:
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield chunk
                bar.update(_position(handle, raw) - bar.n)
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise ValidationError(f"{path}: malformed CSV near line {start}: "
                                  f"{err}") from err
        finally:
            bar.close()


def _position(handle, raw) -> int:
    fileobj = getattr(handle.buffer, "fileobj", None)
    for candidate in (fileobj, raw, handle.buffer):
        if candidate is not None and hasattr(candidate, "tell"):
            try:
                return candidate.tell()
            except (OSError, ValueError):
                continue
    return 0


def import_csv(conn: Connection, path: Path, columns: ImportColumns, tz: str,
               category_lookup: dict[str, str], rejects_path: Path,
               progress: bool = True) -> ImportSummary:
    """Import a complaint CSV (plain or gzip) inside the caller's transaction."""
    summary = ImportSummary(rejects_path=rejects_path)
    checker = CsvRowChecker(columns, tz, _with_own_slugs(conn, category_lookup))
    importer = ComplaintImporter(conn, path.name)
    rejects = RejectWriter(rejects_path, columns.used())
    succeeded = False
    try:
        for raw in iter_chunks(path, columns, progress):
            summary.n_read += len(raw)
            good, reasons = checker.check(raw)
            rejects.add(raw.loc[reasons.index], reasons)
            _count_other(summary, good)
            importer.stage(good)
        n_imported, outside = importer.finish()
        _reject_outside(rejects, outside, columns)
        succeeded = True
    finally:
        rejects.close(succeeded)
    summary.n_imported = n_imported
    summary.n_outside = len(outside)
    summary.bulk_mode = importer.bulk_mode
    summary.n_rejected = rejects.count
    summary.reject_reasons = rejects.reasons
    summary.n_already_present = importer.n_staged - len(outside) - n_imported
    return summary


def _with_own_slugs(conn: Connection, lookup: dict[str, str]) -> dict[str, str]:
    """Add our own category slugs and names to a source-label lookup."""
    own = [(c["slug"], c["name"]) for c in queries.active_categories(conn)]
    if CATCH_ALL not in {slug for slug, _ in own}:
        raise ValidationError(f"no {CATCH_ALL!r} category is loaded; run "
                              "'wardwatch routing load' first")
    merged = {}
    for slug, name in own:
        merged[slug.lower()] = slug
        merged[name.lower()] = slug
    merged.update(lookup)
    return merged


def _count_other(summary: ImportSummary, good: pd.DataFrame) -> None:
    other = good["category_slug"] == CATCH_ALL
    summary.n_other += int(other.sum())
    summary.other_labels.update(good.loc[other, "source_category"].value_counts()
                                .to_dict())


def _reject_outside(rejects: RejectWriter, outside: list[dict],
                    columns: ImportColumns) -> None:
    if not outside:
        return
    staged = pd.DataFrame(outside).set_index("line_no")
    source = pd.DataFrame({c: "" for c in columns.used()}, index=staged.index)
    for column, field_name in ((columns.lon, "lon"), (columns.lat, "lat"),
                               (columns.category, "source_category"),
                               (columns.created, "created_at"),
                               (columns.closed, "closed_at"),
                               (columns.status, "status"),
                               (columns.external_id, "external_id"),
                               (columns.description, "description")):
        if column:
            source[column] = staged[field_name].map(
                lambda v: "" if v is None or v != v else str(v))
    reasons = pd.Series("outside every ward: no ward of the current set covers "
                        f"the point in {columns.lon!r}, {columns.lat!r}",
                        index=staged.index)
    rejects.add(source, reasons)
