"""Imported annotations remember their source feature, so importing again adds nothing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("annotations", sa.Column("import_key", sa.String(64), nullable=True))
    op.create_index("ix_annotations_import_key", "annotations", ["import_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_annotations_import_key", table_name="annotations")
    op.drop_column("annotations", "import_key")
