"""An import large enough to be written in bulk (`annotation.create_many`): on SQLite its
R*Tree is filled after the rows and, into tables that hold fewer rows than it brings, its
indexes are made again after them. Afterwards every index is there as before, holds every
row, and a unique one still refuses a second row with the same key."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from annotations.annotation import SPATIAL_INDEX_AFTER, Annotation
from annotations.db import new_ids
from annotations.history import Revision
from annotator import services
from tests.annotations.test_import_whole_again import whole_features
from tests.annotations.test_imports import (
    INSIDE,
    atlanta,
    feature,
    import_path,
    square,
    write_geojson,
)

__all__ = ["atlanta"]  # the fixture, used by name


def test_new_ids_are_random_uuid4s() -> None:
    ids = new_ids(2000)
    assert len(set(ids)) == 2000
    for made in ids:
        parsed = uuid.UUID(hex=made)
        assert parsed.hex == made
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
    assert new_ids(0) == []


def indexes(app: Flask) -> dict[str, list[tuple[str, tuple[str, ...], bool]]]:
    with services.database(app).engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: sorted(
                (i["name"] or "", tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            )
            for table in ("annotations", "revisions")
        }


def test_a_bulk_import_leaves_every_index_whole(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = atlanta
    before = indexes(app)
    assert ("ix_annotations_import_key", ("import_key",), True) in before["annotations"]
    lon, lat = INSIDE
    count = SPATIAL_INDEX_AFTER + 10
    features = [
        feature(square(lon + (i % 40) * 5e-5, lat + (i // 40) * 5e-5, 2e-5), id=f"f{i}")
        for i in range(count)
    ]
    report = import_path(app, write_geojson(tmp_path / "many.geojson", features))
    assert report["created"] == count
    assert indexes(app) == before
    database = services.database(app)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == count
        assert session.scalar(select(func.count()).select_from(Revision)) == count
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            boxes = connection.exec_driver_sql("SELECT count(*) FROM annotations_rtree").scalar()
            assert boxes == count
            # the R*Tree answers a box query with the annotations inside it
            inside = connection.exec_driver_sql(
                "SELECT count(*) FROM annotations_rtree WHERE min_lon >= ? AND max_lon <= ? "
                "AND min_lat >= ? AND max_lat <= ?",
                (lon - 0.001, lon + 0.00199, lat - 0.001, lat + 0.0005),
            ).scalar()
            assert inside == 40 * 10  # the first ten rows of forty squares
        key = session.scalar(select(Annotation.import_key).limit(1))
    # the unique index on import keys still holds
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            text(
                "UPDATE annotations SET import_key = :key WHERE id = "
                "(SELECT id FROM annotations WHERE import_key <> :key LIMIT 1)"
            ),
            {"key": key},
        )
    # importing them again makes nothing new
    again = import_path(app, tmp_path / "many.geojson")
    assert (again["created"], again["already_imported"]) == (0, count)


#: on PostGIS, annotations whose `geom` is not exactly the geometry of their GeoJSON text
UNLIKE_THEIR_TEXT = (
    "SELECT count(*) FROM annotations WHERE geom IS NULL OR ST_SRID(geom) <> 4326 "
    "OR ST_AsBinary(geom) <> ST_AsBinary(ST_GeomFromGeoJSON(geometry_geojson))"
)


@pytest.mark.parametrize("database_url", ["postgis"], indirect=True)
def test_on_postgis_an_import_writes_each_geometry_as_its_text_says(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    """The COPY gives `geom` (EWKB of the same geometry), which the trigger keeps on an
    insert; an edit of the text still makes it again from the text."""
    app, _ = atlanta
    database = services.database(app)
    report = import_path(app, write_geojson(tmp_path / "kinds.geojson", whole_features()))
    assert report["created"] == 11
    with database.write() as session:
        kinds = session.execute(text("SELECT DISTINCT GeometryType(geom) FROM annotations"))
        assert {row[0] for row in kinds} >= {"POINT", "LINESTRING", "POLYGON", "MULTIPOLYGON"}
        assert session.execute(text(UNLIKE_THEIR_TEXT)).scalar() == 0
        moved = '{"type":"Point","coordinates":[-84.478,33.638]}'
        session.execute(
            text("UPDATE annotations SET geometry_geojson = :g WHERE id = :id"),
            {"g": moved, "id": session.scalar(select(Annotation.id).limit(1))},
        )
        assert session.execute(text(UNLIKE_THEIR_TEXT)).scalar() == 0
