"""Annotations remember the annotation they were copied from ("still there on this date").

A plain indexed column, not a foreign key: annotations are never removed (deletes are soft),
and on SQLite adding a constraint would mean rebuilding the table and its R*Tree triggers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("annotations", sa.Column("derived_from", sa.String(32), nullable=True))
    op.create_index("ix_annotations_derived_from", "annotations", ["derived_from"])


def downgrade() -> None:
    op.drop_index("ix_annotations_derived_from", "annotations")
    op.drop_column("annotations", "derived_from")
