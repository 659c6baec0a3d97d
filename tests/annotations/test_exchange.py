"""Every export format read back by GDAL (pyogrio): same features, same geometries within
1e-7 degrees, every column intact (Arabic, Cyrillic, markup-like text, provenance)."""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas
import pyarrow as pa
import pyogrio
import pystac
import pytest
import shapely
from pystac.extensions.label import LabelExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import RasterExtension
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from annotations.annotation import Annotation
from annotations.catalogue.images import get_image
from annotations.errors import NotFound
from annotations.exchange import FORMATS, Selection, export
from annotations.exchange.columns import COLUMNS, SHORT_NAMES
from annotations.exchange.formats import TargetExists, UnknownFormat
from annotations.exchange.kml import KML_NS, kml_colour
from annotations.exchange.stac import validate_catalogue
from annotations.search import Filters
from annotator import services
from tests.conftest import make_app
from tests.exchange_world import (
    ARABIC,
    CAPTURED,
    CYRILLIC,
    MARKUP,
    PROVIDER,
    World,
    build_world,
)

GDAL_FORMATS = tuple(name for name, fmt in FORMATS.items() if not fmt.folder)
K = "{" + KML_NS + "}"


@pytest.fixture
def world(tmp_path: Path, database_url: str, make_geotiff: Callable[..., Path]) -> Iterator[World]:
    app = make_app(tmp_path, database_url)
    from annotations.schema import upgrade

    upgrade(services.database(app))
    yield build_world(app, make_geotiff)
    services.database(app).dispose()


def selection(world: World, batch_size: int = 2, **filters: Any) -> Selection:
    app = world.app
    return Selection(
        database=services.database(app), filters=Filters(**filters),
        taxonomy=services.taxonomy(app), images_dir=app.config["IMAGES_DIR"],
        batch_size=batch_size,
    )  # fmt: skip


def expected(world: World) -> dict[str, dict[str, Any]]:
    """What every export must carry, read from the database the ordinary way."""
    database = services.database(world.app)
    taxonomy = services.taxonomy(world.app)
    out: dict[str, dict[str, Any]] = {}
    with database.read() as session:
        for annotation in session.query(Annotation).filter(Annotation.deleted_at.is_(None)):
            image = get_image(session, annotation.image_id)
            out[annotation.id] = {
                "id": annotation.id, "label": annotation.label,
                "label_name": taxonomy.get(annotation.label).name, "shape": annotation.shape,
                "confidence": annotation.confidence, "count": annotation.count,
                "status": annotation.status, "version": annotation.version,
                "notes": annotation.notes, "attributes": json.loads(annotation.attributes_json),
                "measurements": json.loads(annotation.measurements_json),
                "observed_at": annotation.observed_at, "image_id": annotation.image_id,
                "captured_at": image.captured_at, "provider": image.provider,
                "licence": image.licence, "attribution": image.attribution,
                "gsd_m": image.gsd_m, "georeferencing": image.georeferencing["text"],
                "analyst": annotation.created_by,
                "updated_by": annotation.updated_by, "updated_at": annotation.updated_at,
                "reports": "", "geometry": annotation.geometry,
            }  # fmt: skip
    return out


