"""The ``wardwatch`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import ScriptInfo, with_appcontext

from app.config import ConfigError
from app.errors import ServiceError
from app.extensions import get_db
from geo.errors import GeoError


def _create_app():
    from app import create_app

    return create_app()


class _Group(click.Group):
    """Turns domain errors into a one-line message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (GeoError, ServiceError, ValueError, ConfigError) as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.pass_context
def main(ctx):
    """WardWatch: civic complaints routed to ward offices, with hotspot maps."""
    # The app is built only when a command needs it, so --help works before
    # any setting is made; tests pass a ScriptInfo of their own.
    if ctx.obj is None:
        ctx.obj = ScriptInfo(create_app=_create_app)


@main.group()
def db():
    """Database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade():
    """Create the PostGIS extension and apply all migrations."""
    from flask import current_app

    from app.db import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host, port, workers):
    """Run the web service under gunicorn."""
    from app.wsgi_server import run

    run(_create_app, host, port, workers)


@main.group()
def wards():
    """Ward boundaries."""


@wards.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--code-field", required=True, help="Field with the ward code.")
@click.option("--name-field", help="Field with the ward name.")
@click.option("--layer", help="Layer of a multi-layer file.")
@with_appcontext
def wards_import(file, code_field, name_field, layer):
    """Import ward boundaries as the new current ward set."""
    from app.services import import_wards

    with get_db().engine.begin() as conn:
        result = import_wards(conn, file, code_field, name_field, layer)
    for line in result.repairs:
        click.echo(f"repaired: {line}")
    for line in result.warnings:
        click.echo(f"warning: {line}")
    if result.unchanged:
        click.echo(f"{result.n_wards} wards unchanged; ward set version "
                   f"{result.version} stays current")
    else:
        click.echo(f"imported {result.n_wards} wards as ward set version "
                   f"{result.version}")


# A western longitude such as -71.06 would otherwise be parsed as an option.
@wards.command("locate", context_settings={"ignore_unknown_options": True})
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@with_appcontext
def wards_locate(lon, lat):
    """Print the code of the ward covering LON LAT (degrees, EPSG:4326)."""
    from geo.routing import locate

    with get_db().engine.connect() as conn:
        click.echo(locate(conn, lon, lat)["ward_code"])


@main.group()
def routing():
    """Departments, categories and routing rules."""


@routing.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def routing_load(file):
    """Load departments, categories and ward rules from a TOML file."""
    from app.routing_config import load_routing

    with get_db().engine.begin() as conn:
        summary = load_routing(conn, file)
    click.echo(f"loaded {summary.n_departments} departments, "
               f"{summary.n_categories} categories, {summary.n_rules} ward rules"
               + (f"; retired {summary.n_retired} categories"
                  if summary.n_retired else ""))


@main.group()
def complaints():
    """Complaint history: import and export."""


@complaints.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True,
                                        dir_okay=False))
@click.option("--lon-col", required=True)
@click.option("--lat-col", required=True)
@click.option("--category-col", required=True)
@click.option("--created-col", required=True)
@click.option("--closed-col")
@click.option("--status-col")
@click.option("--id-col", help="Column with the source's own id (dedupes).")
@click.option("--description-col")
@click.option("--tz", default="UTC", show_default=True,
              help="Time zone of timestamps written without an offset.")
@click.option("--category-map", type=click.Path(path_type=Path, exists=True),
              help="CSV of source_category,category.")
@click.option("--rejects", type=click.Path(path_type=Path),
              help="Where to write rejected rows [FILE.rejects.csv here].")
@click.option("--progress/--no-progress", default=True)
@with_appcontext
def complaints_import(file, lon_col, lat_col, category_col, created_col,
                      closed_col, status_col, id_col, description_col, tz,
                      category_map, rejects, progress):
    """Import complaint history from a CSV file (plain or gzip)."""
    from app.importer import ImportColumns, import_csv, read_category_map
    from app.timezones import check_tz
    from geo import queries

    columns = ImportColumns(lon_col, lat_col, category_col, created_col,
                            closed_col, status_col, id_col, description_col)
    check_tz(tz)
    rejects = rejects or Path(file.name.split(".")[0] + ".rejects.csv")
    with get_db().engine.begin() as conn:
        lookup = {}
        if category_map:
            known = {c["slug"] for c in queries.active_categories(conn)}
            lookup = read_category_map(category_map, known)
        summary = import_csv(conn, file, columns, tz, lookup, rejects, progress)
    for line in summary.lines():
        click.echo(line)


@complaints.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "geojson"]),
              default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="File to write; standard output by default.")
@click.option("--ward", "ward_code", help="Only this ward code.")
@click.option("--category", "category_slug", help="Only this category slug.")
@click.option("--status", help="Only this status.")
@click.option("--since", type=click.DateTime(), help="Filed on or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Filed before (UTC).")
@with_appcontext
def complaints_export(fmt, output, **filters):
    """Export complaints as CSV or GeoJSON, without contact details."""
    from app.exporter import ExportFilters, export

    chosen = ExportFilters(**filters)
    handle = open(output, "w", encoding="utf-8", newline="") if output else None
    try:
        with get_db().engine.connect() as conn:
            n = export(conn, fmt, handle or sys.stdout, chosen)
    finally:
        if handle:
            handle.close()
    click.echo(f"exported {n:,} complaints", err=True)


@main.group()
def demo():
    """Demo data."""


@demo.command("seed")
@click.option("--n", "n_complaints", default=5000, show_default=True, type=int)
@click.option("--seed", default=7, show_default=True, type=int)
@with_appcontext
def demo_seed(n_complaints, seed):
    """Fill the database with N realistic demo complaints (idempotent)."""
    from app.demo import seed_complaints

    with get_db().engine.begin() as conn:
        n_new = seed_complaints(conn, n_complaints, seed)
    click.echo(f"demo complaints: {n_new:,} added, {n_complaints - n_new:,} "
               "already there")


@main.group()
def apikeys():
    """API keys for Open311 clients."""


@apikeys.command("create")
@click.argument("name")
@with_appcontext
def apikeys_create(name):
    """Create an API key for client NAME; the key is printed on the last line."""
    from app.apikeys import create_api_key

    with get_db().engine.begin() as conn:
        key = create_api_key(conn, name)
    click.echo(f"API key for {name} (shown only once; keep it secret):")
    click.echo(key)
