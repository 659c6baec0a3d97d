"""Bulk imports: files imported whole, and PostGIS geometries given by a bulk insert.

`imported_files`: one row per file whose every feature an import made or found by its key
(`annotations.exchange.batch.files`), so importing the very same file again is answered by
one query over its keys instead of a read of the whole file.

On PostgreSQL, the trigger that fills `annotations.geom` from the GeoJSON text keeps a
geometry an INSERT gives (an import's COPY writes it as EWKB made from the very geometry
whose GeoJSON it writes: parsing 100,000 GeoJSON texts in a trigger took two thirds of the
COPY); an UPDATE of the text, and an INSERT without it, fill it from the text as before.

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


SET_GEOM = """CREATE OR REPLACE FUNCTION annotations_set_geom() RETURNS trigger AS $$
       BEGIN
         {keep}NEW.geom := ST_SetSRID(ST_GeomFromGeoJSON(NEW.geometry_geojson), 4326);
         RETURN NEW;
       END $$ LANGUAGE plpgsql"""
KEEP_GIVEN = """IF TG_OP = 'INSERT' AND NEW.geom IS NOT NULL THEN
           RETURN NEW;
         END IF;
         """


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SET_GEOM.format(keep=KEEP_GIVEN))
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SET_GEOM.format(keep=""))
