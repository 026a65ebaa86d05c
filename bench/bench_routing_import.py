"""Benchmark of issue #2, section 7: routing throughput and bulk import rate.

On a generated city (227 Voronoi wards, one million complaints) this measures

1. how many points per second ``geo.routing.route`` routes, one call at a time
   on one connection, as intake does;
2. how many rows per second ``wardwatch complaints import`` loads, run as a
   subprocess of the real CLI, wards and departments included;
3. the same CSV loaded the plain geopandas way (``read_csv``, ``sjoin``,
   ``to_postgis``), as the baseline the import is compared with.

Run it with ``make bench``, which points ``WARDWATCH_DATABASE_URL`` at the
project-local database ``wardwatch_bench``. Every table of that database is
emptied at the start of a run. Results are printed as a table and written to
``bench/out/results.json``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from time import perf_counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, create_engine, text
from tqdm import tqdm

from app.config import normalise_database_url
from app.importer import STATUS_WORDS
from geo.errors import WardNotFoundError
from geo.routing import route

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "bench" / "out"
WARDS_PATH = OUT_DIR / "wards.geojson"
CSV_PATH = OUT_DIR / "complaints.csv"
REJECTS_PATH = OUT_DIR / "complaints.rejects.csv"
RESULTS_PATH = OUT_DIR / "results.json"
ROUTING_FILE = ROOT / "data" / "routing" / "default.toml"
WARDWATCH = ROOT / ".venv" / "bin" / "wardwatch"

SEED = 20240711
N_WARDS = 227
N_COMPLAINTS = 1_000_000
N_ROUTE_POINTS = 20_000
N_WARMUP_POINTS = 500

# The city: an irregular outline filling a 25 km x 40 km box around a centre
# near Mumbai, so the numbers relate to the demo ward set.
CENTRE = (72.85, 19.07)
CITY_WIDTH_M = 25_000
CITY_HEIGHT_M = 40_000
N_OUTLINE_VERTICES = 40
N_LLOYD_ROUNDS = 2
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(CENTRE[1]))

# Complaint points: a few fall outside the city, the rest mix a uniform
# spread with hotspots of varied size and weight.
OUTSIDE_SHARE = 0.005
CLUSTERED_SHARE = 0.6
N_HOTSPOTS = 60
HOTSPOT_SIGMA_M = (150.0, 1_200.0)
OUTSIDE_MARGIN_DEG = 0.03

UNKNOWN_SHARE = 0.05
UNKNOWN_LABELS = ("Stray dogs", "Property tax query", "Noisy neighbours",
                  "Water bill dispute", "misc", "Ration card", "Bus stop shelter")
STATUS_LABELS = ("Open", "Assigned", "In Progress", "Resolved", "Closed")
STATUS_SHARES = (0.20, 0.05, 0.10, 0.35, 0.30)
CLOSED_LABELS = ("Resolved", "Closed")
FIRST_FILED = np.datetime64("2019-01-01T00:00:00")
LAST_FILED = np.datetime64("2024-12-31T23:59:59")
SOURCE_TZ = "Asia/Kolkata"

BASELINE_TABLE = "bench_baseline_complaint"
BASELINE_CHUNK_ROWS = 50_000

# A one-minute load average above this, before measuring, means other work
# shares the CPU and the figures will come out low.
BUSY_LOAD = 0.5

TARGET_POINTS_PER_S = 2_000
TARGET_IMPORT_S = 30.0
TARGET_SPEED_RATIO = 3.0


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------

class Steps:
    """Prints each step's name when it starts and its time when it ends.

    The one-minute load average is kept with each time: on a shared machine
    it tells whether other work slowed a step down.
    """

    def __init__(self) -> None:
        self.record: dict[str, dict[str, float]] = {}

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        print(f"-> {name}", flush=True)
        start = perf_counter()
        yield
        elapsed, load = perf_counter() - start, os.getloadavg()[0]
        self.record[name] = {"seconds": round(elapsed, 3), "load_1min": load}
        print(f"   {name}: {elapsed:.1f} s (load average {load:.1f})",
              flush=True)


# --------------------------------------------------------------------------
# Generated city
# --------------------------------------------------------------------------

def city_outline(rng: np.random.Generator) -> shapely.Polygon:
    """Return an irregular city outline filling the 25 km x 40 km box.

    The outline is star-shaped around the centre: vertices at jittered angles,
    with a radius that wobbles with a few seeded harmonics.
    """
    step = 2 * np.pi / N_OUTLINE_VERTICES
    theta = (np.arange(N_OUTLINE_VERTICES)
             + rng.uniform(-0.35, 0.35, N_OUTLINE_VERTICES)) * step
    phase = rng.uniform(0, 2 * np.pi, 3)
    radius = (1 + 0.10 * np.sin(2 * theta + phase[0])
              + 0.08 * np.sin(3 * theta + phase[1])
              + 0.05 * np.sin(7 * theta + phase[2])
              + rng.uniform(-0.04, 0.04, N_OUTLINE_VERTICES))
    lon = _fit(radius * np.cos(theta), CENTRE[0], CITY_WIDTH_M / M_PER_DEG_LON)
    lat = _fit(radius * np.sin(theta), CENTRE[1], CITY_HEIGHT_M / M_PER_DEG_LAT)
    return shapely.Polygon(np.column_stack([lon, lat]))


def _fit(values: np.ndarray, centre: float, extent: float) -> np.ndarray:
    """Scale ``values`` to span ``extent`` and centre their range on ``centre``."""
    scaled = values / np.ptp(values) * extent
    return scaled + centre - (scaled.min() + scaled.max()) / 2


def sample_uniform(area: shapely.Polygon, n: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` (lon, lat) rows spread uniformly (in degrees) over ``area``."""
    xmin, ymin, xmax, ymax = area.bounds
    found, n_found = [], 0
    while n_found < n:
        x = rng.uniform(xmin, xmax, 2 * n)
        y = rng.uniform(ymin, ymax, 2 * n)
        keep = shapely.contains_xy(area, x, y)
        found.append(np.column_stack([x[keep], y[keep]]))
        n_found += int(keep.sum())
    return np.concatenate(found)[:n]


