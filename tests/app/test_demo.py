"""``wardwatch demo seed`` on the Demo City wards and the default routing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.app.import_helpers import count_rows, write_grid_wards

DATA = Path(__file__).resolve().parents[2] / "data"
#: UTM zone 43N, metres; Demo City lies over Mumbai (72.8° E).
METRIC_SRID = 32643
#: A seed whose default history once put resolutions after the present.
SEED_WITH_LATE_CLOSURES = 26


@pytest.fixture
def demo_city(cli, clean_db):
    """Demo City wards and the default routing; yields the engine."""
    wards = cli("wards", "import", str(DATA / "wards" / "demo_wards.geojson"),
                "--code-field", "code", "--name-field", "name")
    assert wards.exit_code == 0, wards.output
    routing = cli("routing", "load", str(DATA / "routing" / "default.toml"))
    assert routing.exit_code == 0, routing.output
    return clean_db


@pytest.fixture
def seeded(cli, demo_city):
    """Demo City with 500 seeded complaints."""
    result = cli("demo", "seed", "--n", "500")
    assert result.exit_code == 0, result.output
    return demo_city


def scalar(engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_seed_adds_n_complaints_then_none(cli, demo_city):
    first = cli("demo", "seed", "--n", "500")
    second = cli("demo", "seed", "--n", "500")

    assert first.exit_code == 0, first.output
    assert "demo complaints: 500 added, 0 already there" in first.output
    assert "demo complaints: 0 added, 500 already there" in second.output
    assert count_rows(demo_city, "complaint") == 500


def test_seeded_statuses_are_mixed(seeded):
    with seeded.connect() as conn:
        statuses = dict(conn.execute(text(
            "SELECT status, count(*) FROM complaint GROUP BY status")).all())

    assert len(statuses) >= 3
    assert statuses.keys() & {"submitted", "acknowledged", "in_progress"}
    assert statuses.keys() & {"resolved", "closed"}


def test_seeded_history_spans_more_than_a_month(seeded):
    span_days = scalar(seeded, "SELECT EXTRACT(EPOCH FROM max(created_at)"
                               " - min(created_at)) / 86400 FROM complaint")

    assert span_days > 30
    assert scalar(seeded, "SELECT count(*) FROM complaint"
                          " WHERE created_at > now()") == 0


def test_seeded_complaints_use_several_categories_and_wards(seeded):
    n_categories = scalar(seeded, "SELECT count(DISTINCT category_id)"
                                  " FROM complaint")
    n_wards = scalar(seeded, "SELECT count(DISTINCT ward_id) FROM complaint")

    assert n_categories >= 5
    assert n_wards >= 12


def test_seeded_complaints_form_clusters(seeded):
    busiest_cell = scalar(seeded, f"""
        SELECT max(n) FROM (
            SELECT count(*) AS n FROM complaint
            GROUP BY floor(ST_X(ST_Transform(geom, {METRIC_SRID})) / 100),
                     floor(ST_Y(ST_Transform(geom, {METRIC_SRID})) / 100)
        ) AS cells""")

    assert busiest_cell >= 10


def test_seeded_complaints_are_routed_and_get_timelines(seeded):
    assert scalar(seeded, "SELECT count(*) FROM complaint c JOIN ward w"
                          " USING (ward_id) JOIN ward_set s USING (ward_set_id)"
                          " WHERE s.is_current") == 500
    assert scalar(seeded, "SELECT count(*) FROM complaint"
                          " WHERE source_status = status") == 500
    assert scalar(seeded, "SELECT count(*) FROM complaint"
                          " WHERE due_at <= created_at") == 0


def test_seed_never_resolves_a_complaint_in_the_future(cli, demo_city):
    result = cli("demo", "seed", "--n", "500", "--seed",
                 str(SEED_WITH_LATE_CLOSURES))

    assert result.exit_code == 0, result.output
    assert scalar(demo_city, "SELECT count(*) FROM complaint"
                             " WHERE resolved_at > now()") == 0
    assert scalar(demo_city, "SELECT count(*) FROM complaint"
                             " WHERE resolved_at < created_at") == 0
    assert scalar(demo_city, "SELECT count(*) FROM complaint WHERE status IN"
                             " ('resolved', 'closed') AND resolved_at IS NULL") == 0


def test_seed_without_wards_is_refused(cli, clean_db):
    cli("routing", "load", str(DATA / "routing" / "default.toml"))

    result = cli("demo", "seed", "--n", "10")

    assert result.exit_code == 1
    assert "import wards before seeding" in result.output
    assert count_rows(clean_db, "complaint") == 0


def test_seed_without_categories_is_refused(cli, clean_db, tmp_path):
    cli("wards", "import", str(write_grid_wards(tmp_path / "grid.geojson")),
        "--code-field", "code")

    result = cli("demo", "seed", "--n", "10")

    assert result.exit_code == 1
    assert "load routing" in result.output


def test_negative_count_is_refused(cli, demo_city):
    result = cli("demo", "seed", "--n", "-5")

    assert result.exit_code == 1
    assert "--n must be zero or more, got -5" in result.output