def canonical(kind: str, value: Any) -> Any:
    """One comparable form per column kind, whatever type the driver hands back."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "time":
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00").replace("/", "-"))
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        value = value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    if kind == "integer":
        return int(value)
    if kind == "real":
        return float(value)
    if kind == "json":
        return json.loads(value) if isinstance(value, str) else value
    return "" if value == "" else str(value)


def kind_of(name: str) -> str:
    if name in ("attributes", "measurements"):
        return "json"
    return next(c.kind for c in COLUMNS if c.name == name)


def same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    def single(g: BaseGeometry) -> BaseGeometry:
        parts = getattr(g, "geoms", None)
        return parts[0] if parts is not None and len(parts) == 1 else g

    a, b = shapely.normalize(single(a)), shapely.normalize(single(b))
    return a.geom_type == b.geom_type and bool(a.equals_exact(b, tolerance=1e-7))


def read_back(path: Path, name: str) -> list[dict[str, Any]]:
    """Every feature as {column: value, 'geometry': shapely}, read by GDAL (GeoParquet by
    geopandas)."""
    frames = []
    if name == "shp":
        for layer, _ in pyogrio.list_layers(f"/vsizip/{path}"):
            frame = pyogrio.read_dataframe(f"/vsizip/{path}", layer=layer)
            frames.append(frame.rename(columns={s: n for n, s in SHORT_NAMES.items()}))
    elif name == "gpkg":  # a layer per geometry type (layer_styles is a table, no geometry)
        for layer, kind in pyogrio.list_layers(path):
            if kind is not None:
                frames.append(pyogrio.read_dataframe(path, layer=layer))
    elif name == "csv":
        frames.append(pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="WKT",
                                             KEEP_GEOM_COLUMNS="NO"))  # fmt: skip
    elif name == "geoparquet":  # GDAL here has no Parquet driver: geopandas reads it (pyarrow)
        frame = geopandas.read_parquet(path)
        assert frame.crs is not None and frame.crs.to_authority() == ("OGC", "CRS84"), frame.crs
        frames.append(frame)
    else:
        frame = pyogrio.read_dataframe(path)
        if name in ("kml", "kmz"):  # LIBKML: `id` is the Placemark's, the data's `id2`
            assert set(frame["id"]) == {f"annotation-{i}" for i in frame["id2"]}
            frame = frame.drop(columns="id").rename(columns={"id2": "id"})
        frames.append(frame)
    rows = []
    for frame in frames:
        rows += [dict(zip(frame.columns, values, strict=True))
                 for values in frame.itertuples(index=False)]  # fmt: skip
    return rows


@pytest.mark.parametrize("name", GDAL_FORMATS)
def test_every_export_reads_back_the_same(world: World, tmp_path: Path, name: str) -> None:
    target = tmp_path / f"out{FORMATS[name].extension}"
    written = export(selection(world), name, target)
    truth = expected(world)
    assert written == len(truth) == 6  # the deleted one is left out
    rows = read_back(target, name)
    assert len(rows) == len(truth)
    for row in rows:
        want = truth[str(row["id"])]
        assert same_geometry(row["geometry"], want["geometry"]), (name, row["id"])
        for column in COLUMNS:
            kind = kind_of(column.name)
            got = canonical(kind, row[column.name])
            assert got == canonical(kind, want[column.name]) or (
                got is None and want[column.name] in ("", None)
            ), (name, column.name, got, want[column.name])
    notes = {str(row["notes"]) for row in rows}
    assert {ARABIC, CYRILLIC, MARKUP} <= notes
    # nothing but the finished file is left beside it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [target.name]


def test_batches_of_one_lose_nothing(world: World, tmp_path: Path) -> None:
    """A batch of one: every batch is its own Arrow batch / append, and none is lost."""
    target = tmp_path / "one-by-one.gpkg"
    assert export(selection(world, batch_size=1), "gpkg", target) == 6
    assert len(read_back(target, "gpkg")) == 6


def test_geojson_is_rfc7946(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.geojson"
    export(selection(world), "geojson", target)
    document = json.loads(target.read_text(encoding="utf-8"))
    assert "crs" not in document
    truth = expected(world)
    for feature in document["features"]:
        assert feature["id"] in truth
        geometry = shape(feature["geometry"])
        for polygon in getattr(geometry, "geoms", [geometry]):
            if isinstance(polygon, shapely.Polygon):
                assert polygon.exterior.is_ccw  # RFC 7946: exterior rings counter-clockwise
                assert all(not ring.is_ccw for ring in polygon.interiors)
        for x, y in shapely.get_coordinates(geometry):
            assert round(x, 7) == x and round(y, 7) == y


def test_kml_is_styled_escaped_and_timed(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.kml"
    export(selection(world), "kml", target)
    raw = target.read_bytes()
    assert b"<script>" not in raw and b"<b>" not in raw  # markup arrives as text
    root = ET.fromstring(raw)  # noqa: S314  (the file this test just wrote)
    document = root.find(f"{K}Document")
    assert document is not None
    taxonomy = services.taxonomy(world.app)
    styles = {s.get("id"): s for s in document.findall(f"{K}Style")}
    truth = expected(world)
    placemarks = document.findall(f"{K}Placemark")
    assert len(placemarks) == len(truth)
    for placemark in placemarks:
        data = {d.get("name"): d.text for d in placemark.iter(f"{K}SimpleData")}  # typed
        want = truth[data["id"] or ""]
        assert placemark.findtext(f"{K}name") == want["label_name"]
        assert placemark.findtext(f"{K}TimeStamp/{K}when") == "2024-12-13T08:21:00Z"
        # the balloon is HTML to Google Earth: the notes arrive escaped, as text
        shown = html.escape(want["notes"]).replace("\n", "<br>")
        assert shown in (placemark.findtext(f"{K}description") or "")
        style = styles[(placemark.findtext(f"{K}styleUrl") or "").lstrip("#")]
        colour = kml_colour(taxonomy.get(want["label"]).colour)
        assert style.findtext(f"{K}LineStyle/{K}color") == colour


def test_kmz_holds_doc_kml(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.kmz"
    export(selection(world), "kmz", target)
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ["doc.kml"]
        ET.fromstring(archive.read("doc.kml"))  # noqa: S314  (written by this test)


def test_csv_carries_wkt_and_centroid(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    export(selection(world), "csv", target)
    header = target.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[0] == "WKT" and header[-2:] == ["centroid_lon", "centroid_lat"]
    truth = expected(world)
    for row in read_back(target, "csv"):
        middle = truth[row["id"]]["geometry"].centroid
        assert abs(float(row["centroid_lon"]) - middle.x) < 1e-9
        assert abs(float(row["centroid_lat"]) - middle.y) < 1e-9


def test_shapefile_zip_layers_prj_cpg_fields(world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.zip"
    export(selection(world), "shp", target)
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        fields = archive.read("fields.txt").decode()
        cpg = archive.read("annotations_polygons.cpg").decode().strip()
    layers = ("points", "multipoints", "lines", "polygons")
    for layer in layers:
        for extension in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert f"annotations_{layer}{extension}" in names
    assert cpg.upper().replace("-", "") == "UTF8"
    for column in COLUMNS:
        assert f"{column.name} -> {column.short}:" in fields
        assert len(column.short) <= 10


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_shapefile_cuts_long_text_at_a_character_and_lists_it(world: World, tmp_path: Path) -> None:
    """DBF text holds 254 bytes: a longer note is cut at a character boundary (3-byte euro
    signs do not divide 254), listed in truncated.csv; other formats keep it whole."""
    long_notes = {"an124": "€" * 100, "convoy": CYRILLIC * 10}  # 300 and 440 bytes
    database = services.database(world.app)
    with database.write() as session:
        for name, notes in long_notes.items():
            session.get(Annotation, world.ids[name]).notes = notes
    target = tmp_path / "out.zip"
    export(selection(world), "shp", target)
    rows = {str(row["id"]): row for row in read_back(target, "shp")}
    for name, notes in long_notes.items():
        got = rows[world.ids[name]]["notes"]
        assert len(got.encode()) <= 254 and notes.startswith(got), (name, got)
        assert len(got.encode()) > 254 - 4  # the most a cut at a character boundary loses
    assert rows[world.ids["an124"]]["notes"] == "€" * 84
    with zipfile.ZipFile(target) as archive:
        listed = archive.read("truncated.csv").decode().splitlines()
    assert listed[0] == "id,field,bytes"
    assert sorted(listed[1:]) == sorted(
        f"{world.ids[name]},notes,{len(notes.encode())}" for name, notes in long_notes.items()
    )
    whole = tmp_path / "out.gpkg"
    export(selection(world), "gpkg", whole)
    kept = {row["id"]: row["notes"] for row in read_back(whole, "gpkg")}
    assert kept[world.ids["an124"]] == long_notes["an124"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_filters_select_what_the_search_selects(world: World, tmp_path: Path) -> None:
    def ids(**filters: Any) -> set[str]:
        target = tmp_path / f"f{len(list(tmp_path.iterdir()))}.geojson"
        export(selection(world, **filters), "geojson", target)
        return {f["id"] for f in json.loads(target.read_text())["features"]}

    every = set(world.ids.values()) - {world.ids["deleted"]}
    assert ids() == every
    assert ids(site="hmeimim") == every
    written = sorted(tmp_path.iterdir())
    with pytest.raises(NotFound, match="no site 'nowhere'"):  # not an empty file
        ids(site="nowhere")
    assert sorted(tmp_path.iterdir()) == written
    assert ids(image=world.image_id) == every
    assert ids(label="vehicle") == {world.ids[n] for n in ("truck", "convoy", "tanks")}
    assert ids(status=("approved",)) == {world.ids["an124"]}
    assert ids(status=("in_review", "approved")) == {world.ids["an124"], world.ids["convoy"]}
    lon, lat = world.centre
    assert ids(bbox=(lon + 0.0008, lat - 0.00005, lon + 0.00095, lat + 0.00005)) == {
        world.ids["truck"]
    }
    assert ids(start=datetime(2025, 1, 1, tzinfo=UTC)) == set()
    assert ids(end=datetime(2025, 1, 1, tzinfo=UTC)) == every
    assert ids(include_deleted=True) == set(world.ids.values())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refusals_leave_nothing_behind(world: World, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(UnknownFormat, match="geojson, gpkg"):
        export(selection(world), "dxf", tmp_path / "out.dxf")
    taken = tmp_path / "taken.gpkg"
    taken.write_bytes(b"keep me")
    with pytest.raises(TargetExists):
        export(selection(world), "gpkg", taken)
    assert taken.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["taken.gpkg"]


def test_the_readme_documents_every_column_and_format() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column.name}` | `{column.short}` |" in readme
    for name in FORMATS:
        assert f"| `{name}` |" in readme


# ---- STAC ----------------------------------------------------------------------------

EXTENSIONS = {
    "https://stac-extensions.github.io/label/v1.0.1/schema.json",
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
}


def extension_schemas() -> Path | None:
    """Where published extension schema files are, when the tester has them (no package
    ships them and the tests never fetch): ANNOTATOR_STAC_SCHEMAS."""
    folder = os.environ.get("ANNOTATOR_STAC_SCHEMAS")
    return Path(folder) if folder else None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stac_catalogue_validates_and_holds_label_items(world: World, tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    assert export(selection(world), "stac", root) == 6
    unchecked = validate_catalogue(root, extension_schemas())
    assert unchecked <= EXTENSIONS
    if extension_schemas() is not None:
        assert unchecked == set()

    catalog = pystac.Catalog.from_file(str(root / "catalog.json"))
    [collection] = list(catalog.get_children())
    assert isinstance(collection, pystac.Collection)
    assert collection.id == "hmeimim" and collection.title == "Hmeimim air base"
    assert collection.license == "CC-BY-4.0"
    assert PROVIDER in [p.name for p in collection.providers or []]
    items = {item.id: item for item in collection.get_items()}
    image_item = items[world.image_id]
    projection = ProjectionExtension.ext(image_item)
    assert projection.code == "EPSG:32636" and projection.shape == [300, 400]
    asset = image_item.assets["image"]
    assert (
        asset.media_type == pystac.MediaType.COG and Path(asset.get_absolute_href() or "").is_file()
    )
    bands = RasterExtension.ext(asset).bands or []
    assert [b.data_type for b in bands] == ["uint8"] * 3
    assert image_item.datetime == CAPTURED

    labels_item = items[f"{world.image_id}-labels"]
    label = LabelExtension.ext(labels_item)
    truth = expected(world)
    wanted = Counter(row["label"] for row in truth.values())
    assert label.label_tasks == ["detection"] and label.label_methods == ["manual"]
    assert label.label_properties == ["label"]
    assert (label.label_classes or [])[0].classes == sorted(wanted)
    [overview] = label.label_overviews or []
    assert {c.name: c.count for c in overview.counts or []} == dict(wanted)
    [source] = labels_item.get_links("source")
    assert (
        Path(source.get_absolute_href() or "").resolve()
        == Path(image_item.get_self_href() or "").resolve()
    )
    geojson = labels_item.assets["labels"]
    frame = pyogrio.read_dataframe(geojson.get_absolute_href())
    assert sorted(frame["id"]) == sorted(truth)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_offline_validator_does_refuse(world: World, tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    export(selection(world), "stac", root)
    path = next(root.glob(f"*/{world.image_id}/{world.image_id}.json"))
    item = json.loads(path.read_text())
    del item["properties"]["datetime"]
    path.write_text(json.dumps(item))
    with pytest.raises(pystac.errors.STACValidationError):
        validate_catalogue(root, extension_schemas())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stac_can_carry_its_images(world: World, tmp_path: Path) -> None:
    root = tmp_path / "catalogue"
    chosen = dataclasses.replace(selection(world), options={"images": "copy"})
    export(chosen, "stac", root)
    [copied] = list(root.glob("*/*/*.tif"))
    item = pystac.Item.from_file(str(next(root.glob(f"*/{world.image_id}/{world.image_id}.json"))))
    assert item.assets["image"].href == f"./{copied.name}"
    assert copied.stat().st_size > 0


def test_a_shapefile_writer_that_fails_raises_in_the_exporter(tmp_path: Path) -> None:
    """Each Shapefile layer is written on its own thread; its failure is the export's."""
    from annotations.exchange.gdal import _LayerWriter, schema

    target_schema = schema(times_as_text=True, short_names=True)
    writer = _LayerWriter(tmp_path / "missing" / "points.shp", FORMATS["shp"], target_schema,
                          "points")  # fmt: skip
    with pytest.raises(pyogrio.errors.DataLayerError, match="Failed to create file"):
        writer.put(pa.RecordBatch.from_pylist([], schema=target_schema))
        writer.close()
    assert not (tmp_path / "missing").exists()