def sample_clustered(area: shapely.Polygon, n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` (lon, lat) rows in Gaussian hotspots inside ``area``.

    Hotspot weights are heavy-tailed, so a few hotspots hold most points.
    """
    centres = sample_uniform(area, N_HOTSPOTS, rng)
    weights = rng.pareto(1.5, N_HOTSPOTS) + 0.2
    weights /= weights.sum()
    sigma_m = rng.uniform(*HOTSPOT_SIGMA_M, N_HOTSPOTS)
    found, n_found = [], 0
    while n_found < n:
        pick = rng.choice(N_HOTSPOTS, size=n, p=weights)
        x = centres[pick, 0] + rng.normal(size=n) * sigma_m[pick] / M_PER_DEG_LON
        y = centres[pick, 1] + rng.normal(size=n) * sigma_m[pick] / M_PER_DEG_LAT
        keep = shapely.contains_xy(area, x, y)
        found.append(np.column_stack([x[keep], y[keep]]))
        n_found += int(keep.sum())
    return np.concatenate(found)[:n]


def sample_outside(area: shapely.Polygon, n: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` (lon, lat) rows near ``area`` but outside it."""
    xmin, ymin, xmax, ymax = area.bounds
    margin = OUTSIDE_MARGIN_DEG
    found, n_found = [], 0
    while n_found < n:
        x = rng.uniform(xmin - margin, xmax + margin, 4 * n + 16)
        y = rng.uniform(ymin - margin, ymax + margin, 4 * n + 16)
        keep = ~shapely.contains_xy(area, x, y)
        found.append(np.column_stack([x[keep], y[keep]]))
        n_found += int(keep.sum())
    return np.concatenate(found)[:n]


def make_wards(outline: shapely.Polygon, rng: np.random.Generator) -> list:
    """Return ``N_WARDS`` Voronoi cells tiling ``outline``, north to south.

    Seeds are spread uniformly, then moved by a few rounds of Lloyd relaxation
    so that wards have comparable sizes.
    """
    seeds = sample_uniform(outline, N_WARDS, rng)
    for _ in range(N_LLOYD_ROUNDS):
        seeds = _inner_points(_clipped_cells(seeds, outline), outline)
    cells = _clipped_cells(seeds, outline)
    if any(shapely.is_empty(cells)):
        raise RuntimeError("a generated ward is empty; change SEED")
    centres = shapely.get_coordinates(shapely.centroid(cells))
    return [cells[i] for i in np.lexsort((centres[:, 0], -centres[:, 1]))]


def _clipped_cells(seeds: np.ndarray, outline: shapely.Polygon) -> np.ndarray:
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds),
                                     extend_to=outline, ordered=True)
    return shapely.intersection(shapely.get_parts(cells), outline)


def _inner_points(cells: np.ndarray, outline: shapely.Polygon) -> np.ndarray:
    """Centroids, or a point on the surface where a centroid falls outside."""
    centroids = shapely.centroid(cells)
    inside = shapely.contains(outline, centroids)
    points = np.where(inside, centroids, shapely.point_on_surface(cells))
    return shapely.get_coordinates(points)


def write_wards(cells: list, path: Path) -> None:
    """Write wards as GeoJSON (EPSG:4326) with ``code`` W01.. and ``name``."""
    features = [
        {"type": "Feature",
         "properties": {"code": f"W{i:02d}", "name": f"Bench Ward {i}"},
         "geometry": json.loads(shapely.to_geojson(cell))}
        for i, cell in enumerate(cells, start=1)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": features}))


def category_slugs(path: Path = ROUTING_FILE) -> list[str]:
    """Return the category slugs of a routing file."""
    with open(path, "rb") as handle:
        return [entry["slug"] for entry in tomllib.load(handle)["category"]]


def complaint_points(outline: shapely.Polygon, n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` shuffled (lon, lat) rows: outside, clustered and uniform."""
    n_outside = round(n * OUTSIDE_SHARE)
    n_clustered = round((n - n_outside) * CLUSTERED_SHARE)
    points = np.concatenate([
        sample_outside(outline, n_outside, rng),
        sample_clustered(outline, n_clustered, rng),
        sample_uniform(outline, n - n_outside - n_clustered, rng),
    ])
    return points[rng.permutation(n)]


def make_complaints(outline: shapely.Polygon, slugs: list[str], n: int,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Return ``n`` complaint rows as a source system would export them.

    Columns: ``id``, ``lon``, ``lat``, ``category`` (a slug, or an unknown
    label for about 5 % of rows), ``created`` and ``closed`` (ISO 8601, local
    time without offset; ``closed`` empty while open) and ``status``.
    """
    points = complaint_points(outline, n, rng)
    span_s = int((LAST_FILED - FIRST_FILED) / np.timedelta64(1, "s"))
    created = FIRST_FILED + rng.integers(0, span_s, n).astype("timedelta64[s]")
    hours_open = rng.lognormal(np.log(60), 1.0, n).astype("timedelta64[h]")
    status = rng.choice(STATUS_LABELS, size=n, p=STATUS_SHARES)
    closed = np.where(np.isin(status, CLOSED_LABELS),
                      np.datetime_as_string(created + hours_open), "")
    return pd.DataFrame({
        "id": [f"SR{i:08d}" for i in range(1, n + 1)],
        "lon": points[:, 0], "lat": points[:, 1],
        "category": _category_labels(slugs, n, rng),
        "created": np.datetime_as_string(created), "closed": closed,
        "status": status,
    })


def _category_labels(slugs: list[str], n: int,
                     rng: np.random.Generator) -> np.ndarray:
    weights = rng.dirichlet(np.full(len(slugs), 0.8))
    labels = rng.choice(slugs, size=n, p=weights).astype(object)
    unknown = rng.random(n) < UNKNOWN_SHARE
    labels[unknown] = rng.choice(UNKNOWN_LABELS, size=int(unknown.sum()))
    return labels


@dataclass(frozen=True)
class RoutePoint:
    lon: float
    lat: float
    category_slug: str
    filed_at: datetime


def route_points(outline: shapely.Polygon, slugs: list[str], n: int,
                 rng: np.random.Generator) -> list[RoutePoint]:
    """Return ``n`` intake requests inside the city, half of them clustered."""
    n_clustered = n // 2
    points = np.concatenate([sample_clustered(outline, n_clustered, rng),
                             sample_uniform(outline, n - n_clustered, rng)])
    points = points[rng.permutation(n)]
    chosen = rng.choice(slugs, size=n)
    offsets_s = rng.integers(0, 365 * 86_400, n)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [RoutePoint(float(lon), float(lat), str(slug),
                       start + timedelta(seconds=int(offset)))
            for (lon, lat), slug, offset in zip(points, chosen, offsets_s)]


# --------------------------------------------------------------------------
# Database and CLI
# --------------------------------------------------------------------------

def bench_engine() -> Engine:
    """Return an engine for ``WARDWATCH_DATABASE_URL``, refusing to run without."""
    url = os.environ.get("WARDWATCH_DATABASE_URL")
    if not url:
        sys.exit("WARDWATCH_DATABASE_URL is not set; run the benchmark with "
                 "'make bench', which points it at the wardwatch_bench database")
    return create_engine(normalise_database_url(url), pool_pre_ping=True)


def run_cli(*args: str) -> list[str]:
    """Run ``wardwatch ARGS`` in development mode; return its output lines."""
    env = {**os.environ, "WARDWATCH_ENV": "development"}
    done = subprocess.run([str(WARDWATCH), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        sys.exit(f"'wardwatch {' '.join(args)}' failed ({done.returncode})")
    return done.stdout.splitlines()


def empty_database(engine: Engine) -> list[str]:
    """Drop the baseline table and truncate every other table of ours.

    Returns the names of the truncated tables.
    """
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {BASELINE_TABLE}"))
        names = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('spatial_ref_sys', 'alembic_version')"
            " ORDER BY tablename")).scalars().all()
        quote = conn.dialect.identifier_preparer.quote
        conn.execute(text(f"TRUNCATE {', '.join(map(quote, names))}"
                          " RESTART IDENTITY CASCADE"))
    return list(names)


def import_counts(engine: Engine) -> dict[str, int]:
    """Count what the import stored: complaints, wards, departments, events."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*) AS n_complaints,"
            " count(DISTINCT c.ward_id) AS n_wards_used,"
            " count(DISTINCT c.department_id) AS n_departments_used,"
            " count(r.routing_rule_id) AS n_by_ward_rule,"
            " (SELECT count(*) FROM complaint_event) AS n_events"
            " FROM complaint c LEFT JOIN ward w ON w.ward_id = c.ward_id"
            " LEFT JOIN routing_rule r ON r.category_id = c.category_id"
            " AND r.ward_code = w.ward_code")).mappings().one()
    return {key: int(value) for key, value in row.items()}


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------

