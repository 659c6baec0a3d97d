"""Files imported whole: one row per file whose every feature an import made or found by
its key (`annotations.exchange.batch.files`), so importing the very same file again is
answered by one query over its keys instead of a read of the whole file.

Revision ID: 0012
Revises: 0011
"""

# Seed rows: tests/upgrades/r0012.py.

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imported_files",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.Column("keys", sa.LargeBinary(), nullable=False),
        sa.Column("imported_by", sa.String(80), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_imported_files_sha256_fingerprint",
        "imported_files",
        ["sha256", "fingerprint"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_imported_files_sha256_fingerprint", table_name="imported_files")
    op.drop_table("imported_files")
