"""Bad and hostile files: each refused with a clear reason, nothing imported, and nothing
written outside the import's own temporary folder (which is removed afterwards)."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from flask import Flask
from shapely.geometry import box

from annotations.errors import AnnotationError
from annotations.exchange.safety import (
    SourceTooLarge,
    UnreadableSource,
    UnsafeFile,
    UnsupportedSource,
    check_regular_file,
    extract_zip,
)
from tests.annotations.test_imports import count, import_path
from tests.servers import Quiet, http_server


def refused(app: Flask, path: Path, kind: type[AnnotationError], match: str) -> None:
    with pytest.raises(kind, match=match):
        import_path(app, path)
    assert count(app) == 0
    leftovers = list(Path(app.config["TMP_DIR"]).iterdir())
    assert leftovers == [], "the import's temporary folder is removed"


def test_zip_with_parent_or_absolute_paths_is_refused(app: Flask, tmp_path: Path) -> None:
    outside = tmp_path / "zone"
    for name in ("../../evil", "/tmp/absolutely-evil", "..\\..\\evil.shp", "C:/evil.shp"):
        archive = tmp_path / "slip.zip"
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("ok.txt", "fine")
            zipped.writestr(zipfile.ZipInfo(name), "pwned")
        refused(app, archive, UnsafeFile, "outside its own folder")
    assert not (tmp_path.parent / "evil").exists()
    assert not Path("/tmp/absolutely-evil").exists()
    assert not outside.exists()


def test_zip_with_a_link_is_refused(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    entry = zipfile.ZipInfo("layer.shp")
    entry.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(entry, "/etc/passwd")
    refused(app, archive, UnsafeFile, "link or device")


def test_zip_bomb_is_refused_from_its_central_directory(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("layer.shp", b"\0" * (40 * 1024 * 1024))
    assert archive.stat().st_size < 100 * 1024
    refused(app, archive, UnsafeFile, "zip bomb")


def test_zip_expanding_past_the_size_limit_is_refused_before_extracting(tmp_path: Path) -> None:
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for index in range(3):
            zipped.writestr(f"part{index}.dbf", os.urandom(400_000))
    target = tmp_path / "out"
    with pytest.raises(UnsafeFile, match="expand to more than 1 MB"):
        extract_zip(archive, target, max_bytes=1_000_000)
    assert not target.exists(), "nothing extracted"
    assert len(extract_zip(archive, target, max_bytes=2_000_000)) == 3


def test_zip_without_a_shapefile_is_refused(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "docs.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no layers here")
        zipped.writestr("roads.dbf", b"\x03")
    refused(app, archive, UnreadableSource, "holds no .shp file")


def test_corrupt_zip_is_refused(app: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "cut.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.shp", os.urandom(5000))
    archive.write_bytes(archive.read_bytes()[:2000])
    refused(app, archive, UnreadableSource, "zip archive")


class Recorder(Quiet):
    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"secret")


@pytest.fixture
def listener() -> Iterator[str]:
    """A local web server that records every request made to it."""
    Recorder.hits = []
    with http_server(Recorder) as url:
        yield url


def xxe_documents(url: str, secret: Path) -> dict[str, bytes]:
    body = "<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><name>&xxe;</name>" \
           "<Point><coordinates>-84.479,33.638</coordinates></Point></Placemark></kml>"  # fmt: skip
    plain = body.replace("&xxe;", "x")
    by_url = f'<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY xxe SYSTEM "{url}/x">]>{body}'
    return {
        "url": by_url.encode(),
        "file": f'<!DOCTYPE kml [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>{body}'.encode(),
        "parameter": f'<!DOCTYPE kml [<!ENTITY % p SYSTEM "{url}/p"> %p;]>{plain}'.encode(),
        "doctype": f"<!DOCTYPE kml>{plain}".encode(),
        "utf16": by_url.replace('"1.0"?', '"1.0" encoding="UTF-16"?').encode("utf-16"),
    }


def test_kml_with_a_doctype_or_external_entity_is_refused_and_nothing_is_fetched(
    app: Flask, tmp_path: Path, listener: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("structure")
    for name, raw in xxe_documents(listener, secret).items():
        path = tmp_path / f"{name}.kml"
        path.write_bytes(raw)
        refused(app, path, UnsafeFile, "DOCTYPE or an entity")
        kmz = tmp_path / f"{name}.kmz"
        with zipfile.ZipFile(kmz, "w") as zipped:
            zipped.write(path, "doc.kml")
        refused(app, kmz, UnsafeFile, "DOCTYPE or an entity")
    assert Recorder.hits == [], "no URL was fetched"


def test_kml_network_links_are_not_followed(app: Flask, tmp_path: Path, listener: str) -> None:
    path = tmp_path / "linked.kml"
    path.write_text(
        "<kml xmlns='http://www.opengis.net/kml/2.2'><NetworkLink><Link>"
        f"<href>{listener}/more.kml</href></Link></NetworkLink></kml>"
    )
    refused(app, path, UnsafeFile, "NetworkLink")
    assert Recorder.hits == []


def test_malformed_xml_is_refused(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "cut.kml"
    path.write_text("<kml xmlns='http://www.opengis.net/kml/2.2'><Placemark><name>x</na")
    refused(app, path, UnreadableSource, "not well-formed")


def test_corrupt_geopackage_is_refused(app: Flask, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"label": ["structure"] * 3000},
                             geometry=[box(-84.48, 33.638, -84.479, 33.639)] * 3000,
                             crs="EPSG:4326")  # fmt: skip
    whole = tmp_path / "whole.gpkg"
    frame.to_file(whole, driver="GPKG")
    raw = whole.read_bytes()
    half = tmp_path / "half.gpkg"
    half.write_bytes(raw[: len(raw) // 2])
    refused(app, half, UnreadableSource, "corrupt GeoPackage")
    scrambled = tmp_path / "scrambled.gpkg"
    scrambled.write_bytes(raw[:4096] + os.urandom(len(raw) - 4096))
    refused(app, scrambled, UnreadableSource, "corrupt GeoPackage")
    plain = tmp_path / "plain.gpkg"
    plain.write_bytes(raw[:68] + b"XXXX" + raw[72:])
    refused(app, plain, UnreadableSource, "not a GeoPackage")


def test_geojson_cut_short_is_refused(app: Flask, shared_data: Path, tmp_path: Path) -> None:
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    path = tmp_path / "half.geojson"
    path.write_bytes(raw[: len(raw) // 2])
    refused(app, path, UnreadableSource, "was it cut short")


def test_other_files_are_refused(app: Flask, tmp_path: Path, shared_data: Path) -> None:
    tiff = tmp_path / "labels.geojson"
    tiff.write_bytes((shared_data / "RGB.byte.tif").read_bytes()[:20_000])
    refused(app, tiff, UnsupportedSource, "not a format the import reads")
    svg = tmp_path / "drawing.kml"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    refused(app, svg, UnsupportedSource, "not KML")
    not_geojson = tmp_path / "list.json"
    not_geojson.write_text(json.dumps({"type": "Topology", "objects": {}}))
    refused(app, not_geojson, UnsupportedSource, "not a GeoJSON")
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    refused(app, empty, UnreadableSource, "holds no features")


def test_paths_must_be_regular_files_within_the_limit(tmp_path: Path) -> None:
    with pytest.raises(AnnotationError, match="not a regular file"):
        check_regular_file(tmp_path, 1000)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(AnnotationError, match="not a regular file"):
        check_regular_file(fifo, 1000)
    with pytest.raises(AnnotationError, match="No such file"):
        check_regular_file(tmp_path / "missing.geojson", 1000)
    big = tmp_path / "big.geojson"
    big.write_bytes(b" " * 2000)
    with pytest.raises(SourceTooLarge, match="over the limit"):
        check_regular_file(big, 1000)


def test_stac_links_outside_the_item_folder_are_not_followed(
    app: Flask, tmp_path: Path, listener: str
) -> None:
    outside = tmp_path / "outside.geojson"
    outside.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    folder = tmp_path / "item"
    folder.mkdir()
    for href in ("../outside.geojson", str(outside), f"{listener}/labels.geojson",
                 outside.as_uri()):  # fmt: skip
        item = {"type": "Feature", "stac_version": "1.1.0", "id": "x", "properties": {},
                "assets": {"labels": {"href": href}}, "links": []}  # fmt: skip
        path = folder / "item.json"
        path.write_text(json.dumps(item))
        refused(app, path, UnsafeFile, "not followed|leaves the item's folder")
    assert Recorder.hits == []
