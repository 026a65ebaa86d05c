"""Schema: migrations from a plain libpq URL, and constraints that keep bad rows out."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from app.config import normalise_database_url
from tests.factories import make_routing

WARDWATCH = Path(sys.executable).with_name("wardwatch")


@pytest.fixture
def empty_database():
    """A brand-new database without PostGIS; yields its plain libpq URL."""
    admin_url = normalise_database_url(os.environ["WARDWATCH_TEST_DATABASE_URL"])
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"wardwatch_upgrade_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url.replace("postgresql+psycopg://", "postgresql://", 1)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_db_upgrade_creates_postgis_and_tables_twice_over(empty_database):
    env = {**os.environ, "WARDWATCH_DATABASE_URL": empty_database,
           "WARDWATCH_ENV": "development"}
    for _ in range(2):
        done = subprocess.run([WARDWATCH, "db", "upgrade"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "database is up to date" in done.stdout

    engine = create_engine(normalise_database_url(empty_database))
    with engine.connect() as conn:
        tables = set(conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )).scalars())
        postgis = conn.execute(text("SELECT postgis_version()")).scalar_one()
    engine.dispose()
    assert {"ward", "ward_set", "complaint", "complaint_event", "category",
            "department", "routing_rule", "staff_user"} <= tables
    assert postgis.startswith("3.")


def _insert_ward(conn, wkt: str, srid: int = 4326) -> None:
    set_id = conn.execute(text(
        "INSERT INTO ward_set (version, source, content_hash, is_current)"
        " VALUES (99, 't', 'h', false) RETURNING ward_set_id")).scalar_one()
    conn.execute(text(
        "INSERT INTO ward (ward_set_id, ward_code, ward_name, geom, area_m2)"
        " VALUES (:s, 'X', 'X', ST_GeomFromText(:wkt, :srid), 1)"),
        {"s": set_id, "wkt": wkt, "srid": srid})


def test_invalid_ward_geometry_is_refused(db_conn):
    bow_tie = "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))"
    with pytest.raises(DBAPIError, match="ward_geom_valid"):
        _insert_ward(db_conn, bow_tie)


def test_ward_in_another_srid_is_refused(db_conn):
    square = "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)))"
    with pytest.raises(DBAPIError, match="SRID"):
        _insert_ward(db_conn, square, srid=3857)


def _complaint_sql(status: str = "submitted", ward_id: str = ":ward") -> str:
    return (
        "INSERT INTO complaint (tracking_id, category_id, description, geom,"
        " ward_id, department_id, status, channel, created_at, updated_at,"
        f" due_at, n_supporters) VALUES ('T', :cat, '', ST_SetSRID("
        f" ST_MakePoint(72.805, 19.005), 4326), {ward_id}, :dept, '{status}',"
        " 'web', now(), now(), now(), 0)"
    )


def test_unknown_status_is_refused(db_conn, ward_grid):
    ids = make_routing(db_conn)
    ward = db_conn.execute(text("SELECT min(ward_id) FROM ward")).scalar_one()
    with pytest.raises(DBAPIError, match="complaint_status_known"):
        db_conn.execute(text(_complaint_sql(status="lost")), {
            "cat": ids["pothole"], "dept": ids["roads"], "ward": ward})


def test_complaint_needs_an_existing_ward(db_conn, ward_grid):
    ids = make_routing(db_conn)
    with pytest.raises(DBAPIError, match="foreign key"):
        db_conn.execute(text(_complaint_sql(ward_id="987654")), {
            "cat": ids["pothole"], "dept": ids["roads"]})
