"""FlatGeobuf, CSV and GeoParquet (issue 15, item 6): our own exports import back as the
same annotations on both backends, and files made by other tools (ogr2ogr, geopandas,
pyarrow) import with their edge cases: mixed types, null properties, Z coordinates, empty
geometries, projected CRSs, GeoArrow's native encoding; the bad ones get one clear error."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pyogrio.raw
import pytest
import shapely
from flask import Flask
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from annotations.annotation import Annotation, delete
from annotations.catalogue.images import list_images
from annotations.errors import InvalidInput
from annotations.exchange import Selection, export
from annotations.exchange.safety import SourceTooLarge, UnsafeFile
from annotations.exchange.sources import Source, SourceFeature, Workspace, read_source
from annotations.search import Filters
from annotator import services
from tests.annotations import test_imports
from tests.annotations.test_import_network import Recorder, listener
from tests.annotations.test_import_roundtrip import FIELDS, originals, rows
from tests.annotations.test_imports import ANALYST, INSIDE, add_image, import_path
from tests.conftest import _app_with_users, make_app, require

atlanta = test_imports.atlanta  # the app on each backend, with the Atlanta image
listener = listener  # a web server recording every request (a fixture)
LON, LAT = INSIDE


def selection(app: Flask) -> Selection:
    return Selection(
        database=services.database(app),
        filters=Filters(),
        taxonomy=services.taxonomy(app),
        images_dir=Path(app.config["IMAGES_DIR"]),
    )


def ogr2ogr(*args: str) -> None:
    require(shutil.which("ogr2ogr") is not None, "GDAL's ogr2ogr is not installed (gdal-bin)")
    done = subprocess.run(["ogr2ogr", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Flask]:
    """One app (SQLite) with the Atlanta image, for the dry runs of files from elsewhere."""
    for application in _app_with_users(make_app(tmp_path_factory.mktemp("tables"))):
        add_image(application, shared_data / "sample_geotiff.tif")
        yield application


# ---- our own exports, imported back ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["fgb", "csv", "geoparquet"])
def test_our_export_imports_back_as_the_same_annotations(
    atlanta: tuple[Flask, str], tmp_path: Path, fmt: str
) -> None:
    app, image_id = atlanta
    first = originals(app, image_id)
    target = tmp_path / f"export.{fmt}"
    assert export(selection(app), fmt, target) == 3
    same = import_path(app, target)
    assert same["source"]["format"] == fmt
    assert same["created"] == 0 and same["already_imported"] == 3, same
    with services.database(app).write() as session:
        for annotation_id in first:
            original = session.get(Annotation, annotation_id)
            assert original is not None
            delete(session, original, ANALYST, original.version)
    report = import_path(app, target)
    assert report["created"] == 3 and report["not_imported"] == [], report
    found = rows(app)
    before = sorted((found[i] for i in first), key=lambda r: r["label"])
    after = sorted((r for r in found.values() if r["imported"]), key=lambda r: r["label"])
    for old, new in zip(before, after, strict=True):
        for name in FIELDS:
            if name == "measurements_json":
                assert json.loads(new[name]) == pytest.approx(json.loads(old[name]), rel=1e-3)
            else:
                assert new[name] == old[name], (fmt, name)
        assert shapely.equals_exact(new["geometry"], old["geometry"], tolerance=1e-7)
    again = import_path(app, target)
    assert again["created"] == 0 and again["already_imported"] == 3


def test_geoparquet_export_is_geoparquet_1_1_with_a_bbox_covering(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    app = sqlite_app
    made = originals(app, image_of(app))
    target = tmp_path / "out.parquet"
    assert export(selection(app), "geoparquet", target) >= 3
    parquet = pq.ParquetFile(target)
    geo = json.loads(parquet.schema_arrow.metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["geometry_types"] == ["LineString", "Point", "Polygon"]
    assert column["covering"] == {
        "bbox": {c: ["bbox", c] for c in ("xmin", "ymin", "xmax", "ymax")}
    }
    assert column["crs"]["id"] == {"authority": "OGC", "code": "CRS84"}
    west, south, east, north = column["bbox"]
    assert west < east and south < north
    field = parquet.schema_arrow.field("geometry")
    assert field.metadata[b"ARROW:extension:name"] == b"geoarrow.wkb"
    # geopandas reads it, in lon/lat, with the GeoPackage export's columns
    frame = gpd.read_parquet(target)
    assert frame.crs.to_string() == "OGC:CRS84"
    assert set(made) <= set(frame["id"])
    if "Parquet" in pyogrio.list_drivers():  # GDAL built with Arrow: not pyogrio's wheel
        assert len(pyogrio.read_dataframe(target)) == len(frame)
    gpkg = tmp_path / "out.gpkg"
    export(selection(app), "gpkg", gpkg)
    columns = set(gpd.read_file(gpkg, layer="annotations_points").columns)
    assert columns <= set(frame.columns) | {"bbox"}
    # every row's bbox (geopandas reads it as the covering, not as a column) holds its
    # geometry; the statistics let a reader skip row groups
    table = pq.read_table(target)
    shapes = shapely.from_wkb(table.column("geometry").to_pylist())
    for geometry, corners in zip(shapes, table.column("bbox").to_pylist(), strict=True):
        assert shapely.box(*(corners[c] for c in ("xmin", "ymin", "xmax", "ymax"))).covers(geometry)
    stats = parquet.metadata.row_group(0).column(parquet.schema_arrow.names.index("bbox"))
    assert stats.statistics is not None and stats.statistics.has_min_max


def image_of(app: Flask) -> str:
    with services.database(app).read() as session:
        return list_images(session)[0].id


# ---- files from elsewhere ---------------------------------------------------------------


def read(path: Path, max_bytes: int = 50 * 1024 * 1024) -> Source:
    """The file as the import reads it (a private copy, as an import stages it)."""
    folder = path.parent / f"read-{path.name}"
    folder.mkdir()
    staged = folder / "source"
    shutil.copyfile(path, staged)
    return read_source(staged, path.name, "0" * 64, Workspace(folder, max_bytes))


def shape_of(feature: SourceFeature) -> BaseGeometry:
    assert feature.geometry is not None, feature.problem
    return feature.geometry


def near_inside(geometry: Any) -> bool:
    return geometry.distance(Point(LON, LAT)) < 0.01


def geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def foreign_features() -> list[dict[str, Any]]:
    """Mixed types, Z coordinates, null properties and a feature without geometry."""
    square = [
        [
            [LON + dx, LAT + dy, 10.0]
            for dx, dy in ((0, 0), (1e-4, 0), (1e-4, 1e-4), (0, 1e-4), (0, 0))
        ]
    ]
    return [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": square},
            "properties": {"label": "structure", "notes": None, "count": None},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {"label": "vehicle.truck", "notes": "parked", "count": 3},
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [LON + 1e-3, LAT]]},
            "properties": {"label": "vehicle.convoy", "notes": None, "count": None},
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"label": "structure", "notes": "lost", "count": None},
        },
    ]


def test_flatgeobuf_from_ogr2ogr_mixed_types_z_and_nulls(sqlite_app: Flask, tmp_path: Path) -> None:
    fgb = tmp_path / "other.fgb"
    ogr2ogr("-f", "FlatGeobuf", str(fgb), str(geojson(tmp_path / "in.geojson", foreign_features())))
    source = read(fgb)
    # GDAL 3.6's FlatGeobuf writer leaves out the feature without geometry
    assert source.format == "fgb" and len(source.features) == 3
    # the spatial index orders the features along a Hilbert curve
    by_kind = {f.geometry.geom_type: f for f in source.features if f.geometry}
    assert sorted(by_kind) == ["LineString", "Point", "Polygon"]
    assert not shape_of(by_kind["Polygon"]).has_z  # Z is left out
    assert by_kind["Polygon"].properties["notes"] is None
    assert by_kind["Point"].properties["count"] == 3
    report = import_path(sqlite_app, fgb, dry_run=True)
    assert (report["would_create"], report["invalid"]) == (3, 0), report


def test_flatgeobuf_with_null_and_empty_geometries(sqlite_app: Flask, tmp_path: Path) -> None:
    """GDAL 3.12 (pyogrio's) writes them when the file has no spatial index."""
    frame = gpd.read_file(geojson(tmp_path / "in.geojson", foreign_features()))
    frame = frame.set_geometry(shapely.force_2d(frame.geometry.values))
    frame.loc[2, "geometry"] = Polygon()
    fgb = tmp_path / "nulls.fgb"
    pyogrio.write_dataframe(frame, fgb, driver="FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"})
    report = import_path(sqlite_app, fgb, dry_run=True)
    assert (report["would_create"], report["invalid"]) == (2, 2), report
    assert {r["number"]: r["reason"] for r in report["not_imported"]} == {
        3: "the feature has no geometry",
        4: "the feature has no geometry",
    }