def measure_routing(engine: Engine, points: list[RoutePoint],
                    warmup: list[RoutePoint]) -> dict:
    """Route ``points`` one by one on one connection; return rate and latency.

    ``warmup`` is routed first, untimed, so that the driver has prepared the
    statement as it would have in a running intake process.
    """
    latencies = np.empty(len(points))
    n_outside = 0
    with engine.connect() as conn:
        for p in warmup:
            _route_or_none(conn, p)
        bar = tqdm(total=len(points), unit="pt", desc="routing", leave=False)
        start = perf_counter()
        for i, p in enumerate(points):
            before = perf_counter()
            n_outside += _route_or_none(conn, p) is None
            latencies[i] = perf_counter() - before
            if i % 1000 == 999:
                bar.update(1000)
        elapsed = perf_counter() - start
        bar.close()
    rate = len(points) / elapsed
    return {"n_points": len(points), "n_warmup": len(warmup),
            "n_outside": n_outside, "seconds": round(elapsed, 3),
            "points_per_s": round(rate, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)) * 1e3, 3),
            "p99_ms": round(float(np.percentile(latencies, 99)) * 1e3, 3),
            "target_points_per_s": TARGET_POINTS_PER_S,
            "met": rate >= TARGET_POINTS_PER_S}


def _route_or_none(conn, p: RoutePoint):
    try:
        return route(conn, p.lon, p.lat, p.category_slug, p.filed_at)
    except WardNotFoundError:
        return None


