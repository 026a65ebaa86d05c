"""map indexes: open complaints by place

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:00:00.000000

The public map mostly asks for open complaints in a box. Open complaints are a
small share of all (most are closed within weeks), so a GiST index over just
them keeps that query off the full-table index and heap at a million rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "complaint_open_geom_gist",
        "complaint",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text(
            "status IN ('submitted', 'acknowledged', 'in_progress')"
            " AND NOT location_pending"
        ),
    )


def downgrade() -> None:
    op.drop_index(
        "complaint_open_geom_gist", table_name="complaint", postgresql_using="gist"
    )
