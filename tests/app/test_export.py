"""``wardwatch complaints export`` of complaints imported onto the 2x2 grid."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import text

from tests.app.import_helpers import (
    COLUMN_OPTIONS,
    IN_A,
    IN_B,
    IN_C,
    IN_D,
    complaint_row,
    set_up_grid,
    write_csv,
)

PUBLIC_COLUMNS = ("tracking_id", "external_id", "category", "source_category",
                  "status", "created_at", "ward_code", "department", "lon", "lat")
CONTACT_COLUMNS = ("reporter_name", "reporter_email", "reporter_phone")
CONTACT = {"reporter_name": "Asha Kulkarni", "reporter_email": "asha@example.net",
           "reporter_phone": "+91 98200 11223"}

#: external id -> (where, source category, opened, state, shut)
COMPLAINTS = {
    "E1": (IN_A, "Pothole", "2024-03-01 10:00:00", "Open", ""),
    "E2": (IN_B, "Street light not working", "2024-03-02 10:00:00", "Closed",
           "2024-03-03 10:00:00"),
    "E3": (IN_D, "Pothole", "2024-03-03 10:00:00", "In Progress", ""),
    "E4": (IN_C, "Broken bench", "2024-03-05 10:00:00", "Closed",
           "2024-03-06 10:00:00"),
}


@pytest.fixture
def complaints(cli, clean_db, tmp_path):
    """``COMPLAINTS`` imported; E1 carries reporter contact details."""
    set_up_grid(cli, tmp_path)
    rows = [complaint_row(ref, where, kind, opened, shut, state)
            for ref, (where, kind, opened, state, shut) in COMPLAINTS.items()]
    path = write_csv(tmp_path / "complaints.csv", rows)
    imported = cli("complaints", "import", str(path), *COLUMN_OPTIONS,
                   "--no-progress", "--rejects", str(tmp_path / "rejects.csv"))
    assert imported.exit_code == 0, imported.output
    with clean_db.begin() as conn:
        conn.execute(text(
            "UPDATE complaint SET reporter_name = :reporter_name,"
            " reporter_email = :reporter_email, reporter_phone = :reporter_phone"
            " WHERE external_id = 'E1'"), CONTACT)
    return clean_db


def export(cli, tmp_path, *args: str) -> str:
    """Run an export to a file in ``tmp_path``; return the file's text."""
    out = tmp_path / "export.out"
    result = cli("complaints", "export", "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def csv_rows(text_out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text_out)))


def test_csv_has_the_public_columns_and_no_contact_columns(cli, complaints,
                                                           tmp_path):
    header = next(csv.reader(io.StringIO(export(cli, tmp_path))))

    assert set(PUBLIC_COLUMNS) <= set(header)
    assert not set(CONTACT_COLUMNS) & set(header)


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_contact_details_never_leave_the_database(cli, complaints, tmp_path, fmt):
    exported = export(cli, tmp_path, "--format", fmt)

    assert "E1" in exported
    for value in CONTACT.values():
        assert value not in exported
    assert "reporter" not in exported


def test_csv_rows_carry_ward_department_and_position(cli, complaints, tmp_path):
    rows = {row["external_id"]: row for row in csv_rows(export(cli, tmp_path))}

    assert list(rows) == ["E1", "E2", "E3", "E4"]
    assert {ref: (r["ward_code"], r["category"], r["department"], r["status"])
            for ref, r in rows.items()} == {
        "E1": ("A", "pothole", "ROADS", "submitted"),
        "E2": ("B", "streetlight-out", "LIGHTS", "closed"),
        "E3": ("D", "pothole", "WARD", "in_progress"),
        "E4": ("C", "other", "WARD", "closed"),
    }
    assert rows["E4"]["source_category"] == "Broken bench"
    assert rows["E1"]["created_at"] == "2024-03-01T10:00:00+00:00"
    assert rows["E2"]["resolved_at"] == "2024-03-03T10:00:00+00:00"
    assert rows["E1"]["resolved_at"] == ""
    for ref, (where, *_) in COMPLAINTS.items():
        lon, lat = (float(v) for v in where)
        assert float(rows[ref]["lon"]) == pytest.approx(lon, abs=1e-9)
        assert float(rows[ref]["lat"]) == pytest.approx(lat, abs=1e-9)


def test_geojson_is_a_feature_collection_of_points(cli, complaints, tmp_path):
    collection = json.loads(export(cli, tmp_path, "--format", "geojson"))

    assert collection["type"] == "FeatureCollection"
    features = {f["properties"]["external_id"]: f
                for f in collection["features"]}
    assert sorted(features) == ["E1", "E2", "E3", "E4"]
    for ref, (where, *_) in COMPLAINTS.items():
        geometry = features[ref]["geometry"]
        assert geometry["type"] == "Point"
        assert geometry["coordinates"] == pytest.approx(
            [float(v) for v in where], abs=1e-9)
    assert features["E3"]["properties"]["ward_code"] == "D"
    assert features["E3"]["properties"]["department"] == "WARD"


def test_geojson_properties_match_the_csv_columns(cli, complaints, tmp_path):
    by_csv = {r["external_id"]: r for r in csv_rows(export(cli, tmp_path))}
    collection = json.loads(export(cli, tmp_path, "--format", "geojson"))

    for feature in collection["features"]:
        properties = feature["properties"]
        row = by_csv[properties["external_id"]]
        assert set(properties) == set(row) - {"lon", "lat"}
        assert properties["tracking_id"] == row["tracking_id"]
        assert properties["created_at"] == row["created_at"]


@pytest.mark.parametrize(("args", "expected"), [
    (("--ward", "D"), ["E3"]),
    (("--ward", "Z"), []),
    (("--category", "pothole"), ["E1", "E3"]),
    (("--category", "other"), ["E4"]),
    (("--status", "closed"), ["E2", "E4"]),
    (("--status", "in_progress"), ["E3"]),
    (("--since", "2024-03-02"), ["E2", "E3", "E4"]),
    (("--until", "2024-03-02 10:00:00"), ["E1"]),
    (("--since", "2024-03-02", "--until", "2024-03-04"), ["E2", "E3"]),
    (("--category", "pothole", "--ward", "A"), ["E1"]),
    (("--status", "closed", "--since", "2024-03-04"), ["E4"]),
])
def test_filters_choose_the_complaints(cli, complaints, tmp_path, args,
                                       expected):
    rows = csv_rows(export(cli, tmp_path, *args))

    assert [row["external_id"] for row in rows] == expected


def test_geojson_filters_like_csv(cli, complaints, tmp_path):
    collection = json.loads(export(cli, tmp_path, "--format", "geojson",
                                   "--status", "closed"))

    assert [f["properties"]["external_id"] for f in collection["features"]] == [
        "E2", "E4"]


def test_unknown_status_is_refused_without_writing_a_file(cli, complaints,
                                                          tmp_path):
    out = tmp_path / "export.csv"

    result = cli("complaints", "export", "-o", str(out), "--status", "snoozing")

    assert result.exit_code == 1
    assert "unknown status 'snoozing'" in result.output
    assert "submitted" in result.output
    assert not out.exists()


def test_export_writes_to_standard_output_by_default(cli, complaints):
    result = cli("complaints", "export", "--category", "pothole")

    assert result.exit_code == 0, result.output
    assert [r["external_id"] for r in csv_rows(result.stdout)] == ["E1", "E3"]
    assert "exported 2 complaints" in result.stderr


def test_empty_export_is_still_valid(cli, clean_db, tmp_path):
    collection = json.loads(export(cli, tmp_path, "--format", "geojson"))
    header = export(cli, tmp_path, "--format", "csv").splitlines()

    assert collection == {"type": "FeatureCollection", "features": []}
    assert len(header) == 1
