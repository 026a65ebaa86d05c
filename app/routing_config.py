"""Load departments, categories and routing rules from a TOML file."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from app.errors import ValidationError

logger = logging.getLogger(__name__)

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CATCH_ALL = "other"


@dataclass
class RoutingSummary:
    n_departments: int
    n_categories: int
    n_rules: int
    n_retired: int


def read_routing_file(path: str | Path) -> dict:
    """Parse and check a routing file; return its tables.

    Raises
    ------
    ValidationError
        Unreadable TOML, a missing key, a duplicate code or slug, a reference
        to an unknown department, group or category, or a bad SLA.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ValidationError(f"{path}: not valid TOML ({err})") from err
    checker = _Checker(path)
    departments = checker.unique(data, "department", "code",
                                 ("code", "name"), pattern=None)
    groups = checker.unique(data, "group", "slug", ("slug", "name"))
    categories = checker.unique(data, "category", "slug",
                                ("slug", "name", "group", "department",
                                 "sla_hours"))
    checker.unknown_keys(data)
    for entry in categories.values():
        checker.refers(entry, "group", groups, "category")
        checker.refers(entry, "department", departments, "category")
        checker.sla(entry, "category", required=True)
    if CATCH_ALL not in categories:
        checker.fail(f"a catch-all category with slug {CATCH_ALL!r} is required, "
                     "for complaints that fit no other category")
    rules = checker.rules(data.get("rule", []), categories, departments)
    return {"department": departments, "group": groups,
            "category": categories, "rule": rules}


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, message: str):
        raise ValidationError(f"{self.path}: {message}")

    def unique(self, data: dict, table: str, key: str, required: tuple,
               pattern: re.Pattern | None = SLUG) -> dict:
        entries = data.get(table, [])
        if not isinstance(entries, list) or not entries:
            self.fail(f"needs at least one [[{table}]] entry")
        found = {}
        for n, entry in enumerate(entries, start=1):
            for field in required:
                if field not in entry:
                    self.fail(f"[[{table}]] number {n} has no {field!r}")
            value = entry[key]
            if not isinstance(value, str) or (pattern and not pattern.match(value)):
                self.fail(f"[[{table}]] {key} {value!r} must be lower-case "
                          "letters, digits and dashes")
            if value in found:
                self.fail(f"[[{table}]] {key} {value!r} appears twice")
            found[value] = entry
        return found

    def unknown_keys(self, data: dict) -> None:
        extra = set(data) - {"department", "group", "category", "rule"}
        if extra:
            self.fail(f"unknown tables: {', '.join(sorted(extra))}; expected "
                      "department, group, category and rule")

    def refers(self, entry: dict, field: str, known: dict, table: str) -> None:
        if entry.get(field) not in known:
            name = entry.get("slug") or entry.get("category")
            self.fail(f"[[{table}]] {name!r} names unknown {field} "
                      f"{entry.get(field)!r}")

    def sla(self, entry: dict, table: str, required: bool) -> None:
        value = entry.get("sla_hours")
        if value is None and not required:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            name = entry.get("slug") or entry.get("category")
            self.fail(f"[[{table}]] {name!r}: sla_hours must be a positive "
                      f"whole number of hours, got {value!r}")

    def rules(self, rules: list, categories: dict, departments: dict) -> list:
        seen = set()
        for n, rule in enumerate(rules, start=1):
            for field in ("category", "ward", "department"):
                if field not in rule:
                    self.fail(f"[[rule]] number {n} has no {field!r}")
            self.refers(rule, "category", categories, "rule")
            self.refers(rule, "department", departments, "rule")
            self.sla(rule, "rule", required=False)
            key = (rule["category"], str(rule["ward"]))
            if key in seen:
                self.fail(f"[[rule]] for {key[0]!r} in ward {key[1]!r} appears twice")
            seen.add(key)
        return rules


def load_routing(conn: Connection, path: str | Path) -> RoutingSummary:
    """Upsert departments and categories and replace routing rules from a file.

    Categories missing from the file are retired (kept for old complaints,
    closed to new ones), never deleted.
    """
    tables = read_routing_file(path)
    dept_ids = _upsert_departments(conn, tables["department"].values())
    groups = tables["group"]
    group_order = {slug: i for i, slug in enumerate(groups)}
    cat_ids = {}
    for position, entry in enumerate(tables["category"].values()):
        cat_ids[entry["slug"]] = conn.execute(text(
            "INSERT INTO category (slug, name, group_slug, group_name, position,"
            " default_department_id, sla_hours, attributes, is_active)"
            " VALUES (:slug, :name, :group, :group_name, :position, :dept,"
            " :sla, CAST(:attributes AS jsonb), true)"
            " ON CONFLICT (slug) DO UPDATE SET name = excluded.name,"
            " group_slug = excluded.group_slug, group_name = excluded.group_name,"
            " position = excluded.position,"
            " default_department_id = excluded.default_department_id,"
            " sla_hours = excluded.sla_hours, attributes = excluded.attributes,"
            " is_active = true RETURNING category_id"
        ), {
            "slug": entry["slug"], "name": entry["name"], "group": entry["group"],
            "group_name": groups[entry["group"]]["name"],
            "position": group_order[entry["group"]] * 1000 + position,
            "dept": dept_ids[entry["department"]], "sla": entry["sla_hours"],
            "attributes": json.dumps(entry.get("attributes", [])),
        }).scalar_one()
    n_retired = conn.execute(text(
        "UPDATE category SET is_active = false"
        " WHERE is_active AND NOT (slug = ANY(:slugs))"
    ), {"slugs": list(cat_ids)}).rowcount
    conn.execute(text("DELETE FROM routing_rule"))
    for rule in tables["rule"]:
        conn.execute(text(
            "INSERT INTO routing_rule (category_id, ward_code, department_id,"
            " sla_hours) VALUES (:cat, :ward, :dept, :sla)"
        ), {"cat": cat_ids[rule["category"]], "ward": str(rule["ward"]),
            "dept": dept_ids[rule["department"]], "sla": rule.get("sla_hours")})
    summary = RoutingSummary(len(dept_ids), len(cat_ids), len(tables["rule"]),
                             n_retired)
    logger.info("routing loaded: %s", summary)
    return summary


def _upsert_departments(conn: Connection, departments) -> dict[str, int]:
    ids = {}
    for entry in departments:
        ids[entry["code"]] = conn.execute(text(
            "INSERT INTO department (code, name, email, phone)"
            " VALUES (:code, :name, :email, :phone)"
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
            " email = excluded.email, phone = excluded.phone"
            " RETURNING department_id"
        ), {"code": entry["code"], "name": entry["name"],
            "email": entry.get("email"), "phone": entry.get("phone")}).scalar_one()
    return ids
