"""Importing annotations from GIS files: placement, labels, dry runs, atomicity, idempotence."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from flask import Flask
from shapely.geometry import box, mapping, shape
from sqlalchemy import func, select

from annotations.annotation import Actor, Annotation
from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput, NotFound
from annotations.exchange.imports import (
    ImportOptions,
    ImportRequest,
    import_file,
    parse_label_map,
)
from annotations.history import revisions_of
from annotator import services
from annotator.intake import Upload, import_images

ANALYST = Actor("analyst", Role.analyst)
#: well inside the Atlanta image (sample_geotiff.tif), in WGS 84
INSIDE = (-84.4790, 33.6380)
#: Hmeimim, far from every test image
FAR = (35.9486, 35.4008)


def import_path(app: Flask, path: Path, *, dry_run: bool = False, origin: bool = True,
                **options: Any) -> dict[str, Any]:  # fmt: skip
    request = ImportRequest(
        name=path.name,
        options=ImportOptions(**options),
        dry_run=dry_run,
        actor=ANALYST,
        tmp_dir=Path(app.config["TMP_DIR"]),
        max_bytes=50 * 1024 * 1024,
        origin=path.parent if origin else None,
    )
    with path.open("rb") as stream:
        return import_file(
            services.database(app), services.taxonomy(app), stream,
            request,
        )  # fmt: skip


def count(app: Flask) -> int:
    with services.database(app).read() as session:
        return int(session.scalar(select(func.count()).select_from(Annotation)) or 0)


def add_image(app: Flask, path: Path) -> str:
    results = import_images(
        services.database(app), Path(app.config["IMAGES_DIR"]),
        [Upload(path, path.name)], Provenance(provider="SpaceNet"), max_pixels=10**9,
    )  # fmt: skip
    return results[0].image.id


@pytest.fixture
def atlanta(app_on_each_backend: Flask, shared_data: Path) -> tuple[Flask, str]:
    """The app (SQLite, then PostGIS) with the Atlanta image catalogued."""
    return app_on_each_backend, add_image(app_on_each_backend, shared_data / "sample_geotiff.tif")


def square(lon: float, lat: float, half: float = 0.0001) -> dict[str, Any]:
    return mapping(box(lon - half, lat - half, lon + half, lat + half))


def feature(geometry: Any, label: str = "structure", **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"label": label} | properties}


def write_geojson(path: Path, features: list[dict[str, Any]], **extra: Any) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features} | extra))
    return path


def test_atlanta_buildings_land_in_atlanta_not_at_utm_numbers(
    atlanta: tuple[Flask, str], shared_data: Path
) -> None:
    app, image_id = atlanta
    source = shared_data / "geotiff_labels.geojson"
    report = import_path(app, source, label_field="building", label_map={"yes": "structure"})
    assert report["created"] == 43 and report["not_imported"] == []
    assert report["source"]["format"] == "geojson"
    original = json.loads(source.read_text())
    database = services.database(app)
    with database.read() as session:
        rows = list(session.scalars(select(Annotation)))
        assert len(rows) == 43
        for row in rows:
            west, south, east, north = row.geometry.bounds
            assert -84.49 < west < east < -84.47 and 33.63 < south < north < 33.65
            assert row.image_id == image_id and row.label == "structure"
            assert row.status == "draft" and row.created_by == "analyst"
            imported = json.loads(row.source_json)["imported_from"]
            assert imported["file"] == "geotiff_labels.geojson"
            assert imported["sha256"] == report["source"]["sha256"]
            history = revisions_of(session, row.id)
            assert [r.action for r in history] == ["create"]
            assert "geotiff_labels.geojson" in (history[0].comment or "")
            assert report["source"]["sha256"] in (history[0].comment or "")
        # the same building, reprojected: its area in m² matches the UTM polygon's
        first = next(r for r in rows if json.loads(r.source_json)["imported_from"]["feature_id"]
                     == "0")  # fmt: skip
        utm_area = shape(original["features"][0]["geometry"]).area
        area = json.loads(first.measurements_json)["area_m2"]
        assert area == pytest.approx(utm_area, rel=0.01)


def test_importing_again_creates_nothing(atlanta: tuple[Flask, str], shared_data: Path) -> None:
    app, _ = atlanta
    source = shared_data / "geotiff_labels.geojson"
    options = {"label_field": "building", "label_map": {"yes": "structure"}}
    assert import_path(app, source, **options)["created"] == 43
    again = import_path(app, source, **options)
    assert again["created"] == 0 and again["already_imported"] == 43
    assert count(app) == 43


def test_dry_run_lists_every_invalid_feature_and_changes_nothing(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _ = atlanta
    bowtie = {"type": "Polygon", "coordinates": [[
        [-84.479, 33.638], [-84.478, 33.639], [-84.478, 33.638], [-84.479, 33.639],
        [-84.479, 33.638]]]}  # fmt: skip
    path = write_geojson(tmp_path / "mixed.geojson", [
        feature(square(*INSIDE)),
        feature(None),
        feature(square(*FAR)),
        feature(bowtie),
        feature(square(*INSIDE, half=0.0002), label="house"),
        feature(square(*INSIDE, half=0.0003)) | {
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32616"}}},
    ])  # fmt: skip
    report = import_path(app, path, dry_run=True)
    assert report["would_create"] == 1 and report["created"] == 0
    reasons = {r["number"]: r["reason"] for r in report["not_imported"]}
    assert set(reasons) == {2, 3, 4, 5, 6}
    assert "no geometry" in reasons[2]
    assert "outside every image" in reasons[3]
    assert "Self-intersection" in reasons[4]
    assert "unknown label 'house'" in reasons[5]
    assert "mixed CRSs" in reasons[6]
    assert report["unknown_labels"] == ["house"]
    assert {r["kind"] for r in report["not_imported"] if r["number"] == 3} == {"outside"}
    assert count(app) == 0


def test_one_bad_feature_imports_nothing(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = atlanta
    good = [feature(square(INSIDE[0] + i * 0.0005, INSIDE[1])) for i in range(3)]
    open_ring = {"type": "Polygon", "coordinates": [[[-84.479, 33.638], [-84.478, 33.638],
                                                      [-84.478, 33.639]]]}  # fmt: skip
    path = write_geojson(tmp_path / "one-bad.geojson", [*good, feature(open_ring)])
    with pytest.raises(InvalidInput, match=r"1 feature cannot be imported.*nothing was imported"):
        import_path(app, path)
    assert count(app) == 0
    # without the bad one, all three go in
    write_geojson(path, good)
    assert import_path(app, path)["created"] == 3


def test_features_outside_every_image_are_listed_not_imported(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _ = atlanta
    path = write_geojson(tmp_path / "some-far.geojson",
                         [feature(square(*INSIDE)), feature(square(*FAR))])  # fmt: skip
    report = import_path(app, path)
    assert report["created"] == 1 and report["outside_every_image"] == 1
    assert report["not_imported"][0]["number"] == 2
    assert count(app) == 1


def test_unknown_label_values_are_refused_with_the_values(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _ = atlanta
    path = write_geojson(tmp_path / "osm.geojson", [
        feature(square(*INSIDE), label="house"),
        feature(square(INSIDE[0] + 0.001, INSIDE[1]), label="shed"),
        feature(square(INSIDE[0] + 0.002, INSIDE[1]), label="structure.hangar"),
    ])  # fmt: skip
    with pytest.raises(InvalidInput, match="'house', 'shed'; map them") as caught:
        import_path(app, path)
    assert caught.value.details["unknown_labels"] == ["house", "shed"]
    assert count(app) == 0
    report = import_path(app, path, label_map={"house": "structure", "shed": "structure"})
    assert report["by_label"] == {"structure": 2, "structure.hangar": 1}


def test_label_map_from_csv_or_json_and_bad_targets() -> None:
    assert parse_label_map(b"value,label\nyes,structure\n2,vehicle\n", "m.csv") == {
        "yes": "structure", "2": "vehicle"}  # fmt: skip
    assert parse_label_map(b'{"yes": "structure"}', "m.json") == {"yes": "structure"}
    with pytest.raises(InvalidInput, match="two columns"):
        parse_label_map(b"a,b,c\n", "m.csv")


def test_label_map_naming_unknown_labels_is_refused(
    atlanta: tuple[Flask, str], shared_data: Path
) -> None:
    app, _ = atlanta
    with pytest.raises(InvalidInput, match="not in the taxonomy: building"):
        import_path(app, shared_data / "geotiff_labels.geojson", label_field="building",
                    label_map={"yes": "building"})  # fmt: skip


def test_missing_label_field_names_the_fields(atlanta: tuple[Flask, str], shared_data: Path
                                              ) -> None:  # fmt: skip
    app, _ = atlanta
    with pytest.raises(InvalidInput, match=r"no field 'label'.*building"):
        import_path(app, shared_data / "geotiff_labels.geojson", dry_run=True)


def test_image_given_and_image_named_by_the_feature(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, image_id = atlanta
    path = write_geojson(tmp_path / "a.geojson", [feature(square(*INSIDE), image_id=image_id)])
    assert import_path(app, path, dry_run=True)["by_image"] == {image_id: 1}
    assert import_path(app, path, dry_run=True, image_id=image_id)["would_create"] == 1
    with pytest.raises(NotFound):
        import_path(app, path, dry_run=True, image_id="0" * 32)
    far = write_geojson(tmp_path / "far.geojson", [feature(square(*FAR))])
    report = import_path(app, far, dry_run=True, image_id=image_id)
    assert report["not_imported"][0]["reason"] == f"it lies outside image {image_id}"


def test_geopackage_and_zipped_shapefile(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = atlanta
    frame = gpd.GeoDataFrame(
        {"kind": ["structure.hangar", "vehicle.truck"], "notes": ["Ангар", "شاحنة"]},
        geometry=[box(-84.4790, 33.6380, -84.4788, 33.6382), shapely.Point(-84.4780, 33.6390)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32616")
    gpkg = tmp_path / "layers.gpkg"
    frame.to_file(gpkg, layer="finds", driver="GPKG")
    report = import_path(app, gpkg, label_field="kind")
    assert report["created"] == 2 and report["source"]["format"] == "gpkg"
    with services.database(app).read() as session:
        notes = set(session.scalars(select(Annotation.notes)))
        truck = session.scalar(select(Annotation).where(Annotation.label == "vehicle.truck"))
        assert truck is not None
        assert truck.geometry.x == pytest.approx(-84.4780, abs=1e-7)
    assert notes == {"Ангар", "شاحنة"}
    # the same features as a zipped Shapefile (one layer per geometry type), on top
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    frame.iloc[[0]].to_file(shp_dir / "polygons.shp")
    frame.iloc[[1]].to_file(shp_dir / "points.shp")
    archive = tmp_path / "finds.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for item in sorted(shp_dir.iterdir()):
            zipped.write(item, f"finds/{item.name}")
    report = import_path(app, archive, label_field="kind")
    assert report["source"]["format"] == "shapefile"
    assert report["source"]["layers"] == ["points", "polygons"]
    assert report["created"] == 2
    assert count(app) == 4


def test_shapefile_without_prj_is_reported_per_feature(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, _ = atlanta
    frame = gpd.GeoDataFrame(
        {"label": ["structure", "structure"]},
        geometry=[shapely.Point(733700, 3724900)] * 2,
        crs="EPSG:32616",
    )
    frame.to_file(tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    archive = tmp_path / "noprj.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for suffix in (".shp", ".shx", ".dbf"):
            zipped.write(tmp_path / f"noprj{suffix}", f"noprj{suffix}")
    report = import_path(app, archive, dry_run=True)
    assert [r["number"] for r in report["not_imported"]] == [1, 2]
    assert all("no .prj" in r["reason"] for r in report["not_imported"])
    with pytest.raises(InvalidInput, match=r"no \.prj"):
        import_path(app, archive)
    assert count(app) == 0


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>finds</name>
<Placemark><name>structure.tent</name><description>a &lt;b&gt;tent&lt;/b&gt;</description>
<Point><coordinates>-84.4790,33.6380,0</coordinates></Point></Placemark>
<Placemark><name>structure.hangar</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
-84.4790,33.6385 -84.4788,33.6385 -84.4788,33.6387 -84.4790,33.6387 -84.4790,33.6385
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Folder></Document></kml>
"""


