"""Same object: an annotation may be marked the same object as another on the same capture
(a second box on one aircraft, or a "still there" copy onto a capture that had it already),
so counts, charts, event summaries and figures count that object once.

A plain indexed column, not a foreign key, as `derived_from` (0003): annotations are never
removed (deletes are soft), and on SQLite a constraint would mean rebuilding the table and
its R*Tree triggers. Empty for every annotation made before it: nothing was marked.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("annotations", sa.Column("same_as", sa.String(32), nullable=True))
    op.create_index("ix_annotations_same_as", "annotations", ["same_as"])


def downgrade() -> None:
    op.drop_index("ix_annotations_same_as", "annotations")
    op.drop_column("annotations", "same_as")
