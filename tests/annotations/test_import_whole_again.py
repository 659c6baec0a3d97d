"""Importing the very same file again is answered from the row its first import left
(`batch.files`), without reading the file; what it answers must be exactly what the whole
plan says. Anything that could change that plan sends it through the whole plan: an
edited file, another label map, another image, an annotation gone from the catalogue.
Whatever path it takes, its report is the whole plan's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from rasterio.transform import from_origin
from sqlalchemy import select, text

from annotations.annotation import Actor, Annotation, as_input, delete, update
from annotations.catalogue.users import Role
from annotations.errors import InvalidInput
from annotations.exchange import imports
from annotations.exchange.batch.files import ImportedFile
from annotator import services
from tests.annotations.test_import_batch import LAT, LON, valid_features
from tests.annotations.test_imports import add_image, atlanta, import_path, write_geojson
from tests.conftest import write_geotiff

__all__ = ["atlanta"]  # the fixture, used by name

EDITOR = Actor("editor", Role.editor)


def whole_features() -> list[dict[str, Any]]:
    """`valid_features` without the duplicate and the one outside every image: a file an
    import accounts for whole."""
    seen: set[str] = set()
    kept = []
    for feature in valid_features():
        feature_id = feature["properties"]["id"]
        if feature_id not in seen and feature_id != "far":
            seen.add(feature_id)
            kept.append(feature)
    return kept


class Reads:
    """Counts the files an import reads, and gives the whole plan's report of one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.monkeypatch = monkeypatch
        read = imports.read_source

        def counting(*args: Any) -> Any:
            self.count += 1
            return read(*args)

        monkeypatch.setattr(imports, "read_source", counting)

    def import_(self, app: Flask, path: Path, **options: Any) -> tuple[dict[str, Any], bool]:
        """The report, and whether the file was read."""
        before = self.count
        report = import_path(app, path, **options)
        return report, self.count > before

    def whole(self, app: Flask, path: Path, **options: Any) -> dict[str, Any]:
        """The whole plan's report (a dry run, the remembered rows not looked at)."""
        with self.monkeypatch.context() as patch:
            patch.setattr(imports, "_imported_whole_before", lambda *args: None)
            return import_path(app, path, dry_run=True, **options)


def same(report: dict[str, Any], whole: dict[str, Any]) -> bool:
    """Equal but for whether it was a dry run."""
    return {**report, "dry_run": True} == whole


def test_the_same_file_again_is_answered_without_reading_it(
    atlanta: tuple[Flask, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = atlanta
    reads = Reads(monkeypatch)
    path = write_geojson(tmp_path / "whole.geojson", whole_features())
    first, _ = reads.import_(app, path)
    assert (first["created"], first["already_imported"], first["not_imported"]) == (11, 0, [])
    with services.database(app).read() as session:
        rows = list(session.scalars(select(ImportedFile)))
    assert [(r.sha256, r.features, len(r.keys)) for r in rows] == [
        (first["source"]["sha256"], 11, 11 * 32)
    ]

    dry = import_path(app, path, dry_run=True)
    again, read = reads.import_(app, path)
    assert not read
    assert (again["created"], again["already_imported"], again["would_create"]) == (0, 11, 0)
    whole = reads.whole(app, path)
    assert same(again, whole) and dry == whole

    # under another name (a GeoJSON layer is named after its file): read again
    renamed = tmp_path / "renamed.geojson"
    renamed.write_bytes(path.read_bytes())
    report, read = reads.import_(app, renamed)
    assert read and same(report, reads.whole(app, renamed))
    assert (report["created"], report["already_imported"]) == (0, 11)

    # through a label map: the plan may differ, so the file is read
    report, read = reads.import_(app, path, label_map={"structure": "vehicle.truck"})
    assert read and report["already_imported"] == 11
    assert same(report, reads.whole(app, path, label_map={"structure": "vehicle.truck"}))

    # an edited file (another SHA-256): read and checked feature by feature
    edited = whole_features()
    edited[0]["properties"]["notes"] = "seen again"
    other = write_geojson(tmp_path / "whole.geojson", edited)
    report, read = reads.import_(app, other)
    assert read and same(report, reads.whole(app, other))


def test_changes_in_the_catalogue_are_seen(
    atlanta: tuple[Flask, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = atlanta
    reads = Reads(monkeypatch)
    path = write_geojson(tmp_path / "whole.geojson", whole_features())
    assert reads.import_(app, path)[0]["created"] == 11
    database = services.database(app)

    # an annotation's label changed, another deleted: still there under their keys, as
    # the whole plan finds them
    with database.write() as session:
        first, second = session.scalars(
            select(Annotation).where(Annotation.import_key.is_not(None)).limit(2)
        ).all()
        data = as_input(first)
        data.label = "vehicle.truck" if first.label != "vehicle.truck" else "structure"
        update(session, first, data, EDITOR, first.version)
        delete(session, second, EDITOR, second.version)
    report, _ = reads.import_(app, path)
    assert same(report, reads.whole(app, path))
    assert (report["created"], report["already_imported"]) == (0, 11)

    # an annotation gone from the catalogue (as a restored backup from before the import
    # leaves it): its key is no longer stored, so the file is read and it is made again
    with database.write() as session:
        gone = session.scalars(
            select(Annotation).where(Annotation.import_key.is_not(None)).limit(1)
        ).one()
        session.execute(text("DELETE FROM revisions WHERE annotation_id = :id"), {"id": gone.id})
        session.delete(gone)
    whole = reads.whole(app, path)
    assert (whole["would_create"], whole["already_imported"]) == (1, 10)
    report, read = reads.import_(app, path)
    assert read and (report["created"], report["already_imported"]) == (1, 10)

    # another image over the features: each now lies on two images, which the whole plan
    # refuses ("choose one"), so the remembered answer must not be given
    assert not reads.import_(app, path)[1]  # remembered again after the last import
    scene = write_geotiff(
        tmp_path / "over.tif",
        crs="EPSG:4326",
        transform=from_origin(LON - 0.01, LAT + 0.01, 0.0001, 0.0001),
    )
    add_image(app, scene)
    whole = reads.whole(app, path)
    assert whole["invalid"] > 0
    before = reads.count
    with pytest.raises(InvalidInput, match="choose one"):
        import_path(app, path)
    assert reads.count == before + 1
