"""Loading many rows into ``complaint`` without per-row index and key upkeep.

Inserting a large history row by row keeps nine indexes and five foreign keys
up to date for every row; building them once afterwards is several times
faster. The definitions are read back from the catalogue, so whatever the
migrations have defined is restored exactly, and the foreign keys are checked
again over the whole table when they are re-added.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text

logger = logging.getLogger(__name__)

#: Imports smaller than this insert row by row into the live indexes.
BULK_MIN_ROWS = 50_000
#: ...and so do imports small next to what the table already holds.
BULK_MIN_SHARE = 0.5

_CONSTRAINTS = text(
    "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
    " WHERE conrelid = 'complaint'::regclass AND contype IN ('u', 'f')"
    " ORDER BY contype DESC, conname")
_INDEXES = text(
    "SELECT i.indexname, i.indexdef FROM pg_indexes AS i"
    " WHERE i.schemaname = current_schema() AND i.tablename = 'complaint'"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
    "  WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"
    " ORDER BY i.indexname")


def use_bulk_mode(conn: Connection, n_new: int) -> bool:
    """Whether ``n_new`` rows are worth rebuilding the complaint indexes for."""
    if n_new < BULK_MIN_ROWS:
        return False
    n_existing = conn.execute(text(
        "SELECT reltuples FROM pg_class WHERE oid = 'complaint'::regclass"
    )).scalar_one()
    return n_new >= BULK_MIN_SHARE * max(n_existing, 0)


@contextmanager
def indexes_suspended(conn: Connection) -> Iterator[None]:
    """Drop complaint's secondary indexes and keys, and rebuild them on exit.

    Must run inside the caller's transaction: other sessions wait for it to
    end (the table is locked ACCESS EXCLUSIVE), and if anything fails the
    rollback restores the indexes as they were. The primary key stays.
    """
    conn.execute(text("LOCK TABLE complaint IN ACCESS EXCLUSIVE MODE"))
    constraints = conn.execute(_CONSTRAINTS).all()
    indexes = conn.execute(_INDEXES).all()
    for name, _ in constraints:
        conn.execute(text(f'ALTER TABLE complaint DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    logger.info("bulk mode: %d constraints and %d indexes suspended",
                len(constraints), len(indexes))

    yield

    for _, definition in indexes:
        conn.execute(text(definition))
    for name, definition in reversed(constraints):
        conn.execute(text(
            f'ALTER TABLE complaint ADD CONSTRAINT "{name}" {definition}'))
    logger.info("bulk mode: indexes and constraints rebuilt")
