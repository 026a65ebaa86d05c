"""Fixtures: a throwaway PostGIS database, the app, and a 2x2 ward grid.

The test command (``make test``) starts a project-local PostgreSQL and sets
``WARDWATCH_TEST_DATABASE_URL`` to a server where we may create databases.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import main
from app.config import TestingConfig, normalise_database_url
from app.db import upgrade
from tests.factories import make_routing, make_ward_grid

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TABLES = ("idempotency_key", "photo", "supporter", "complaint_event", "complaint",
          "api_key", "rate_limit_window", "routing_rule", "category",
          "department", "staff_user", "ward_part", "ward", "ward_set")


def _admin_url() -> str:
    url = os.environ.get("WARDWATCH_TEST_DATABASE_URL")
    if not url:
        pytest.fail(
            "WARDWATCH_TEST_DATABASE_URL is not set. Run the tests with "
            "'make test', which starts a local PostGIS, or point the variable "
            "at a PostgreSQL server with PostGIS where you may create databases",
            pytrace=False)
    return normalise_database_url(url)


@pytest.fixture(scope="session")
def database_url():
    """URL of a fresh database with the schema, dropped after the session."""
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"wardwatch_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001 - any failure means no database
        pytest.fail(f"cannot create a test database on {admin.url!r}: {err}. "
                    "Is the server running? 'make test' starts one.",
                    pytrace=False)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_conn(engine):
    """A connection whose transaction is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        transaction.rollback()


@pytest.fixture
def clean_db(engine):
    """Empty every table before and after a test that commits (CLI tests)."""
    truncate = text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    with engine.begin() as conn:
        conn.execute(truncate)
    yield engine
    with engine.begin() as conn:
        conn.execute(truncate)


@pytest.fixture
def app(database_url):
    app = create_app({**_testing(), "DATABASE_URL": database_url})
    yield app
    app.extensions["wardwatch_db"].engine.dispose()


def _testing() -> dict:
    return {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(app):
    """Run a ``wardwatch`` command against the test app; returns the Result."""
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke


@pytest.fixture
def ward_grid(db_conn):
    """Four square wards A (SW), B (SE), C (NW), D (NE), each 0.01° wide."""
    return make_ward_grid(db_conn)


@pytest.fixture
def routing(db_conn):
    """Departments, categories and one ward rule, inside the test transaction."""
    return make_routing(db_conn)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder {SHARED_DATA} is missing; it must sit "
                    "beside the checkout", pytrace=False)
    return SHARED_DATA
