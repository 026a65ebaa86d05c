"""Demo complaints: a few chronic problem spots over a background of one-offs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from app.importer import ComplaintImporter
from geo import queries
from geo.errors import NoWardSetError

N_HOTSPOTS = 8
HOTSPOT_SHARE = 0.35
HOTSPOT_SPREAD_M = 80.0
HISTORY_DAYS = 270
METRES_PER_DEGREE = 111_320.0

DESCRIPTIONS = (
    "Reported again, nobody has come yet.",
    "Problem since last week, getting worse.",
    "Dangerous for children walking to school.",
    "Near the bus stop, please send someone.",
    "Same place as before, it keeps happening.",
    "Blocking the road for two wheelers.",
)


def seed_complaints(conn: Connection, n_complaints: int, seed: int = 7) -> int:
    """Add up to ``n_complaints`` demo complaints; return how many were new.

    The complaints carry external ids ``demo-000001`` and up, so running the
    seed again adds nothing.
    """
    if n_complaints < 0:
        raise ValueError(f"--n must be zero or more, got {n_complaints}")
    wards = queries.current_wards(conn)
    if wards.empty:
        raise NoWardSetError("import wards before seeding demo complaints")
    slugs = list(conn.execute(text(
        "SELECT slug FROM category WHERE is_active AND slug <> 'other'"
        " ORDER BY position")).scalars())
    if not slugs:
        raise ValueError("load routing (categories) before seeding demo data")

    frame = _demo_frame(wards, slugs, n_complaints, np.random.default_rng(seed))
    importer = ComplaintImporter(conn, "the demo seed")
    importer.stage(frame)
    n_new, _ = importer.finish()
    return n_new


def _demo_frame(wards, slugs, n, rng) -> pd.DataFrame:
    area = shapely.union_all(wards.geometry.values)
    n_hot = int(n * HOTSPOT_SHARE)
    lon, lat = _background_points(area, n - n_hot, rng)
    hot_lon, hot_lat, hot_slug = _hotspot_points(area, slugs, n_hot, rng)
    category = np.concatenate([rng.choice(slugs, n - n_hot), hot_slug])
    now = datetime.now(UTC)
    age_days = rng.exponential(HISTORY_DAYS / 3, n).clip(0, HISTORY_DAYS)
    created = pd.to_datetime([now - timedelta(days=float(d)) for d in age_days])
    status, closed = _statuses(age_days, created, rng)
    return pd.DataFrame({
        "line_no": np.arange(1, n + 1),
        "external_id": [f"demo-{i:06d}" for i in range(1, n + 1)],
        "category_slug": category, "source_category": None,
        "description": rng.choice(DESCRIPTIONS, n), "status": status,
        "created_at": created, "closed_at": closed,
        "lon": np.concatenate([lon, hot_lon]).round(6),
        "lat": np.concatenate([lat, hot_lat]).round(6),
    })


def _background_points(area, n, rng):
    minx, miny, maxx, maxy = area.bounds
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x = rng.uniform(minx, maxx, 2 * n + 10)
        y = rng.uniform(miny, maxy, 2 * n + 10)
        inside = shapely.contains_xy(area, x, y)
        lon, lat = np.concatenate([lon, x[inside]]), np.concatenate([lat, y[inside]])
    return lon[:n], lat[:n]


def _hotspot_points(area, slugs, n, rng):
    centre_lon, centre_lat = _background_points(area, N_HOTSPOTS, rng)
    centre_slug = rng.choice(slugs, N_HOTSPOTS)
    weights = rng.dirichlet(np.ones(N_HOTSPOTS))
    which = rng.choice(N_HOTSPOTS, n, p=weights)
    spread = HOTSPOT_SPREAD_M / METRES_PER_DEGREE
    lon = centre_lon[which] + rng.normal(0, spread, n)
    lat = centre_lat[which] + rng.normal(0, spread, n)
    outside = ~shapely.contains_xy(area, lon, lat)
    lon[outside], lat[outside] = centre_lon[which[outside]], centre_lat[which[outside]]
    return lon, lat, centre_slug[which]


def _statuses(age_days, created, rng):
    n = len(age_days)
    done = rng.random(n) < np.clip(age_days / 30, 0.05, 0.92)
    open_status = rng.choice(["submitted", "acknowledged", "in_progress"], n,
                             p=[0.4, 0.3, 0.3])
    closed_status = rng.choice(["resolved", "closed", "rejected", "duplicate"], n,
                               p=[0.55, 0.35, 0.05, 0.05])
    status = np.where(done, closed_status, open_status)
    took_days = rng.exponential(5, n) * np.minimum(age_days, 30) / 30
    # A complaint filed d days ago was closed within those d days, not later.
    took = pd.to_timedelta(np.minimum(took_days, age_days), unit="D")
    closed = pd.Series(created + took).where(done)
    return status, closed
