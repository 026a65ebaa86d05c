"""Small files and queries shared by the CLI tests of import, export and demo.

The tests drive the real ``wardwatch`` command, so wards and routing are set
up the way an administrator would: from a GeoJSON and a TOML file on disk.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import shapely
from flask.cli import ScriptInfo
from sqlalchemy import Engine, text

from app import create_app
from app.cli import main
from app.config import TestingConfig
from tests.factories import GRID_ORIGIN, GRID_STEP

X0, Y0 = GRID_ORIGIN

#: Categories in ``ROUTING_TOML``, with their department and SLA in hours.
POTHOLE_SLA_H = 48
POTHOLE_SLA_IN_D_H = 12
STREETLIGHT_SLA_H = 72

ROUTING_TOML = f"""\
[[department]]
code = "ROADS"
name = "Roads"

[[department]]
code = "LIGHTS"
name = "Street lighting"

[[department]]
code = "WARD"
name = "Ward office"

[[group]]
slug = "roads"
name = "Roads"

[[group]]
slug = "other"
name = "Other"

[[category]]
slug = "pothole"
name = "Pothole"
group = "roads"
department = "ROADS"
sla_hours = {POTHOLE_SLA_H}

[[category]]
slug = "streetlight-out"
name = "Street light not working"
group = "roads"
department = "LIGHTS"
sla_hours = {STREETLIGHT_SLA_H}

[[category]]
slug = "other"
name = "Other"
group = "other"
department = "WARD"
sla_hours = 72

[[rule]]
category = "pothole"
ward = "D"
department = "WARD"
sla_hours = {POTHOLE_SLA_IN_D_H}
"""

#: Column names of the small complaint files; deliberately not our own names.
HEADER = ("ref", "x", "y", "kind", "opened", "shut", "state", "details")

#: ``wardwatch complaints import`` options naming the ``HEADER`` columns.
COLUMN_OPTIONS = (
    "--id-col", "ref", "--lon-col", "x", "--lat-col", "y",
    "--category-col", "kind", "--created-col", "opened", "--closed-col", "shut",
    "--status-col", "state", "--description-col", "details",
)

TRACKING_ID = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


def at(dx: float, dy: float) -> tuple[str, str]:
    """Text lon, lat ``dx``, ``dy`` grid steps from the grid's SW corner."""
    return f"{X0 + dx * GRID_STEP:.6f}", f"{Y0 + dy * GRID_STEP:.6f}"


#: A point well inside each ward of the 2x2 grid, and one east of ward B.
IN_A, IN_B, IN_C, IN_D = at(0.5, 0.5), at(1.5, 0.5), at(0.5, 1.5), at(1.5, 1.5)
OUTSIDE = at(2.5, 0.5)


def complaint_row(ref: str = "R1", where: tuple[str, str] = IN_A,
                  kind: str = "Pothole", opened: str = "2024-03-01 10:00:00",
                  shut: str = "", state: str = "Open",
                  details: str = "Deep hole") -> list[str]:
    """One source row in ``HEADER`` order; override any field by name."""
    return [ref, *where, kind, opened, shut, state, details]


def write_grid_wards(path: Path) -> Path:
    """Write the 2x2 grid A (SW), B (SE), C (NW), D (NE) as GeoJSON."""
    corners = {"A": (0, 0), "B": (1, 0), "C": (0, 1), "D": (1, 1)}
    features = []
    for code, (i, j) in corners.items():
        x, y = X0 + i * GRID_STEP, Y0 + j * GRID_STEP
        box = shapely.box(x, y, x + GRID_STEP, y + GRID_STEP)
        features.append({"type": "Feature",
                         "properties": {"code": code, "name": f"Ward {code}"},
                         "geometry": shapely.geometry.mapping(box)})
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": features}))
    return path


def write_csv(path: Path, rows: list[list[str]],
              header: tuple[str, ...] = HEADER) -> Path:
    """Write ``rows`` under ``header``; gzip it when ``path`` ends in .gz."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_rejects(path: Path) -> list[dict[str, str]]:
    """Rows of a rejects file; none when the import wrote no file."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def set_up_grid(cli, folder: Path) -> None:
    """Load the 2x2 grid wards and ``ROUTING_TOML`` through the CLI."""
    wards = cli("wards", "import", str(write_grid_wards(folder / "grid.geojson")),
                "--code-field", "code", "--name-field", "name")
    assert wards.exit_code == 0, wards.output
    routing_file = folder / "routing.toml"
    routing_file.write_text(ROUTING_TOML)
    loaded = cli("routing", "load", str(routing_file))
    assert loaded.exit_code == 0, loaded.output


def stored_complaints(engine: Engine) -> dict[str, dict]:
    """Stored complaints by external id, with ward, department and category."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.external_id, c.tracking_id, c.status, c.source_category,"
            " c.description, c.created_at, c.due_at, c.resolved_at,"
            " w.ward_code, d.code AS department, cat.slug AS category"
            " FROM complaint c JOIN ward w USING (ward_id)"
            " JOIN department d USING (department_id)"
            " JOIN category cat USING (category_id)")).mappings().all()
    return {row["external_id"]: dict(row) for row in rows}


def summary_counts(output: str) -> dict[str, int]:
    """The counts of an import summary: rows read, imported, and so on."""
    found = re.findall(r"^(rows read|imported|already present|rejected):\s+([\d,]+)",
                       output, re.MULTILINE)
    return {label: int(n.replace(",", "")) for label, n in found}


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def truncate_all(engine: Engine) -> None:
    """Empty every table of ours, for fixtures wider than one test."""
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename NOT IN ('alembic_version', 'spatial_ref_sys')"
        )).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def build_app(database_url: str):
    """An app like the ``app`` fixture's, for fixtures wider than one test."""
    config = {k: getattr(TestingConfig, k) for k in dir(TestingConfig)
              if k.isupper()}
    return create_app({**config, "DATABASE_URL": database_url})


def cli_runner(app):
    """Like the ``cli`` fixture, for fixtures with a scope wider than a test."""
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))

    return invoke


def dispose(app) -> None:
    """Close the pooled connections of an app built outside the ``app`` fixture."""
    app.extensions["wardwatch_db"].engine.dispose()
