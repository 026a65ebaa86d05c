"""``wardwatch complaints import`` on the 2x2 grid: A (SW), B (SE), C (NW), D (NE).

Every test loads the grid wards and a small routing file through the CLI,
writes a small CSV to ``tmp_path`` and imports it for real.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.intake import add_event
from app.public_complaint import public_timeline
from tests.app.import_helpers import (
    COLUMN_OPTIONS,
    HEADER,
    IN_A,
    IN_B,
    IN_C,
    IN_D,
    OUTSIDE,
    POTHOLE_SLA_H,
    POTHOLE_SLA_IN_D_H,
    ROUTING_TOML,
    STREETLIGHT_SLA_H,
    TRACKING_ID,
    complaint_row,
    count_rows,
    read_rejects,
    set_up_grid,
    stored_complaints,
    summary_counts,
    write_csv,
    write_grid_wards,
)

OPENED = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def grid(cli, clean_db, tmp_path):
    """Grid wards and ``ROUTING_TOML`` loaded; yields the engine."""
    set_up_grid(cli, tmp_path)
    return clean_db


def run_import(cli, path, *extra: str):
    """Import ``path`` with the ``HEADER`` columns; rejects go beside it."""
    return cli("complaints", "import", str(path), *COLUMN_OPTIONS, "--no-progress",
               "--rejects", str(path.parent / "rejects.csv"), *extra)


def rejects_of(path) -> list[dict[str, str]]:
    return read_rejects(path.parent / "rejects.csv")


def test_good_rows_get_ward_department_and_due_time(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", IN_A, "Pothole"),
        complaint_row("R2", IN_D, "Pothole"),
        complaint_row("R3", IN_B, "Street light not working"),
    ])

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    assert summary_counts(result.output) == {
        "rows read": 3, "imported": 3, "already present": 0, "rejected": 0}
    stored = stored_complaints(grid)
    assert {ref: (c["ward_code"], c["category"], c["department"])
            for ref, c in stored.items()} == {
        "R1": ("A", "pothole", "ROADS"),
        "R2": ("D", "pothole", "WARD"),
        "R3": ("B", "streetlight-out", "LIGHTS"),
    }
    assert stored["R1"]["created_at"] == OPENED
    assert stored["R1"]["due_at"] == OPENED + timedelta(hours=POTHOLE_SLA_H)
    assert stored["R2"]["due_at"] == OPENED + timedelta(hours=POTHOLE_SLA_IN_D_H)
    assert stored["R3"]["due_at"] == OPENED + timedelta(hours=STREETLIGHT_SLA_H)
    assert stored["R1"]["description"] == "Deep hole"


def test_gzip_file_is_read_like_a_plain_one(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv.gz", [
        complaint_row("R1", IN_A), complaint_row("R2", IN_C)])

    # With the progress bar on, which reads positions in the compressed file.
    result = cli("complaints", "import", str(path), *COLUMN_OPTIONS,
                 "--rejects", str(tmp_path / "rejects.csv"))

    assert result.exit_code == 0, result.output
    assert summary_counts(result.output)["imported"] == 2
    assert {c["ward_code"] for c in stored_complaints(grid).values()} == {"A", "C"}


def test_missing_column_is_named_with_the_files_columns(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path, "--lon-col", "longitude")

    assert result.exit_code == 1
    assert "no column 'longitude'" in result.output
    assert "the file's columns are: " + ", ".join(HEADER) in result.output
    assert count_rows(grid, "complaint") == 0


@pytest.mark.parametrize(("bad_row", "reason"), [
    (complaint_row("R2", ("east", IN_A[1])),
     "non-numeric longitude in 'x': 'east'"),
    (complaint_row("R2", (IN_A[0], "")), "missing latitude in 'y'"),
    (complaint_row("R2", ("", "")), "missing longitude in 'x'"),
    (complaint_row("R2", (IN_A[0], "91.5")),
     "latitude out of range in 'y': '91.5'"),
    (complaint_row("R2", ("-181", IN_A[1])),
     "longitude out of range in 'x': '-181'"),
    (complaint_row("R2", opened="01/03/2024 10:00"),
     "bad date in 'opened' (expected ISO 8601 such as 2015-01-31 14:05:00): "
     "'01/03/2024 10:00'"),
    (complaint_row("R2", opened="2024-02-30 10:00:00"), "bad date in 'opened'"),
    (complaint_row("R2", shut="soon", state="Closed"), "bad date in 'shut'"),
    (complaint_row("R2", opened=""), "missing date in 'opened'"),
    (complaint_row("R2", state="Snoozing"), "unknown status in 'state': 'Snoozing'"),
    (complaint_row("R1", IN_B), "duplicate id in 'ref': 'R1' already on line 2"),
    (complaint_row("R2", kind=" "), "missing category in 'kind'"),
    (complaint_row("R2", OUTSIDE), "outside every ward"),
], ids=["non-numeric lon", "missing lat", "missing both", "lat out of range",
        "lon out of range", "bad date", "impossible date", "bad closing date",
        "missing date", "unknown status", "duplicate id", "missing category",
        "outside every ward"])
def test_bad_row_is_rejected_with_line_and_reason(cli, grid, tmp_path, bad_row,
                                                  reason):
    path = write_csv(tmp_path / "complaints.csv", [complaint_row("R1"), bad_row])

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    assert summary_counts(result.output) == {
        "rows read": 2, "imported": 1, "already present": 0, "rejected": 1}
    assert f"(written to {tmp_path / 'rejects.csv'})" in result.output
    [rejected] = rejects_of(path)
    assert rejected["line"] == "3"
    assert reason in rejected["reason"]
    assert rejected["ref"] == bad_row[0]
    assert list(stored_complaints(grid)) == ["R1"]


def test_point_outside_every_ward_names_the_coordinate_columns(cli, grid,
                                                               tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [complaint_row("R1", OUTSIDE)])

    result = run_import(cli, path)

    [rejected] = rejects_of(path)
    assert "'x'" in rejected["reason"] and "'y'" in rejected["reason"]
    assert (float(rejected["x"]), float(rejected["y"])) == tuple(map(float, OUTSIDE))
    assert "  1 outside every ward" in result.output


def test_rejects_keep_each_bad_line_and_the_summary_counts_reasons(cli, grid,
                                                                   tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1"),
        complaint_row("R2", opened="yesterday"),
        complaint_row("R3", IN_D),
        complaint_row("R4", opened="tomorrow"),
        complaint_row("R5", ("x", "y")),
    ])

    result = run_import(cli, path)

    assert summary_counts(result.output) == {
        "rows read": 5, "imported": 2, "already present": 0, "rejected": 3}
    assert [(r["line"], r["ref"]) for r in rejects_of(path)] == [
        ("3", "R2"), ("5", "R4"), ("6", "R5")]
    # Each reason is counted once, without the offending value.
    assert re.search(r"^  2 bad date in 'opened' \(expected ISO 8601 such as "
                     r"2015-01-31 14:05:00\)$", result.output, re.MULTILINE)
    assert re.search(r"^  1 non-numeric longitude in 'x'$", result.output,
                     re.MULTILINE)


def test_unknown_category_is_filed_under_other_keeping_its_label(cli, grid,
                                                                  tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", kind="Broken bench"),
        complaint_row("R2", kind="Broken bench"),
        complaint_row("R3", kind="Stray cattle"),
        complaint_row("R4", kind="pothole"),
    ])

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    stored = stored_complaints(grid)
    assert {ref: (c["category"], c["source_category"])
            for ref, c in stored.items()} == {
        "R1": ("other", "Broken bench"), "R2": ("other", "Broken bench"),
        "R3": ("other", "Stray cattle"), "R4": ("pothole", "pothole"),
    }
    assert stored["R1"]["department"] == "WARD"
    assert ("filed under 'other': 3 rows whose category matched none of ours, "
            "e.g. 'Broken bench' (2), 'Stray cattle' (1)") in result.output


def test_our_own_category_names_match_without_a_map(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", kind="STREET LIGHT NOT WORKING"),
        complaint_row("R2", kind="Streetlight-Out"),
    ])

    run_import(cli, path)

    assert {c["category"] for c in stored_complaints(grid).values()} == {
        "streetlight-out"}


def test_category_map_matches_labels_ignoring_case(cli, grid, tmp_path):
    category_map = tmp_path / "map.csv"
    category_map.write_text("source_category,category\n"
                            "Road Hole,pothole\n"
                            "\"Lamp out, whole street\",streetlight-out\n")
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", kind="Road Hole"),
        complaint_row("R2", kind="ROAD HOLE"),
        complaint_row("R3", kind="  road hole "),
        complaint_row("R4", kind="lamp out, whole street"),
        complaint_row("R5", kind="Road Holes"),
    ])

    result = run_import(cli, path, "--category-map", str(category_map))

    assert result.exit_code == 0, result.output
    stored = stored_complaints(grid)
    assert {ref: c["category"] for ref, c in stored.items()} == {
        "R1": "pothole", "R2": "pothole", "R3": "pothole",
        "R4": "streetlight-out", "R5": "other"}
    assert stored["R2"]["source_category"] == "ROAD HOLE"
    assert stored["R3"]["source_category"] == "road hole"


def test_category_map_naming_an_unknown_slug_is_refused(cli, grid, tmp_path):
    category_map = tmp_path / "map.csv"
    category_map.write_text("source_category,category\n"
                            "Road Hole,pothole\nGraffiti,graffiti\n")
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path, "--category-map", str(category_map))

    assert result.exit_code == 1
    assert "maps to categories we do not have: graffiti" in result.output
    assert count_rows(grid, "complaint") == 0


def test_category_map_without_its_columns_is_refused(cli, grid, tmp_path):
    category_map = tmp_path / "map.csv"
    category_map.write_text("label,slug\nRoad Hole,pothole\n")
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path, "--category-map", str(category_map))

    assert result.exit_code == 1
    assert "missing category, source_category" in result.output


def test_naive_times_are_read_in_the_given_zone(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", opened="2024-03-01 10:00:00",
                      shut="2024-03-02T18:15:30", state="Closed"),
        complaint_row("R2", opened="2024-03-01"),
    ])

    run_import(cli, path, "--tz", "Asia/Kolkata")

    stored = stored_complaints(grid)
    assert stored["R1"]["created_at"] == datetime(2024, 3, 1, 4, 30, tzinfo=UTC)
    assert stored["R1"]["resolved_at"] == datetime(2024, 3, 2, 12, 45, 30,
                                                   tzinfo=UTC)
    assert stored["R2"]["created_at"] == datetime(2024, 2, 29, 18, 30, tzinfo=UTC)


def test_explicit_offsets_win_over_the_given_zone(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1", opened="2024-03-01T10:00:00+02:00"),
        complaint_row("R2", opened="2024-03-01 10:00:00Z"),
        complaint_row("R3", opened="2024-03-01 10:00:00-0500"),
        complaint_row("R4", opened="2024-03-01 10:00:00"),
    ])

    run_import(cli, path, "--tz", "Asia/Kolkata")

    created = {ref: c["created_at"] for ref, c in stored_complaints(grid).items()}
    assert created == {
        "R1": datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        "R2": datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        "R3": datetime(2024, 3, 1, 15, 0, tzinfo=UTC),
        "R4": datetime(2024, 3, 1, 4, 30, tzinfo=UTC),
    }


def test_times_without_tz_option_are_utc(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [complaint_row("R1")])

    run_import(cli, path)

    assert stored_complaints(grid)["R1"]["created_at"] == OPENED


def test_unknown_time_zone_is_refused_by_name(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path, "--tz", "Mars/Olympus_Mons")

    assert result.exit_code == 1
    assert "unknown time zone 'Mars/Olympus_Mons'" in result.output
    assert count_rows(grid, "complaint") == 0


@pytest.mark.parametrize(("state", "shut", "status"), [
    ("Open", "", "submitted"),
    ("NEW", "", "submitted"),
    ("Assigned", "", "acknowledged"),
    ("In Progress", "", "in_progress"),
    ("Closed", "2024-03-02 09:00:00", "closed"),
    ("fixed", "2024-03-02 09:00:00", "resolved"),
    ("", "2024-03-02 09:00:00", "closed"),
    ("", "", "submitted"),
])
def test_source_status_words_become_our_statuses(cli, grid, tmp_path, state,
                                                 shut, status):
    path = write_csv(tmp_path / "complaints.csv",
                     [complaint_row("R1", state=state, shut=shut)])

    run_import(cli, path)

    assert stored_complaints(grid)["R1"]["status"] == status


def test_second_import_adds_nothing_and_says_already_present(cli, grid,
                                                             tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("R1"), complaint_row("R2", IN_D, state="Closed",
                                           shut="2024-03-03 08:00:00")])
    run_import(cli, path)
    before = stored_complaints(grid)
    n_events = count_rows(grid, "complaint_event")

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    assert summary_counts(result.output) == {
        "rows read": 2, "imported": 0, "already present": 2, "rejected": 0}
    assert "already present:  2 (same external id)" in result.output
    assert stored_complaints(grid) == before
    assert count_rows(grid, "complaint_event") == n_events


def test_new_rows_of_a_grown_file_are_added_on_reimport(cli, grid, tmp_path):
    rows = [complaint_row("R1"), complaint_row("R2", IN_B)]
    run_import(cli, write_csv(tmp_path / "complaints.csv", rows))

    result = run_import(cli, write_csv(tmp_path / "complaints.csv",
                                       [*rows, complaint_row("R3", IN_C)]))

    assert summary_counts(result.output) == {
        "rows read": 3, "imported": 1, "already present": 2, "rejected": 0}
    assert sorted(stored_complaints(grid)) == ["R1", "R2", "R3"]


def test_import_without_wards_changes_nothing(cli, clean_db, tmp_path):
    routing_file = tmp_path / "routing.toml"
    routing_file.write_text(ROUTING_TOML)
    cli("routing", "load", str(routing_file))
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path)

    assert result.exit_code == 1
    assert "no ward boundaries are loaded" in result.output
    assert count_rows(clean_db, "complaint") == 0
    assert count_rows(clean_db, "complaint_event") == 0
    assert not (tmp_path / "rejects.csv").exists()


def test_clean_reimport_removes_an_earlier_rejects_file(cli, grid, tmp_path):
    bad = complaint_row("R9", ("east", "19.005"))
    run_import(cli, write_csv(tmp_path / "complaints.csv", [bad]))
    assert (tmp_path / "rejects.csv").exists()

    run_import(cli, write_csv(tmp_path / "complaints.csv", [complaint_row()]))

    assert not (tmp_path / "rejects.csv").exists()


def test_failed_import_leaves_no_rejects_file(cli, clean_db, tmp_path):
    path = write_csv(tmp_path / "complaints.csv",
                     [complaint_row("R9", ("east", "19.005"))])

    result = run_import(cli, path)

    assert result.exit_code == 1
    assert not (tmp_path / "rejects.csv").exists()


def test_import_without_routing_changes_nothing(cli, clean_db, tmp_path):
    cli("wards", "import", str(write_grid_wards(tmp_path / "grid.geojson")),
        "--code-field", "code")
    path = write_csv(tmp_path / "complaints.csv", [complaint_row()])

    result = run_import(cli, path)

    assert result.exit_code == 1
    assert "routing load" in result.output
    assert count_rows(clean_db, "complaint") == 0


def test_malformed_row_fails_the_whole_import(cli, grid, tmp_path):
    run_import(cli, write_csv(tmp_path / "first.csv", [complaint_row("R1")]))
    path = write_csv(tmp_path / "complaints.csv", [complaint_row("R2")])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('R3,"72.805,19.005,Pothole,2024-03-01 10:00:00,,Open,\n')

    result = run_import(cli, path)

    assert result.exit_code == 1
    assert "malformed CSV" in result.output
    assert list(stored_complaints(grid)) == ["R1"]


def test_each_complaint_gets_its_own_tracking_id(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv",
                     [complaint_row(f"R{i}") for i in range(50)])

    run_import(cli, path)

    tracking_ids = [c["tracking_id"] for c in stored_complaints(grid).values()]
    assert len(tracking_ids) == 50
    assert len(set(tracking_ids)) == 50
    assert all(re.fullmatch(TRACKING_ID, t) for t in tracking_ids)


def test_imported_complaints_get_public_timelines(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [
        complaint_row("OPEN"),
        complaint_row("SHUT", state="Closed", shut="2024-03-04 12:00:00"),
    ])

    run_import(cli, path)

    with grid.connect() as conn:
        ids = dict(conn.execute(text(
            "SELECT external_id, complaint_id FROM complaint")).all())
        timelines = {ref: [(e["kind"], e["status"], e["created_at"])
                           for e in public_timeline(conn, ids[ref])]
                     for ref in ("OPEN", "SHUT")}
        n_events = conn.execute(text(
            "SELECT count(*) FROM complaint_event")).scalar_one()
    closed_at = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
    assert timelines == {
        "OPEN": [("imported", "submitted", OPENED)],
        "SHUT": [("imported", "submitted", OPENED),
                 ("status_change", "closed", closed_at)],
    }
    # The timeline comes from the complaint rows, not from stored events.
    assert n_events == 0


def test_later_events_follow_the_imported_history(cli, grid, tmp_path):
    run_import(cli, write_csv(tmp_path / "complaints.csv", [
        complaint_row("SHUT", state="Closed", shut="2024-03-04 12:00:00")]))
    reopened = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
    with grid.begin() as conn:
        complaint_id = conn.execute(text(
            "UPDATE complaint SET status = 'in_progress', resolved_at = NULL"
            " RETURNING complaint_id")).scalar_one()
        add_event(conn, complaint_id, "status_change", status="in_progress",
                  at=reopened)

    with grid.connect() as conn:
        timeline = [(e["kind"], e["status"])
                    for e in public_timeline(conn, complaint_id)]

    assert timeline == [("imported", "submitted"), ("status_change", "closed"),
                        ("status_change", "in_progress")]


def test_rejects_file_defaults_to_the_working_directory(cli, grid, tmp_path,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_csv(tmp_path / "march.csv.gz", [complaint_row("R1", OUTSIDE)])

    result = cli("complaints", "import", str(path), *COLUMN_OPTIONS,
                 "--no-progress")

    assert "(written to march.rejects.csv)" in result.output
    assert [r["ref"] for r in read_rejects(tmp_path / "march.rejects.csv")] == [
        "R1"]


def test_swapped_coordinate_columns_get_a_hint(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv",
                     [complaint_row("R1", IN_A), complaint_row("R2", IN_B)])

    result = cli("complaints", "import", str(path), *COLUMN_OPTIONS,
                 "--lon-col", "y", "--lat-col", "x", "--no-progress",
                 "--rejects", str(tmp_path / "rejects.csv"))

    assert summary_counts(result.output)["rejected"] == 2
    assert "are the longitude and latitude columns swapped" in result.output


def test_file_with_only_a_header_imports_nothing(cli, grid, tmp_path):
    path = write_csv(tmp_path / "complaints.csv", [])

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    assert summary_counts(result.output) == {
        "rows read": 0, "imported": 0, "already present": 0, "rejected": 0}


def test_empty_file_is_refused_for_want_of_columns(cli, grid, tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_bytes(b"")

    result = run_import(cli, path)

    assert result.exit_code == 1
    assert "the file's columns are: (none)" in result.output


def test_byte_order_mark_does_not_hide_the_first_column(cli, grid, tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(complaint_row("R1")) + "\n",
                    encoding="utf-8-sig")

    result = run_import(cli, path)

    assert result.exit_code == 0, result.output
    assert list(stored_complaints(grid)) == ["R1"]


def _complaint_catalogue(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        indexes = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE tablename = 'complaint' ORDER BY indexname")).all()
        constraints = conn.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'complaint'::regclass ORDER BY conname")).all()
    return indexes, constraints


def test_bulk_mode_rebuilds_every_index_and_key(cli, grid, tmp_path,
                                                monkeypatch):
    from app import bulkload

    monkeypatch.setattr(bulkload, "BULK_MIN_ROWS", 1)
    before = _complaint_catalogue(grid)
    rows = [complaint_row(f"R{i}", where) for i, where in
            enumerate([IN_A, IN_B, IN_C, IN_D])]

    result = run_import(cli, write_csv(tmp_path / "complaints.csv", rows))

    assert result.exit_code == 0, result.output
    assert "bulk mode: complaint indexes were rebuilt" in result.output
    assert _complaint_catalogue(grid) == before
    assert sorted(stored_complaints(grid)) == ["R0", "R1", "R2", "R3"]
    with pytest.raises(IntegrityError, match="complaint_external_id_key"), \
            grid.begin() as conn:
        conn.execute(text("UPDATE complaint SET external_id = 'R0'"
                          " WHERE external_id = 'R1'"))


def test_small_import_into_a_full_table_stays_online(cli, grid, tmp_path,
                                                     monkeypatch):
    from app import bulkload

    monkeypatch.setattr(bulkload, "BULK_MIN_ROWS", 1)
    run_import(cli, write_csv(tmp_path / "first.csv", [
        complaint_row(f"R{i}") for i in range(10)]))
    with grid.begin() as conn:
        conn.execute(text("ANALYZE complaint"))

    result = run_import(cli, write_csv(tmp_path / "second.csv",
                                       [complaint_row("R99")]))

    assert result.exit_code == 0, result.output
    assert "bulk mode" not in result.output
    assert "R99" in stored_complaints(grid)
