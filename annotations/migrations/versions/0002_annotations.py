"""Annotations with their revisions, and a spatial index per backend.

SQLite: an R*Tree virtual table kept in step with the bounding-box columns by triggers.
PostgreSQL: a PostGIS `geom` column (GeoAlchemy2 type) filled from the GeoJSON by a
trigger, with a GiST index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_RTREE = [
    "CREATE VIRTUAL TABLE annotations_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
    """CREATE TRIGGER annotations_rtree_insert AFTER INSERT ON annotations BEGIN
         INSERT INTO annotations_rtree VALUES (new.rowid, new.min_lon, new.max_lon,
                                               new.min_lat, new.max_lat);
       END""",
    """CREATE TRIGGER annotations_rtree_update AFTER UPDATE OF min_lon, min_lat, max_lon,
         max_lat ON annotations BEGIN
         UPDATE annotations_rtree SET min_lon = new.min_lon, max_lon = new.max_lon,
           min_lat = new.min_lat, max_lat = new.max_lat WHERE id = new.rowid;
       END""",
    """CREATE TRIGGER annotations_rtree_delete AFTER DELETE ON annotations BEGIN
         DELETE FROM annotations_rtree WHERE id = old.rowid;
       END""",
]
POSTGIS_GEOM = [
    "CREATE EXTENSION IF NOT EXISTS postgis",
    """CREATE FUNCTION annotations_set_geom() RETURNS trigger AS $$
       BEGIN
         NEW.geom := ST_SetSRID(ST_GeomFromGeoJSON(NEW.geometry_geojson), 4326);
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER annotations_geom BEFORE INSERT OR UPDATE OF geometry_geojson
         ON annotations FOR EACH ROW EXECUTE FUNCTION annotations_set_geom()""",
]


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("image_id", sa.String(32), sa.ForeignKey("images.id"), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("shape", sa.String(16), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("attributes_json", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("geometry_geojson", sa.Text(), nullable=False),
        sa.Column("measurements_json", sa.Text(), nullable=False),
        sa.Column("source_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(80), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
    )
    for column in ("image_id", "label", "observed_at", "status", "created_by"):
        op.create_index(f"ix_annotations_{column}", "annotations", [column])
    op.create_index("ix_annotations_page", "annotations", ["created_at", "id"])
    op.create_table(
        "revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotation_id", sa.String(32), sa.ForeignKey("annotations.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
    )
    op.create_index("ix_revisions_annotation_id", "revisions", ["annotation_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_RTREE:
            op.execute(statement)
        return
    op.execute(POSTGIS_GEOM[0])  # the extension, before its type is used
    op.add_column(
        "annotations",
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=True),
    )
    op.create_index("ix_annotations_geom", "annotations", ["geom"], postgresql_using="gist")
    for statement in POSTGIS_GEOM[1:]:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE annotations_rtree")
    else:
        op.execute("DROP FUNCTION annotations_set_geom() CASCADE")
    op.drop_table("revisions")
    op.drop_table("annotations")
