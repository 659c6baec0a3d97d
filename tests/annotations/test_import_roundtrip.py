"""An import of an export reproduces the same annotations (GeoJSON, GeoPackage, Shapefile,
STAC), and importing it again adds nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask import Flask
from shapely.geometry import mapping
from sqlalchemy import select

from annotations.annotation import Annotation, create, delete
from annotations.exchange import Selection, export
from annotations.feature import parse_feature
from annotations.measure import box_polygon
from annotations.search import Filters
from annotator import services
from tests.annotations import test_imports
from tests.annotations.test_imports import ANALYST, import_path

atlanta = test_imports.atlanta  # the fixture: the app on each backend, with the Atlanta image
CENTRE = (-84.4789, 33.6384)
FIELDS = ("label", "shape", "confidence", "count", "attributes_json", "notes", "observed_at",
          "image_id", "measurements_json")  # fmt: skip


def originals(app: Flask, image_id: str) -> list[str]:
    taxonomy = services.taxonomy(app)
    features: list[dict[str, Any]] = [
        {"geometry": mapping(box_polygon(*CENTRE, 68.96, 73.3, 172)),
         "properties": {"label": "aircraft.transport.an-124", "shape": "rotated-box",
                        "confidence": "confirmed", "notes": "нос открыт — الأنف مفتوح",
                        "attributes": {"state": "nose door open"},
                        "observed_at": "2016-05-01T16:00:00Z"}},
        {"geometry": mapping(shapely.Point(CENTRE[0] + 0.001, CENTRE[1])),
         "properties": {"label": "vehicle.truck", "count": 12, "confidence": "possible"}},
        {"geometry": mapping(shapely.LineString([(CENTRE[0], CENTRE[1] + 0.001),
                                                  (CENTRE[0] + 0.002, CENTRE[1] + 0.0015)])),
         "properties": {"label": "vehicle.convoy", "notes": "heading north"}},
    ]  # fmt: skip
    made = []
    with services.database(app).write() as session:
        for item in features:
            item["type"] = "Feature"
            item["properties"]["image_id"] = image_id
            made.append(create(session, parse_feature(item, taxonomy), ANALYST).id)
    return made


def rows(app: Flask) -> dict[str, dict[str, Any]]:
    with services.database(app).read() as session:
        return {a.id: {"geometry": a.geometry, "imported": a.import_key is not None,
                       **{name: getattr(a, name) for name in FIELDS}}
                for a in session.scalars(select(Annotation))}  # fmt: skip


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "stac", "kml", "kmz"])
def test_an_import_of_an_export_reproduces_the_annotations(
    atlanta: tuple[Flask, str], tmp_path: Path, fmt: str
) -> None:
    app, image_id = atlanta
    first = originals(app, image_id)
    selection = Selection(
        database=services.database(app), filters=Filters(),
        taxonomy=services.taxonomy(app), images_dir=Path(app.config["IMAGES_DIR"]),
    )  # fmt: skip
    target = tmp_path / f"export.{fmt}"
    assert export(selection, fmt, target) == 3
    if fmt == "stac":
        target = next(target.rglob("*-labels.json"))
    # while the originals are here, the file is theirs: importing it duplicates nothing
    same = import_path(app, target)
    assert same["created"] == 0 and same["already_imported"] == 3, same
    # as into a catalogue without them (a colleague's): the originals deleted, made anew
    with services.database(app).write() as session:
        for annotation_id in first:
            original = session.get(Annotation, annotation_id)
            delete(session, original, ANALYST, original.version)
    report = import_path(app, target)
    assert report["created"] == 3, report
    found = rows(app)
    before = [found[i] for i in first]
    after = sorted((r for r in found.values() if r["imported"]), key=lambda r: r["label"])
    for old, new in zip(sorted(before, key=lambda r: r["label"]), after, strict=True):
        for name in FIELDS:
            if name == "measurements_json":
                assert json.loads(new[name]) == pytest.approx(json.loads(old[name]), rel=1e-3)
            else:
                assert new[name] == old[name], (fmt, name)
        assert shapely.equals_exact(new["geometry"], old["geometry"], tolerance=1e-7)
    again = import_path(app, target)
    assert again["created"] == 0 and again["already_imported"] == 3
