"""import history on the complaint row

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:30:00.000000

An imported complaint keeps the status and closing time it had in the source
on its own row, and its public timeline is derived from them, instead of two
complaint_event rows per imported complaint. A history of a million
complaints would otherwise write two million events with a foreign-key check
each, which was the larger part of the import time.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = ("'submitted', 'acknowledged', 'in_progress', 'resolved', 'closed',"
            " 'rejected', 'duplicate'")


def upgrade() -> None:
    op.add_column("complaint", sa.Column("source_status", sa.Text(), nullable=True))
    op.add_column(
        "complaint",
        sa.Column("source_closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_check_constraint(
        "complaint_source_status_known",
        "complaint",
        f"source_status IS NULL OR source_status IN ({STATUSES})",
    )
    # Imports before this revision wrote events; keep their timelines as they
    # are by leaving source_status NULL for them.


def downgrade() -> None:
    op.drop_constraint("complaint_source_status_known", "complaint", type_="check")
    op.drop_column("complaint", "source_closed_at")
    op.drop_column("complaint", "source_status")