def measure_import(n_rows: int) -> dict:
    """Time ``wardwatch complaints import`` on the generated CSV."""
    args = ("complaints", "import", str(CSV_PATH), "--id-col", "id",
            "--lon-col", "lon", "--lat-col", "lat", "--category-col", "category",
            "--created-col", "created", "--closed-col", "closed",
            "--status-col", "status", "--tz", SOURCE_TZ,
            "--rejects", str(REJECTS_PATH), "--no-progress")
    start = perf_counter()
    output = run_cli(*args)
    elapsed = perf_counter() - start
    return {"n_rows": n_rows, "seconds": round(elapsed, 3),
            "rows_per_s": round(n_rows / elapsed, 1), "cli_output": output,
            "target_seconds_per_million": TARGET_IMPORT_S,
            "met": elapsed * 1_000_000 / n_rows < TARGET_IMPORT_S}


def measure_baseline(engine: Engine) -> dict:
    """Time the plain geopandas load: read, join to wards, write to PostGIS."""
    phases: dict[str, float] = {}
    with _phase(phases, "read_csv"):
        wards = gpd.read_file(WARDS_PATH)[["code", "geometry"]]
        frame = _read_baseline_csv()
    with _phase(phases, "sjoin"):
        points = gpd.GeoDataFrame(
            frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs="EPSG:4326")
        joined = gpd.sjoin(points, wards, predicate="within")
        joined = joined.drop(columns="index_right")
    with _phase(phases, "to_postgis"):
        _write_baseline(engine, joined)
    elapsed = sum(phases.values())
    return {"n_rows": len(frame), "n_joined": len(joined),
            "seconds": round(elapsed, 3),
            "rows_per_s": round(len(frame) / elapsed, 1),
            "phases_s": {k: round(v, 3) for k, v in phases.items()}}


