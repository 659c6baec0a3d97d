"""Users, API tokens, sites and the image catalogue.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("role_name", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("ix_users_name", "users", ["name"], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_index("ix_api_tokens_token_sha256", "api_tokens", ["token_sha256"], unique=True)
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("area_geojson", sa.Text(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_sites_slug", "sites", ["slug"], unique=True)
    text = sa.String(500)
    op.create_table(
        "images",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("cog_name", sa.String(80), nullable=False),
        sa.Column("original_filename", sa.String(255), nullable=False),
        sa.Column("crs", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("band_count", sa.Integer(), nullable=False),
        sa.Column("dtype", sa.String(16), nullable=False),
        sa.Column("nodata", sa.Float(), nullable=True),
        sa.Column("mask", sa.String(16), nullable=False),
        sa.Column("gsd_m", sa.Float(), nullable=False),
        sa.Column("footprint_geojson", sa.Text(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        _timestamp("captured_at", nullable=True),
        sa.Column("captured_source", sa.String(16), nullable=False),
        sa.Column("provider", text, nullable=True),
        sa.Column("sensor", text, nullable=True),
        sa.Column("licence", text, nullable=True),
        sa.Column("attribution", text, nullable=True),
        sa.Column("description", text, nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("display_json", sa.Text(), nullable=False),
        sa.Column("warped", sa.Boolean(), nullable=False),
        sa.Column("tags_json", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.String(80), nullable=True),
    )
    op.create_index("ix_images_sha256", "images", ["sha256"], unique=True)
    op.create_index("ix_images_captured_at", "images", ["captured_at"])
    op.create_table(
        "site_images",
        sa.Column(
            "site_id", sa.Integer(), sa.ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "image_id",
            sa.String(32),
            sa.ForeignKey("images.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("reason", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("site_images")
    op.drop_table("images")
    op.drop_table("sites")
    op.drop_table("api_tokens")
    op.drop_table("users")
