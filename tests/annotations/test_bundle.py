"""The evidence bundle: what it holds, that it proves its own contents, and that
`annotator verify` catches one changed byte anywhere."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html.parser
import io
import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pyogrio
import pytest
from click.testing import CliRunner
from PIL import Image

from annotations.newsroom.bundle import (
    FIGURE,
    GEOJSON,
    KML,
    MANIFEST,
    MANIFEST_HASH,
    evidence_bundle,
    verify_bundle,
)
from annotations.newsroom.evidence import Evidence
from annotator.cli import main
from tests.story import HOSTILE, PUBLISHED, in_folder, ingest_scene, make_evidence

KML_NS = {"kml": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def hostile_evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    tmp = tmp_path_factory.mktemp("bundle")
    first = ingest_scene(functools.partial(in_folder, tmp), tmp / "store")
    return make_evidence([first], hostile=True)


@pytest.fixture(scope="module")
def bundle_bytes(hostile_evidence: Evidence) -> bytes:
    return evidence_bundle(hostile_evidence)


def verify(path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", str(path)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_bundle_holds_geojson_kml_figure_and_a_manifest_of_everything(
    bundle_bytes: bytes, hostile_evidence: Evidence, tmp_path: Path
) -> None:
    archive = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    assert sorted(archive.namelist()) == sorted([GEOJSON, KML, FIGURE, MANIFEST, MANIFEST_HASH])
    manifest_bytes = archive.read(MANIFEST)
    manifest = json.loads(manifest_bytes)
    assert (
        archive.read(MANIFEST_HASH).decode().split()[0]
        == hashlib.sha256(manifest_bytes).hexdigest()
    )
    listed = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    assert set(listed) == {GEOJSON, KML, FIGURE}
    for name, digest in listed.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest
    image = hostile_evidence.images[0]
    assert manifest["images"] == [{
        "id": image.id, "sha256": image.sha256, "provider": "Demo Provider",
        "licence": "CC BY 4.0", "attribution": "Demo Provider, 2024",
        "captured_at": "2024-12-13T08:21:00Z", "gsd_m": image.gsd_m, "synthetic": False,
        "georeferencing": "north-up geotransform", "placement_error_m": None,
    }]  # fmt: skip
    first = manifest["annotations"][0]
    assert first["id"] == "a1" and first["version"] == 3
    assert (first["revised_by"], first["revised_at"]) == ("analyst", "2024-12-14T10:00:00Z")
    assert (first["approved_by"], first["approved_at"]) == ("editor", "2024-12-14T12:00:00Z")
    assert first["links"][0]["stance"] == "supports" and first["links"][0]["claim"] == 7
    [claim] = manifest["claims"]
    assert HOSTILE in claim["exact"]
    assert {(link["annotation"], link["stance"]) for link in claim["links"]} == {
        ("a1", "supports"), ("a2", "supports")}  # fmt: skip
    # the GeoJSON and the figure read back with GDAL and Pillow
    (tmp_path / GEOJSON).write_bytes(archive.read(GEOJSON))
    frame = pyogrio.read_dataframe(tmp_path / GEOJSON)
    assert len(frame) == 2 and frame.crs.to_epsg() == 4326
    assert "crs" not in json.loads(archive.read(GEOJSON))
    figure = Image.open(io.BytesIO(archive.read(FIGURE)))
    assert figure.format == "PNG" and figure.size[0] == 2400


def test_what_publishing_adds_is_carried_in_the_manifest(hostile_evidence: Evidence) -> None:
    extra = {"revision": 4, "content_sha256": "ab" * 32, "frozen_at": PUBLISHED}
    bundle = evidence_bundle(dataclasses.replace(hostile_evidence, extra=extra))
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read(MANIFEST))
    expected = {"revision": 4, "content_sha256": "ab" * 32, "frozen_at": "2026-05-25T09:00:00Z"}
    assert manifest["publication"] == expected


def test_the_same_evidence_gives_the_same_bundle(
    bundle_bytes: bytes, hostile_evidence: Evidence
) -> None:
    assert evidence_bundle(hostile_evidence) == bundle_bytes


def test_kml_shows_markup_as_text_with_label_colours_and_times(
    bundle_bytes: bytes, tmp_path: Path
) -> None:
    text = zipfile.ZipFile(io.BytesIO(bundle_bytes)).read(KML)
    root = ET.fromstring(text)  # noqa: S314 (our own output)
    placemarks = root.findall(".//kml:Placemark", KML_NS)
    assert len(placemarks) == 2
    name = placemarks[0].findtext("kml:name", namespaces=KML_NS)
    assert name == f"Antonov An-124 Ruslan{HOSTILE}"
    description = placemarks[0].findtext("kml:description", namespaces=KML_NS) or ""
    # the description is HTML to Google Earth: no element may come out of the user's text
    parser = _Tags()
    parser.feed(description)
    # only the writer's own: line breaks, and blocks that take their direction from their text
    assert parser.tags <= {"br", "div"}, parser.tags
    assert parser.attributes <= {("dir", "auto")}, parser.attributes
    assert HOSTILE in parser.text
    assert placemarks[0].findtext("kml:TimeStamp/kml:when", namespaces=KML_NS) == (
        "2024-12-13T08:21:00Z"
    )
    colours = {c.text for c in root.findall(".//kml:LineStyle/kml:color", KML_NS)}
    assert colours == {"ffd4b606"}  # #06b6d4 as aabbggrr
    (tmp_path / KML).write_bytes(text)
    frame = pyogrio.read_dataframe(tmp_path / KML)
    assert len(frame) == 2 and frame.geometry.geom_type.tolist() == ["Polygon", "Polygon"]


def test_verify_passes_on_a_fresh_bundle(bundle_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "evidence.zip"
    path.write_bytes(bundle_bytes)
    assert verify_bundle(path) == []
    code, out, err = verify(path)
    assert code == 0 and out.startswith("OK") and err == ""


@pytest.mark.parametrize("member", [GEOJSON, KML, FIGURE, MANIFEST, MANIFEST_HASH])
def test_one_changed_byte_in_any_member_fails(
    bundle_bytes: bytes, tmp_path: Path, member: str
) -> None:
    """A byte flipped in the stored data (the zip's own CRC may catch it first)."""
    archive = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    info = archive.getinfo(member)
    header = bundle_bytes[info.header_offset : info.header_offset + 30]
    start = (
        info.header_offset
        + 30
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    damaged = bytearray(bundle_bytes)
    damaged[start + info.compress_size // 2] ^= 0x01
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(damaged))
    problems = verify_bundle(path)
    assert problems and any(member in line for line in problems), problems
    code, out, err = verify(path)
    assert code == 1 and "OK" not in out
    assert len(err.strip().splitlines()) == len(problems)
    assert "Traceback" not in err


@pytest.mark.parametrize("member", [GEOJSON, KML, FIGURE, MANIFEST])
def test_a_rezipped_member_with_one_changed_byte_fails_its_hash(
    bundle_bytes: bytes, tmp_path: Path, member: str
) -> None:
    """A tamperer who re-zips (so every CRC is right) is caught by the sha256s."""
    path = tmp_path / "tampered.zip"
    _rewrite(bundle_bytes, path, member)
    problems = verify_bundle(path)
    expected = f"{member}: sha256" if member != MANIFEST else f"{MANIFEST}: sha256"
    assert any(line.startswith(expected) for line in problems), problems


def test_an_added_or_removed_member_fails(bundle_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "extra.zip"
    _rewrite(bundle_bytes, path, None, extra=("notes.txt", b"added later"))
    assert verify_bundle(path) == ["notes.txt: not listed in manifest.json"]
    path = tmp_path / "missing.zip"
    _rewrite(bundle_bytes, path, None, drop=FIGURE)
    assert verify_bundle(path) == [f"{FIGURE}: listed in manifest.json but missing"]


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "C:/evil.txt", "a\\..\\evil"]
)
def test_zip_slip_names_are_refused(bundle_bytes: bytes, tmp_path: Path, name: str) -> None:
    path = tmp_path / "slip.zip"
    _rewrite(bundle_bytes, path, None, extra=(name, b"x"))
    problems = verify_bundle(path)
    assert len(problems) == 1 and "unsafe member name" in problems[0], problems
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize(
    "content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40, b"<html></html>"]
)
def test_a_corrupt_or_non_zip_file_gives_one_clear_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(content)
    code, out, err = verify(path)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "not a readable zip file" in lines[0], err


def test_a_missing_file_gives_one_clear_line(tmp_path: Path) -> None:
    code, _, err = verify(tmp_path / "nowhere.zip")
    assert code == 1 and err.strip().splitlines() == [f"{tmp_path / 'nowhere.zip'}: no such file"]


def _rewrite(
    source: bytes,
    path: Path,
    change: str | None,
    *,
    extra: tuple[str, bytes] | None = None,
    drop: str | None = None,
) -> None:
    with (
        zipfile.ZipFile(io.BytesIO(source)) as original,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in original.infolist():
            if info.filename == drop:
                continue
            data = bytearray(original.read(info))
            if info.filename == change:
                data[len(data) // 2] ^= 0x01
            out.writestr(info.filename, bytes(data))
        if extra is not None:
            out.writestr(zipfile.ZipInfo(extra[0]), extra[1])


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[tuple[str, str | None]] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(attrs)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_a_folder_gives_one_clear_line(tmp_path: Path) -> None:
    code, _, err = verify(tmp_path)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "not a readable zip" in err