def test_kml_and_kmz(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, _ = atlanta
    kml = tmp_path / "finds.kml"
    kml.write_text(KML)
    report = import_path(app, kml, label_field="Name", dry_run=True)
    assert report["source"]["format"] == "kml"
    assert report["by_label"] == {"structure.tent": 1, "structure.hangar": 1}
    kmz = tmp_path / "finds.kmz"
    with zipfile.ZipFile(kmz, "w") as zipped:
        zipped.writestr("doc.kml", KML)
    report = import_path(app, kmz, label_field="Name")
    assert report["source"]["format"] == "kmz" and report["created"] == 2


def stac_label_item(folder: Path, image_id: str, features: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_geojson(folder / "labels.geojson", features)
    (folder / "image.json").write_text(json.dumps({"type": "Feature", "stac_version": "1.1.0",
                                                   "id": image_id}))  # fmt: skip
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": f"{image_id}-labels",
        "stac_extensions": ["https://stac-extensions.github.io/label/v1.0.1/schema.json"],
        "geometry": None, "bbox": None,
        "properties": {"datetime": "2016-05-01T00:00:00Z", "label:properties": ["class"],
                       "label:tasks": ["detection"], "label:type": "vector"},
        "links": [{"rel": "source", "href": "./image.json", "type": "application/json"}],
        "assets": {"labels": {"href": "./labels.geojson", "type": "application/geo+json"}},
    }  # fmt: skip
    path = folder / "item.json"
    path.write_text(json.dumps(item))
    return path


def test_stac_label_item_is_read_back(atlanta: tuple[Flask, str], tmp_path: Path) -> None:
    app, image_id = atlanta
    found = [{"type": "Feature", "geometry": square(*INSIDE),
              "properties": {"class": "vehicle.tank"}}]  # fmt: skip
    item = stac_label_item(tmp_path / "stac", image_id, found)
    report = import_path(app, item)
    assert report["source"]["format"] == "stac" and report["label_field"] == "class"
    assert report["by_image"] == {image_id: 1} and report["created"] == 1
    # a zip of the item and its files reads the same (how the API takes it)
    archive = tmp_path / "stac.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("item.json", "labels.geojson", "image.json"):
            zipped.write(tmp_path / "stac" / name, name)
    assert import_path(app, archive, origin=False)["already_imported"] == 1