def measure_same_result(engine: Engine) -> dict:
    """Time the geopandas way to the import's result: routed rows in complaint.

    Reads and joins as :func:`measure_baseline` does, then assigns
    departments and due times with pandas merges and appends to the real
    ``complaint`` table (its indexes and foreign keys in place) with
    ``to_postgis``. The CLI import's rows are removed first, so both start
    from the same empty table.
    """
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE complaint CASCADE"))
    phases: dict[str, float] = {}
    with _phase(phases, "read_csv"):
        frame = _read_baseline_csv()
    with _phase(phases, "sjoin"):
        wards = gpd.read_postgis(text(
            "SELECT w.ward_id, w.ward_code, w.geom FROM ward w JOIN ward_set s"
            " USING (ward_set_id) WHERE s.is_current"), engine, geom_col="geom")
        points = gpd.GeoDataFrame(
            frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs="EPSG:4326")
        joined = gpd.sjoin(points, wards, predicate="within")
        joined = joined[~joined.index.duplicated()].drop(columns="index_right")
    with _phase(phases, "route"):
        rows = _route_in_pandas(engine, joined)
    with _phase(phases, "to_postgis"):
        with engine.begin() as conn:
            rows.to_postgis("complaint", conn, if_exists="append", index=False,
                            chunksize=BASELINE_CHUNK_ROWS)
    elapsed = sum(phases.values())
    return {"n_rows": len(frame), "n_stored": len(rows),
            "seconds": round(elapsed, 3),
            "rows_per_s": round(len(frame) / elapsed, 1),
            "phases_s": {k: round(v, 3) for k, v in phases.items()}}


def _read_baseline_csv() -> pd.DataFrame:
    frame = pd.read_csv(CSV_PATH, dtype={"id": str, "category": str,
                                         "status": str})
    for column in ("created", "closed"):
        frame[column] = pd.to_datetime(
            frame[column], format="ISO8601").dt.tz_localize(SOURCE_TZ)
    return frame


