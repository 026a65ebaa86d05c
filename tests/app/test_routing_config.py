"""``wardwatch routing load``: the real default file and broken small files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.app.import_helpers import ROUTING_TOML

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "data" / "routing" / "default.toml"

STREETLIGHT_BLOCK = """\
[[category]]
slug = "streetlight-out"
name = "Street light not working"
group = "roads"
department = "LIGHTS"
sla_hours = 72
"""
OTHER_BLOCK = """\
[[category]]
slug = "other"
name = "Other"
group = "other"
department = "WARD"
sla_hours = 72
"""


def edited(old: str, new: str) -> str:
    """``ROUTING_TOML`` with one exact piece of text replaced."""
    assert ROUTING_TOML.count(old) == 1, old
    return ROUTING_TOML.replace(old, new)


def load(cli, tmp_path: Path, content: str, name: str = "routing.toml"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return cli("routing", "load", str(path))


def routing_tables(engine) -> dict[str, list[tuple]]:
    """Everything ``routing load`` writes, for before/after comparisons."""
    queries = {
        "department": "SELECT code, name, email FROM department ORDER BY code",
        "category": "SELECT slug, name, group_slug, sla_hours, is_active,"
                    " default_department_id FROM category ORDER BY slug",
        "routing_rule": "SELECT category_id, ward_code, department_id, sla_hours"
                        " FROM routing_rule ORDER BY category_id, ward_code",
    }
    with engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(text(sql))]
                for table, sql in queries.items()}


def test_default_routing_file_loads_and_reports_counts(cli, clean_db):
    tables = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))

    result = cli("routing", "load", str(DEFAULT_TOML))

    assert result.exit_code == 0, result.output
    assert (f"loaded {len(tables['department'])} departments, "
            f"{len(tables['category'])} categories, "
            f"{len(tables['rule'])} ward rules") in result.output
    stored = routing_tables(clean_db)
    assert len(stored["department"]) == len(tables["department"])
    assert len(stored["routing_rule"]) == len(tables["rule"])
    assert {row[0] for row in stored["category"]} == {
        c["slug"] for c in tables["category"]}
    assert all(row[4] for row in stored["category"])


def test_default_routing_keeps_category_attributes(cli, clean_db):
    cli("routing", "load", str(DEFAULT_TOML))

    with clean_db.connect() as conn:
        attributes = conn.execute(text(
            "SELECT attributes FROM category WHERE slug = 'pothole'")).scalar_one()
    assert [a["code"] for a in attributes] == ["approx_width_m", "on_main_road"]


def test_loading_the_same_file_twice_changes_nothing(cli, clean_db):
    cli("routing", "load", str(DEFAULT_TOML))
    before = routing_tables(clean_db)

    result = cli("routing", "load", str(DEFAULT_TOML))

    assert result.exit_code == 0, result.output
    assert "retired" not in result.output
    assert routing_tables(clean_db) == before


@pytest.mark.parametrize(("content", "message"), [
    (edited('department = "LIGHTS"', 'department = "ELECTRICAL"'),
     "[[category]] 'streetlight-out' names unknown department 'ELECTRICAL'"),
    (edited('category = "pothole"', 'category = "potholes"'),
     "[[rule]] 'potholes' names unknown category 'potholes'"),
    (edited('ward = "D"\ndepartment = "WARD"', 'ward = "D"\ndepartment = "PARKS"'),
     "[[rule]] 'pothole' names unknown department 'PARKS'"),
    (edited('group = "roads"\ndepartment = "LIGHTS"',
            'group = "lighting"\ndepartment = "LIGHTS"'),
     "names unknown group 'lighting'"),
    (ROUTING_TOML + STREETLIGHT_BLOCK,
     "[[category]] slug 'streetlight-out' appears twice"),
    (ROUTING_TOML + '[[department]]\ncode = "ROADS"\nname = "More roads"\n',
     "[[department]] code 'ROADS' appears twice"),
    (edited("sla_hours = 48", "sla_hours = 0"),
     "[[category]] 'pothole': sla_hours must be a positive whole number of "
     "hours, got 0"),
    (edited("sla_hours = 48", "sla_hours = -6"), "got -6"),
    (edited("sla_hours = 48", "sla_hours = 1.5"), "got 1.5"),
    (edited("sla_hours = 48", 'sla_hours = "48"'), "got '48'"),
    (edited("sla_hours = 12", "sla_hours = 0"),
     "[[rule]] 'pothole': sla_hours must be a positive whole number"),
    (edited("sla_hours = 48\n", ""), "[[category]] number 1 has no 'sla_hours'"),
    (edited(OTHER_BLOCK, ""),
     "a catch-all category with slug 'other' is required"),
    (edited('slug = "pothole"', 'slug = "Pot Hole"'),
     "[[category]] slug 'Pot Hole' must be lower-case letters"),
    (ROUTING_TOML + '[[rule]]\ncategory = "pothole"\nward = "D"\n'
     'department = "ROADS"\n', "[[rule]] for 'pothole' in ward 'D' appears twice"),
    (ROUTING_TOML + "[[category]\nslug = 'broken'\n", "not valid TOML"),
    (ROUTING_TOML + '[[ward]]\ncode = "A"\n',
     "unknown tables: ward; expected department, group, category and rule"),
    (re.sub(r'\[\[group\]\]\nslug = "\w+"\nname = "\w+"\n\n', "", ROUTING_TOML),
     "needs at least one [[group]] entry"),
], ids=["unknown department", "rule with unknown category",
        "rule with unknown department", "unknown group", "duplicate slug",
        "duplicate department", "zero sla", "negative sla", "fractional sla",
        "text sla", "zero rule sla", "missing sla", "no catch-all category",
        "bad slug", "duplicate rule", "invalid toml", "unknown table",
        "no groups left"])
def test_broken_routing_file_is_refused_and_changes_nothing(cli, clean_db,
                                                            tmp_path, content,
                                                            message):
    load(cli, tmp_path, ROUTING_TOML, "good.toml")
    before = routing_tables(clean_db)

    result = load(cli, tmp_path, content)

    assert result.exit_code == 1
    assert message in result.output
    assert "routing.toml" in result.output
    assert routing_tables(clean_db) == before


def test_missing_routing_file_is_named(cli, clean_db, tmp_path):
    result = cli("routing", "load", str(tmp_path / "nowhere.toml"))

    assert result.exit_code == 1
    assert "nowhere.toml: no such file" in result.output


def test_category_left_out_of_a_reload_is_retired_not_deleted(cli, clean_db,
                                                              tmp_path):
    load(cli, tmp_path, ROUTING_TOML)

    result = load(cli, tmp_path, edited(STREETLIGHT_BLOCK, ""))

    assert result.exit_code == 0, result.output
    assert "loaded 3 departments, 2 categories, 1 ward rules; retired 1 " \
           "categories" in result.output
    with clean_db.connect() as conn:
        active = dict(conn.execute(text(
            "SELECT slug, is_active FROM category")).all())
    assert active == {"pothole": True, "other": True, "streetlight-out": False}


def test_retired_category_comes_back_when_listed_again(cli, clean_db, tmp_path):
    load(cli, tmp_path, ROUTING_TOML)
    load(cli, tmp_path, edited(STREETLIGHT_BLOCK, ""))
    with clean_db.connect() as conn:
        first_id = conn.execute(text("SELECT category_id FROM category"
                                     " WHERE slug = 'streetlight-out'")).scalar_one()

    result = load(cli, tmp_path, ROUTING_TOML)

    assert "retired" not in result.output
    with clean_db.connect() as conn:
        row = conn.execute(text("SELECT category_id, is_active FROM category"
                                " WHERE slug = 'streetlight-out'")).one()
    assert tuple(row) == (first_id, True)


def test_reload_replaces_ward_rules_and_updates_categories(cli, clean_db,
                                                           tmp_path):
    load(cli, tmp_path, ROUTING_TOML)

    load(cli, tmp_path, edited('ward = "D"', "ward = 7")
         .replace("sla_hours = 48", "sla_hours = 36"))

    with clean_db.connect() as conn:
        rules = conn.execute(text(
            "SELECT ward_code, sla_hours FROM routing_rule")).all()
        sla = conn.execute(text("SELECT sla_hours FROM category"
                                " WHERE slug = 'pothole'")).scalar_one()
    assert [tuple(r) for r in rules] == [("7", 12)]
    assert sla == 36
