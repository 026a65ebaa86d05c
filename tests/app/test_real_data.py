"""Acceptance: real wards and real 311 complaints through the whole import.

Boston 2015 (96,525 requests, 22 wards) and a NYC sample (3,771 requests, 71
community districts). Both sources label each request with its own ward or
district, so the spatial join can be scored against them.

Each city is imported once per module: the fixture empties the database,
runs the CLI and keeps what the tests look at, so the tests read no table
that the other city's fixture may since have replaced.
"""

from __future__ import annotations

import csv
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.app.import_helpers import (
    build_app,
    cli_runner,
    dispose,
    read_rejects,
    summary_counts,
    truncate_all,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROUTING = REPO / "data" / "routing" / "default.toml"
BOSTON_MAP = REPO / "data" / "category-maps" / "boston_311.csv"
BOSTON_OPTIONS = (
    "--lon-col", "LONGITUDE", "--lat-col", "LATITUDE", "--category-col", "TYPE",
    "--created-col", "OPEN_DT", "--closed-col", "CLOSED_DT",
    "--status-col", "CASE_STATUS", "--id-col", "CASE_ENQUIRY_ID",
    "--description-col", "CASE_TITLE", "--tz", "America/New_York",
    "--category-map", str(BOSTON_MAP), "--no-progress",
)
NYC_OPTIONS = (
    "--lon-col", "longitude", "--lat-col", "latitude",
    "--category-col", "complaint_type", "--created-col", "created_date",
    "--closed-col", "closed_date", "--status-col", "status",
    "--id-col", "unique_key", "--tz", "America/New_York", "--no-progress",
)
BOROUGH_DIGIT = {"MANHATTAN": 1, "BRONX": 2, "BROOKLYN": 3, "QUEENS": 4,
                 "STATEN ISLAND": 5}


@dataclass
class CityImport:
    """What one city's import printed, rejected and stored."""

    source: list[dict[str, str]]
    output: str
    rejects: list[dict[str, str]]
    stored: dict[str, dict]
    second_output: str = ""
    n_after_second: int = 0


@pytest.fixture(scope="module")
def real_cli(database_url, engine):
    """A CLI on an empty database, emptied again after the module."""
    app = build_app(database_url)
    truncate_all(engine)
    yield cli_runner(app)
    truncate_all(engine)
    dispose(app)


def load_city(cli, engine, wards: Path, code_field: str) -> None:
    truncate_all(engine)
    for args in (("wards", "import", str(wards), "--code-field", code_field),
                 ("routing", "load", str(DEFAULT_ROUTING))):
        result = cli(*args)
        assert result.exit_code == 0, result.output


def import_city(cli, source: Path, options: tuple[str, ...], rejects: Path):
    result = cli("complaints", "import", str(source), *options,
                 "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    return result.output


def stored_by_external_id(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.external_id, w.ward_code, cat.slug AS category,"
            " c.source_category, c.status, c.created_at"
            " FROM complaint c JOIN ward w USING (ward_id)"
            " JOIN category cat USING (category_id)")).mappings()
        return {row["external_id"]: dict(row) for row in rows}


def read_source(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def boston(real_cli, engine, shared_data, tmp_path_factory):
    """Boston wards, default routing, and the 2015 requests imported twice."""
    folder = tmp_path_factory.mktemp("boston")
    source = shared_data / "311" / "boston_311_2015.csv.gz"
    load_city(real_cli, engine, shared_data / "boundaries" / "boston_wards.geojson",
              "WARD")
    output = import_city(real_cli, source, BOSTON_OPTIONS, folder / "first.csv")
    city = CityImport(read_source(source), output,
                      read_rejects(folder / "first.csv"),
                      stored_by_external_id(engine))
    city.second_output = import_city(real_cli, source, BOSTON_OPTIONS,
                                     folder / "second.csv")
    with engine.connect() as conn:
        city.n_after_second = conn.execute(text(
            "SELECT count(*) FROM complaint")).scalar_one()
    return city


@pytest.fixture(scope="module")
def nyc(real_cli, engine, shared_data, tmp_path_factory):
    """NYC community districts, default routing and the 311 sample."""
    folder = tmp_path_factory.mktemp("nyc")
    source = shared_data / "311" / "nyc_311_sample.csv"
    load_city(real_cli, engine,
              shared_data / "boundaries" / "nyc_community_districts.geojson",
              "BoroCD")
    output = import_city(real_cli, source, NYC_OPTIONS, folder / "rejects.csv")
    return CityImport(read_source(source), output,
                      read_rejects(folder / "rejects.csv"),
                      stored_by_external_id(engine))


def assert_every_row_accounted_for(city: CityImport, id_column: str) -> None:
    """Each source row is stored or rejected with a reason, never both."""
    counts = summary_counts(city.output)
    assert counts["rows read"] == len(city.source)
    assert counts["imported"] + counts["rejected"] == counts["rows read"]
    assert counts["already present"] == 0
    assert len(city.rejects) == counts["rejected"]
    assert len(city.stored) == counts["imported"]
    assert all(r["reason"] for r in city.rejects)

    rejected_lines = {int(r["line"]) for r in city.rejects}
    assert len(rejected_lines) == len(city.rejects)
    for line, row in enumerate(city.source, start=2):
        imported = row[id_column] in city.stored
        assert imported != (line in rejected_lines), (line, row[id_column])


def agreement(pairs: list[tuple[str, str]]) -> float:
    return sum(found == expected for found, expected in pairs) / len(pairs)


def boston_ward_label(label: str) -> str | None:
    """'Ward 5' and '05' name ward '5'; an empty label names none."""
    match = re.fullmatch(r"(?:Ward )?0*(\d+)", label.strip())
    return match.group(1) if match else None


def nyc_district_label(board: str) -> str | None:
    """'12 MANHATTAN' is district 112; 'Unspecified ...' is no district."""
    match = re.fullmatch(r"(\d+) (.+)", board.strip())
    if not match or match.group(2) not in BOROUGH_DIGIT:
        return None
    return str(BOROUGH_DIGIT[match.group(2)] * 100 + int(match.group(1)))


@pytest.mark.slow
def test_boston_every_row_is_imported_or_rejected_with_a_reason(boston):
    assert_every_row_accounted_for(boston, "CASE_ENQUIRY_ID")
    # The README counts 21 requests in the harbour or on the city's edge.
    assert len(boston.rejects) < 100
    assert {r["reason"].split(":")[0] for r in boston.rejects} == {
        "outside every ward"}


@pytest.mark.slow
def test_boston_wards_agree_with_the_records_own_ward_labels(boston):
    pairs = [(boston.stored[row["CASE_ENQUIRY_ID"]]["ward_code"], label)
             for row in boston.source
             if row["CASE_ENQUIRY_ID"] in boston.stored
             and (label := boston_ward_label(row["ward"])) is not None]

    assert len(pairs) > 96_000
    assert agreement(pairs) >= 0.985


@pytest.mark.slow
def test_boston_labels_follow_the_category_map(boston):
    with open(BOSTON_MAP, newline="", encoding="utf-8") as handle:
        mapped = {r["source_category"]: r["category"] for r in csv.DictReader(handle)}

    for complaint in boston.stored.values():
        label = complaint["source_category"]
        assert complaint["category"] == mapped.get(label, "other"), label
    assert "filed under 'other'" in boston.output


@pytest.mark.slow
def test_boston_local_times_and_statuses_are_stored(boston):
    first = boston.source[0]
    stored = boston.stored[first["CASE_ENQUIRY_ID"]]

    # 2015-01-01 00:25:23 in Boston (EST, UTC-5).
    assert first["OPEN_DT"] == "2015-01-01 00:25:23"
    assert stored["created_at"].isoformat() == "2015-01-01T05:25:23+00:00"
    n_open = sum(row["CASE_STATUS"] == "Open" for row in boston.source
                 if row["CASE_ENQUIRY_ID"] in boston.stored)
    statuses = [c["status"] for c in boston.stored.values()]
    assert statuses.count("submitted") == n_open
    assert statuses.count("closed") == len(statuses) - n_open


@pytest.mark.slow
def test_boston_second_import_adds_nothing(boston):
    first = summary_counts(boston.output)

    assert summary_counts(boston.second_output) == {
        "rows read": first["rows read"], "imported": 0,
        "already present": first["imported"], "rejected": first["rejected"]}
    assert f"already present:  {first['imported']:,} (same external id)" in (
        boston.second_output)
    assert boston.n_after_second == first["imported"]


@pytest.mark.slow
def test_nyc_every_row_is_imported_or_rejected_with_a_reason(nyc):
    assert_every_row_accounted_for(nyc, "unique_key")
    assert not [r for r in nyc.rejects if "status" in r["reason"]]


@pytest.mark.slow
def test_nyc_districts_agree_with_community_boards(nyc):
    pairs = [(nyc.stored[row["unique_key"]]["ward_code"], district)
             for row in nyc.source
             if row["unique_key"] in nyc.stored
             and (district := nyc_district_label(row["community_board"]))]

    assert len(pairs) > 3_700
    assert agreement(pairs) >= 0.99