def _route_in_pandas(engine: Engine, joined: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from app.tracking import new_tracking_ids

    categories = pd.read_sql(text(
        "SELECT slug, category_id, default_department_id, sla_hours"
        " FROM category WHERE is_active"), engine)
    rules = pd.read_sql(text(
        "SELECT category_id, ward_code, department_id, sla_hours AS rule_sla"
        " FROM routing_rule"), engine)
    slugs = joined["category"].where(joined["category"].isin(categories["slug"]),
                                     "other")
    routed = joined.assign(slug=slugs).merge(categories, on="slug").merge(
        rules, on=["category_id", "ward_code"], how="left")
    sla = routed["rule_sla"].fillna(routed["sla_hours"])
    status = routed["status"].str.lower().map(STATUS_WORDS)
    return gpd.GeoDataFrame({
        "tracking_id": new_tracking_ids(len(routed)),
        "external_id": routed["id"], "category_id": routed["category_id"],
        # to_postgis copies an empty text as NULL, which complaint refuses.
        "source_category": routed["category"], "description": "-",
        "ward_id": routed["ward_id"],
        "department_id": routed["department_id"].fillna(
            routed["default_department_id"]).astype("int64"),
        "status": status, "channel": "import",
        "created_at": routed["created"],
        "updated_at": routed["closed"].fillna(routed["created"]),
        "due_at": routed["created"] + pd.to_timedelta(sla, unit="h"),
        "resolved_at": routed["closed"], "n_supporters": 0,
        "source_status": status, "source_closed_at": routed["closed"],
        "geom": routed.geometry,
    }, geometry="geom", crs="EPSG:4326")


@contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    start = perf_counter()
    yield
    phases[name] = perf_counter() - start


def _write_baseline(engine: Engine, joined: gpd.GeoDataFrame) -> None:
    """``to_postgis`` in slices of ``BASELINE_CHUNK_ROWS``, for a progress bar.

    The first slice replaces the table and the rest append, in one
    transaction: the same statements as one call with ``chunksize``.
    """
    starts = range(0, len(joined), BASELINE_CHUNK_ROWS)
    with engine.begin() as conn:
        for start in tqdm(starts, unit="chunk", desc="to_postgis", leave=False):
            joined.iloc[start:start + BASELINE_CHUNK_ROWS].to_postgis(
                BASELINE_TABLE, conn, if_exists="replace" if start == 0
                else "append", index=False, chunksize=BASELINE_CHUNK_ROWS)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def machine_info(engine: Engine) -> dict:
    """Describe the machine and the software versions the figures came from."""
    with engine.connect() as conn:
        server = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "free_h": free.rstrip().splitlines(),
        "python": platform.python_version(),
        "postgresql": server, "postgis": postgis,
        "packages": {name: metadata.version(name) for name in (
            "geopandas", "shapely", "pandas", "numpy", "SQLAlchemy",
            "psycopg", "GeoAlchemy2")},
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_table(results: dict) -> None:
    """Print the three figures and the speed ratio beside their targets."""
    r, i, b = results["routing"], results["import"], results["baseline"]
    same = results["same_result"]
    ratio, like = results["speed_ratio"], results["speed_ratio_same_result"]
    rows = [
        ("routing: route(), one connection",
         f"{r['points_per_s']:,.0f} points/s (p50 {r['p50_ms']:.2f} ms, "
         f"p99 {r['p99_ms']:.2f} ms)", f">= {TARGET_POINTS_PER_S:,}/s",
         _yes(r["met"])),
        ("bulk import: wardwatch CLI",
         f"{i['rows_per_s']:,.0f} rows/s ({i['seconds']:.1f} s)",
         f"< {TARGET_IMPORT_S:.0f} s per 1M rows", _yes(i["met"])),
        ("baseline: geopandas sjoin + to_postgis",
         f"{b['rows_per_s']:,.0f} rows/s ({b['seconds']:.1f} s)", "reference",
         "-"),
        ("import speed / baseline speed", f"{ratio['value']:.2f}x",
         f">= {TARGET_SPEED_RATIO:g}x", _yes(ratio["met"])),
        ("geopandas to the same result",
         f"{same['rows_per_s']:,.0f} rows/s ({same['seconds']:.1f} s)",
         "reference", "-"),
        ("import speed / same-result speed", f"{like['value']:.2f}x",
         f">= {TARGET_SPEED_RATIO:g}x", _yes(like["met"])),
    ]
    widths = [max(len(row[k]) for row in rows) for k in range(4)]
    header = ("figure", "measured", "target", "met")
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    print()
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=N_COMPLAINTS,
                        help="rows in the generated CSV [%(default)s]")
    parser.add_argument("--route-points", type=int, default=N_ROUTE_POINTS,
                        help="points routed one by one [%(default)s]")
    parser.add_argument("--seed", type=int, default=SEED)
    return parser.parse_args(argv)


