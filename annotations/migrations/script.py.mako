"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

# Add tests/upgrades/r${up_revision}.py too: seed rows for what this revision adds, and a carry()
# if it changes rows written before it (tests/upgrades/__init__.py says how); the upgrade test
# fails until then.

import sqlalchemy as sa
from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
