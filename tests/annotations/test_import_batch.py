"""Imports check and store features a batch at a time (shapely 2 and pyproj on arrays, rows
inserted in bulk): the outcome must be exactly the one-by-one path's, feature by feature,
for a file mixing valid features with every kind the one-by-one path refuses or treats
apart (invalid, outside, duplicates, one-part multis, attributes, times, odd counts)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import shapely
from flask import Flask
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from annotations.annotation import Annotation, ImageCache, _content, feature_text
from annotations.exchange.batch.properties import QuickInputs
from annotations.exchange.imports import (
    ImportOptions,
    Placement,
    Refusal,
    _key,
    _plan_batch,
    _plan_feature,
    plan_import,
)
from annotations.exchange.sources import Workspace, read_source
from annotations.history import Revision
from annotations.measure import box_polygon
from annotator import services
from tests.annotations.test_imports import (
    FAR,
    INSIDE,
    add_image,
    feature,
    import_path,
    square,
    write_geojson,
)

LON, LAT = INSIDE


def valid_features() -> list[dict[str, Any]]:
    """Features the import makes, of every geometry type and with every property form."""
    rotated = mapping(box_polygon(LON + 0.001, LAT, 60.0, 40.0, 33.0))
    holed = shapely.Polygon(
        box(LON - 0.002, LAT - 0.002, LON - 0.001, LAT - 0.001).exterior.coords,
        [box(LON - 0.0018, LAT - 0.0018, LON - 0.0012, LAT - 0.0012).exterior.coords[::-1]],
    )
    two_parts = shapely.MultiPolygon(
        [
            box(LON, LAT + 0.001, LON + 0.0002, LAT + 0.0012),
            box(LON, LAT + 0.002, LON + 0.0002, LAT + 0.0022),
        ]
    )
    clockwise = shapely.Polygon(
        list(box(LON, LAT - 0.001, LON + 0.0003, LAT - 0.0008).exterior.coords)[::-1]
    )
    return [
        feature(square(LON, LAT), "structure", id="a"),
        feature(
            square(LON + 0.0005, LAT),
            "vehicle.truck",
            id="b",
            shape="box",
            confidence="confirmed",
            count="3",
            notes="two <b>trucks</b>",
        ),
        feature(
            rotated,
            "aircraft.transport.an-124",
            id="c",
            shape="rotated-box",
            attributes=json.dumps({"state": "Parked", "heading_deg": 33}),
            observed_at="2024/12/13 08:21:00+00",
        ),
        feature(mapping(holed), "structure", id="d", observed_at="2024-12-13T08:21:00Z"),
        feature(mapping(two_parts), "structure", id="e"),
        feature(mapping(clockwise), "structure", id="f", count=2.0),
        feature(
            {"type": "Point", "coordinates": [LON + 0.0001, LAT + 0.0001]}, "vehicle.truck", id="g"
        ),
        feature(
            {"type": "MultiPoint", "coordinates": [[LON + 0.0002, LAT + 0.0001]]},
            "vehicle.truck",
            id="h",
        ),
        feature(
            {
                "type": "LineString",
                "coordinates": [[LON, LAT], [LON + 0.001, LAT + 0.0005], [LON + 0.0012, LAT]],
            },
            "structure",
            id="i",
        ),
        feature(
            {
                "type": "MultiLineString",
                "coordinates": [
                    [[LON, LAT], [LON, LAT + 0.001]],
                    [[LON + 0.001, LAT], [LON + 0.001, LAT + 0.001]],
                ],
            },
            "structure",
            id="j",
        ),
        feature(square(LON + 0.00123456789, LAT), "structure", id="k", notes=""),
        feature(square(LON, LAT), "structure", id="a"),  # the same feature twice
        feature(square(*FAR), "structure", id="far"),  # outside every image
    ]


def refused_features() -> list[dict[str, Any]]:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON, LAT],
                [LON + 0.001, LAT + 0.001],
                [LON + 0.001, LAT],
                [LON, LAT + 0.001],
                [LON, LAT],
            ]
        ],
    }
    return [
        feature(bowtie, "structure", id="bowtie"),
        feature(square(LON, LAT), "no.such.label", id="unknown"),
        feature(square(LON, LAT), "", id="empty label"),
        feature(
            mapping(box_polygon(LON, LAT, 30, 20, 10).buffer(0.00001)),
            "structure",
            id="round box",
            shape="box",
        ),
        feature(square(LON, LAT, 0.0002), "structure", id="bad shape", shape="oval"),
        feature(square(LON, LAT, 0.0003), "structure", id="bad count", count="two"),
        feature(square(LON, LAT, 0.0004), "structure", id="zero count", count=0),
        feature(square(LON, LAT, 0.0005), "structure", id="bad confidence", confidence="sure"),
        feature(
            square(LON, LAT, 0.0006), "aircraft", id="bad attributes", attributes={"colour": "red"}
        ),
        feature(square(LON, LAT, 0.0007), "structure", id="bad time", observed_at="yesterday"),
        feature(square(LON, LAT, 0.0008), "structure", id="long notes", notes="x" * 10_001),
        feature(None, "structure", id="no geometry"),
        feature(
            {"type": "Point", "coordinates": [LON, LAT]}, "structure", id="point box", shape="box"
        ),
    ]


def read(app: Flask, path: Path) -> Any:
    folder = Path(app.config["TMP_DIR"]) / "batch-test"
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / "source"
    staged.write_bytes(path.read_bytes())
    return read_source(staged, path.name, "0" * 64, Workspace(folder, 10**8))


def same_input(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    if isinstance(a, Refusal):
        assert (a.feature, a.reason, a.kind) == (b.feature, b.reason, b.kind)
        return
    assert shapely.to_wkb(a.geometry) == shapely.to_wkb(b.geometry)
    assert {k: v for k, v in vars(a).items() if k != "geometry"} == {
        k: v for k, v in vars(b).items() if k != "geometry"
    }


@pytest.fixture
def atlanta(app_on_each_backend: Flask, shared_data: Path) -> tuple[Flask, str]:
    return app_on_each_backend, add_image(app_on_each_backend, shared_data / "sample_geotiff.tif")


def test_batch_gives_what_one_by_one_gives(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = atlanta
    taxonomy = services.taxonomy(app)
    database = services.database(app)
    path = write_geojson(tmp_path / "mixed.geojson", valid_features() + refused_features())
    source = read(app, path)
    with database.read() as session:
        placement = Placement(session, None, None)
        batch = _plan_batch(
            source.features, taxonomy, QuickInputs(taxonomy), placement, "label", {}
        )
        alone = [_plan_feature(f, taxonomy, placement, "label", {}) for f in source.features]
    assert len(batch) == len(alone) == len(source.features)
    for ours, theirs in zip(batch, alone, strict=True):
        same_input(ours, theirs)
    reasons = {o.feature.feature_id: o.reason for o in alone if isinstance(o, Refusal)}
    assert set(reasons) == {"far"} | {f["properties"]["id"] for f in refused_features()}

    # the real import of the valid ones: every stored column as the one-by-one path made it
    path = write_geojson(tmp_path / "valid.geojson", valid_features())
    report = import_path(app, path)
    assert report["created"] == 11 and report["already_imported"] == 0
    assert {(r["feature_id"], r["kind"]) for r in report["not_imported"]} == {
        ("a", "duplicate"),
        ("far", "outside"),
    }
    source = read(app, path)
    expected = {}
    with database.read() as session:
        placement = Placement(session, None, None)
        images = ImageCache(session)
        for item in source.features:
            made = _plan_feature(item, taxonomy, placement, "label", {})
            if isinstance(made, Refusal) or item.feature_id in expected:
                continue
            row = _content(made, images)
            provenance = images.get(made.image_id)[2] | {
                "imported_from": {
                    "file": path.name,
                    "sha256": report["source"]["sha256"],
                    "layer": item.layer,
                    "feature_id": item.feature_id,
                }
            }
            row["source_json"] = json.dumps(provenance, ensure_ascii=False)
            row["import_key"] = _key(item.feature_id, made.geometry, made.image_id)
            expected[item.feature_id] = row
        stored = {
            json.loads(a.source_json)["imported_from"]["feature_id"]: a
            for a in session.scalars(select(Annotation))
        }
        assert set(stored) == set(expected)
        for feature_id, row in expected.items():
            annotation = stored[feature_id]
            for column, value in row.items():
                assert getattr(annotation, column) == value, (feature_id, column)
            (revision,) = session.scalars(
                select(Revision).where(Revision.annotation_id == annotation.id)
            )
            keep = (
                "id",
                "status",
                "version",
                "created_by",
                "created_at",
                "updated_by",
                "updated_at",
                "deleted_at",
                "deleted_by",
                "derived_from",
                "same_as",
            )
            whole = SimpleNamespace(**(row | {k: getattr(annotation, k) for k in keep}))
            assert revision.after_json == feature_text(whole, None)
            assert (revision.action, revision.version, revision.actor) == ("create", 1, "analyst")
            assert revision.comment == (
                f"imported from {path.name} (sha256 {report['source']['sha256']}), layer "
                f"valid, feature {feature_id}"
            )
    # and again: nothing new, the same plan
    again = import_path(app, path)
    assert again["created"] == 0 and again["already_imported"] == 11


def test_a_large_import_fills_the_spatial_index(
    app_on_each_backend: Flask, shared_data: Path, tmp_path: Path
) -> None:
    """From 1,000 features on, SQLite's R*Tree is filled after the rows (its trigger made
    again in the same transaction): every box is in it, and the trigger is back."""
    app = app_on_each_backend
    add_image(app, shared_data / "sample_geotiff.tif")
    features = [
        feature(square(LON + (i % 40) * 0.00002, LAT + (i // 40) * 0.00002, 0.000008), id=str(i))
        for i in range(1200)
    ]
    report = import_path(app, write_geojson(tmp_path / "many.geojson", features))
    assert report["created"] == 1200
    database = services.database(app)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Annotation)) == 1200
        if session.get_bind().dialect.name == "sqlite":
            boxes = session.connection().exec_driver_sql(
                "SELECT count(*) FROM annotations a JOIN annotations_rtree r ON r.id = a.rowid"
                " AND r.min_lon <= a.min_lon AND r.max_lon >= a.max_lon"
            )
            assert boxes.scalar() == 1200
            trigger = session.connection().exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'annotations_rtree_insert'"
            )
            assert trigger.scalar() == 1
        with database.read() as other:
            plan = plan_import(
                other, read(app, tmp_path / "many.geojson"), services.taxonomy(app), ImportOptions()
            )
            assert plan.already_imported == 1200 and not plan.to_create
