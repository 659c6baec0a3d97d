"""Token scopes: a token is either `full` (what every token was before: the user's whole
reach, for scripts) or `read-tiles`, a key for clients that cannot send headers (QGIS's XYZ
layers, GDAL, Google Earth), accepted only on tiles, TileJSON, WMTS capabilities, COG
downloads and OGC API reads, and never for a write. And when a token was last used (noted
at most once every few minutes), for the page where users see their keys.

Every token made before this revision is `full`; none has been seen used yet.

Revision ID: 0009
Revises: 0008
"""

# Add tests/upgrades/r0009.py too: seed rows for what this revision adds, and a carry()
# if it changes rows written before it (tests/upgrades/__init__.py says how); the upgrade test
# fails until then.

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_tokens",
        sa.Column("scope", sa.String(16), nullable=False, server_default="full"),
    )
    op.add_column("api_tokens", sa.Column("last_used_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("api_tokens", "last_used_at")
    op.drop_column("api_tokens", "scope")
