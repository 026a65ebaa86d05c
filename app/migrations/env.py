"""Alembic environment: migrates the database of ``WARDWATCH_DATABASE_URL``."""

from alembic import context
from sqlalchemy import create_engine, pool

from app.models import Base

# Tables PostGIS creates itself; autogenerate must leave them alone.
POSTGIS_TABLES = {"spatial_ref_sys"}


def _include(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in POSTGIS_TABLES)


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=_include,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
