"""A user's interface language: `users.language`, a locale code (en, ar) or empty for the
browser's choice (Accept-Language, then the deployment's default).

Revision ID: 0011
Revises: 0010
"""

# Seed rows: tests/upgrades/r0011.py.

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+ has it), as 0009 does: a batch copy of the table on
    # SQLite would lose the users' expression index on lower(name), which it cannot reflect
    op.drop_column("users", "language")