def test_csv_lon_lat_semicolons_decimal_commas_bom_and_quoted_newlines(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    text = (
        "Longitude;LAT;label;notes\r\n"
        f'{str(LON).replace(".", ",")};{str(LAT).replace(".", ",")};structure;"a; b\nc"\r\n'
        f"{LON + 1e-4};{LAT};vehicle.truck;\r\n"
        f"abc;{LAT};vehicle.truck;not a number\r\n"
    )
    path = tmp_path / "points.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    source = read(path)
    assert source.format == "csv" and source.fields == ["Longitude", "LAT", "label", "notes"]
    first, second, third = source.features
    assert shape_of(first).equals(Point(LON, LAT)) and first.properties["notes"] == "a; b\nc"
    assert second.properties["notes"] is None and near_inside(second.geometry)
    assert third.problem == "the Longitude 'abc' is not a number"
    report = import_path(sqlite_app, path, dry_run=True)
    assert (report["would_create"], report["invalid"]) == (2, 1), report


def test_csv_wkt_column_by_name_tabs_z_and_bad_wkt(sqlite_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "shapes.tsv"
    path.write_text(
        "the_geom\tlabel\n"
        f"POINT Z ({LON} {LAT} 5)\tvehicle.truck\n"
        f"{box(LON, LAT, LON + 1e-4, LAT + 1e-4).wkt}\tstructure\n"
        "POLYGON ((0 0, 1 1))\tstructure\n"
        "\tstructure\n"
    )
    features = read(path).features
    assert shape_of(features[0]).equals(Point(LON, LAT))
    assert shape_of(features[1]).geom_type == "Polygon"
    assert features[2].problem and features[2].problem.startswith("the WKT is not a geometry")
    assert features[3].problem == "the feature has no geometry"


@pytest.mark.parametrize("layout", ["AS_WKT", "AS_XY"])
def test_csv_written_by_ogr2ogr(sqlite_app: Flask, tmp_path: Path, layout: str) -> None:
    points = [f for f in foreign_features() if f["geometry"] and f["geometry"]["type"] == "Point"]
    shapes = points if layout == "AS_XY" else foreign_features()[:3]
    target = tmp_path / f"{layout}.csv"
    source_file = geojson(tmp_path / "in.geojson", shapes)
    ogr2ogr("-f", "CSV", "-lco", f"GEOMETRY={layout}", str(target), str(source_file))
    report = import_path(sqlite_app, target, dry_run=True)
    assert (report["would_create"], report["invalid"]) == (len(shapes), 0), report


def test_csv_without_geometry_columns_names_what_it_looked_for(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "table.csv"
    path.write_text("name,label,easting\nhangar,structure,12\n")
    with pytest.raises(InvalidInput) as refused:
        import_path(sqlite_app, path, dry_run=True)
    message = refused.value.message
    assert message.startswith("table.csv has no geometry columns: looked for a WKT column")
    for name in (
        "wkt, geometry, geom, the_geom",
        "lon, lng, long, longitude, x",
        "lat, latitude",
        "its columns are: name, label, easting",
    ):
        assert name in message


def test_csv_formulas_read_back_as_written_and_export_inert_again(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    """Our CSV export quotes formulas ('=...); the import takes that quote off, and the
    next CSV export puts it back: no cell is ever written out as a live formula."""
    app = sqlite_app
    hostile = ['=HYPERLINK("http://example.com","x")', "'=1+1", "'tis", "@SUM(A1)"]
    quoted = [n.replace('"', '""') for n in hostile]
    rows_ = "".join(
        f'"POINT ({LON + i * 1e-5} {LAT})",structure,"{n}",formula-{i}\n'
        for i, n in enumerate(quoted)
    )
    path = tmp_path / "formulas.csv"
    path.write_text("WKT,label,notes,id\n" + rows_)
    assert import_path(app, path)["created"] == 4
    with services.database(app).read() as session:
        notes = {a.notes for a in session.scalars(select(Annotation))}
    assert {'=HYPERLINK("http://example.com","x")', "=1+1", "'tis", "@SUM(A1)"} <= notes
    out = tmp_path / "again.csv"
    export(selection(app), "csv", out)
    cells = [row["notes"] for row in csv.DictReader(io.StringIO(out.read_text()))]
    assert "'=1+1" in cells and "'@SUM(A1)" in cells and "'tis" in cells
    assert not [c for c in cells if c and c.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_geoparquet_from_geopandas_in_utm_reprojected(sqlite_app: Flask, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"label": ["structure", "vehicle.truck"], "count": [None, 4]},
        geometry=[box(LON, LAT, LON + 1e-4, LAT + 1e-4), Point(LON, LAT)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32616")
    path = tmp_path / "utm.parquet"
    frame.to_parquet(path)
    source = read(path)
    assert source.format == "geoparquet" and source.fields == ["label", "count"]
    assert all(near_inside(f.geometry) for f in source.features)
    assert shape_of(source.features[1]).equals_exact(Point(LON, LAT), tolerance=1e-7)
    assert import_path(sqlite_app, path, dry_run=True)["would_create"] == 2


@pytest.mark.parametrize("kind", ["polygons", "points"])
def test_geoparquet_native_geoarrow_encoding_with_nulls(
    sqlite_app: Flask, tmp_path: Path, kind: str
) -> None:
    shapes: list[Any] = (
        [
            box(LON, LAT, LON + 1e-4, LAT + 1e-4),
            None,
            Polygon([(LON, LAT), (LON + 2e-4, LAT), (LON, LAT + 2e-4)]),
        ]
        if kind == "polygons"
        else [Point(LON, LAT), None, Point(LON + 1e-4, LAT)]
    )
    frame = gpd.GeoDataFrame(
        {"label": ["structure", "structure", None]}, geometry=shapes, crs="OGC:CRS84"
    )
    path = tmp_path / f"{kind}.parquet"
    frame.to_parquet(path, geometry_encoding="geoarrow")
    geo = json.loads(pq.ParquetFile(path).metadata.metadata[b"geo"])
    assert geo["columns"]["geometry"]["encoding"] == kind[:-1]
    features = read(path).features
    assert shape_of(features[0]).equals(shapes[0]) and shape_of(features[2]).equals(shapes[2])
    assert features[1].problem == "the feature has no geometry"
    assert features[2].properties["label"] is None


def parquet_with_geo(path: Path, geo: dict[str, Any] | None, rows_: int = 2) -> Path:
    table = pa.table(
        {
            "label": ["structure"] * rows_,
            "geometry": shapely.to_wkb([Point(LON, LAT)] * rows_).tolist(),
        }
    )
    if geo is not None:
        table = table.replace_schema_metadata({"geo": json.dumps(geo)})
    pq.write_table(table, path)
    return path


def wkb_geo(**column: Any) -> dict[str, Any]:
    return {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": []} | column},
    }


def test_geoparquet_refusals(sqlite_app: Flask, tmp_path: Path) -> None:
    plain = parquet_with_geo(tmp_path / "plain.parquet", None)
    with pytest.raises(InvalidInput, match="without GeoParquet's `geo` metadata"):
        import_path(sqlite_app, plain, dry_run=True)
    unknown = parquet_with_geo(tmp_path / "unknown.parquet", wkb_geo(crs=None))
    report = import_path(sqlite_app, unknown, dry_run=True)
    assert report["invalid"] == 2
    assert "has no coordinate reference system" in report["not_imported"][0]["reason"]
    linked = wkb_geo(
        crs={"type": "GeographicCRS", "name": "x", "datum": {"href": "http://127.0.0.1:9/crs.json"}}
    )
    with pytest.raises(UnsafeFile, match=r"names the URL 'http://127\.0\.0\.1:9/crs\.json'"):
        import_path(sqlite_app, parquet_with_geo(tmp_path / "linked.parquet", linked))
    wrong = wkb_geo()
    wrong["primary_column"] = "shape"
    with pytest.raises(InvalidInput, match="primary_column 'shape' is not among its columns"):
        import_path(sqlite_app, parquet_with_geo(tmp_path / "wrong.parquet", wrong))
    # a small file that would expand past the limit is refused before any row is read
    bomb = parquet_with_geo(tmp_path / "bomb.parquet", wkb_geo(), rows_=200_000)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(SourceTooLarge, match="would expand to"):
        read(bomb, max_bytes=1_000_000)
    assert ANALYST  # the imports above were dry runs or refused: nothing was made


def test_a_crs_naming_a_url_is_refused_and_never_fetched(
    sqlite_app: Flask, tmp_path: Path, listener: str
) -> None:
    """A FlatGeobuf whose CRS takes a grid from a URL (as ogr2ogr writes it), and a GeoParquet
    whose PROJJSON names one: refused, dry run or not, and the server sees no request."""
    fgb = tmp_path / "grid.fgb"
    wkt = (
        'GEOGCS["unknown",DATUM["WGS84 with a grid",SPHEROID["WGS 84",6378137,298.257223563],'
        f'EXTENSION["PROJ4_GRIDS","{listener}/grid.tif"]],PRIMEM["Greenwich",0],'
        'UNIT["degree",0.0174532925199433],AXIS["Longitude",EAST],AXIS["Latitude",NORTH]]'
    )
    points = shapely.to_wkb([Point(LON, LAT)], output_dimension=2)
    labels = np.array(["structure"], dtype=object)
    pyogrio.raw.write(
        fgb, points, [labels], ["label"], driver="FlatGeobuf", geometry_type="Point", crs=wkt
    )
    assert f"{listener}/grid.tif" in pyogrio.read_info(fgb)["crs"]
    crs = {"type": "GeographicCRS", "name": "x", "datum": {"href": f"{listener}/crs.json"}}
    parquet = parquet_with_geo(tmp_path / "linked.parquet", wkb_geo(crs=crs))
    for path in (fgb, parquet):
        for dry_run in (True, False):
            with pytest.raises(UnsafeFile, match="names the URL"):
                import_path(sqlite_app, path, dry_run=dry_run)
    assert Recorder.hits == []