def generate(args: argparse.Namespace, steps: Steps) -> list[RoutePoint]:
    """Write the ward GeoJSON and the complaint CSV; return intake points."""
    rng = np.random.default_rng(args.seed)
    slugs = category_slugs()
    with steps.run(f"generate {N_WARDS} wards"):
        outline = city_outline(rng)
        shapely.prepare(outline)
        write_wards(make_wards(outline, rng), WARDS_PATH)
    with steps.run(f"generate {args.complaints:,} complaints"):
        complaints = make_complaints(outline, slugs, args.complaints, rng)
        complaints.to_csv(CSV_PATH, index=False, float_format="%.6f")
    n_points = args.route_points + N_WARMUP_POINTS
    return route_points(outline, slugs, n_points, rng)


def prepare_database(engine: Engine, steps: Steps) -> None:
    """Bring the schema up to date, empty it, load wards and routing."""
    with steps.run("wardwatch db upgrade"):
        run_cli("db", "upgrade")
    with steps.run("empty the database"):
        empty_database(engine)
    with steps.run("wardwatch wards import"):
        for line in run_cli("wards", "import", str(WARDS_PATH),
                            "--code-field", "code", "--name-field", "name"):
            print(f"   {line}")
    with steps.run("wardwatch routing load"):
        for line in run_cli("routing", "load", str(ROUTING_FILE)):
            print(f"   {line}")


def warn_if_busy() -> float:
    """Warn when other processes load the CPU; return the load average."""
    load = os.getloadavg()[0]
    if load > BUSY_LOAD:
        print(f"warning: load average {load:.1f} on {os.cpu_count()} cores; other "
              "work is running and the figures will be lower than on an idle "
              "machine", flush=True)
    return load


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    engine = bench_engine()
    steps = Steps()
    points = generate(args, steps)
    prepare_database(engine, steps)
    results: dict = {"run_at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "parameters": {"seed": args.seed, "n_wards": N_WARDS,
                                    "n_complaints": args.complaints},
                     "load_1min_before": warn_if_busy()}
    with steps.run(f"route {args.route_points:,} points, one at a time"):
        results["routing"] = measure_routing(
            engine, points[N_WARMUP_POINTS:], points[:N_WARMUP_POINTS])
    with steps.run(f"import {args.complaints:,} rows with the CLI"):
        results["import"] = measure_import(args.complaints)
        for line in results["import"]["cli_output"]:
            print(f"   {line}")
        results["import"]["stored"] = import_counts(engine)
    with steps.run("geopandas baseline"):
        results["baseline"] = measure_baseline(engine)
    with steps.run("geopandas to the same result (routed rows in complaint)"):
        results["same_result"] = measure_same_result(engine)
    for key, baseline in (("speed_ratio", "baseline"),
                          ("speed_ratio_same_result", "same_result")):
        ratio = results["import"]["rows_per_s"] / results[baseline]["rows_per_s"]
        results[key] = {"value": round(ratio, 2), "target": TARGET_SPEED_RATIO,
                        "met": ratio >= TARGET_SPEED_RATIO}
    results["steps"] = steps.record
    results["machine"] = machine_info(engine)
    engine.dispose()
    print_table(results)
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults written to {RESULTS_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
