"""Importing the same file again finds its features by key first (`batch.known`): they are
counted "already imported" without their properties being checked again. Whatever the
file, the plan must be exactly the one the whole check makes, feature by feature: the
same file, an edited copy (another SHA-256), and the same file read through another
label map."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotations.errors import InvalidInput
from annotations.exchange import imports
from annotations.exchange.batch.known import already_made
from annotations.exchange.imports import ImportOptions, Placement, _keys, plan_import
from annotations.exchange.sources import Source, SourceFeature, Workspace, read_source
from annotator import services
from tests.annotations.test_import_batch import valid_features
from tests.annotations.test_imports import atlanta, import_path, write_geojson

__all__ = ["atlanta"]  # the fixture, used by name


def read(app: Flask, path: Path) -> Source:
    """The file as an import reads it, with its real SHA-256."""
    folder = Path(app.config["TMP_DIR"]) / f"again-{path.stem}"
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / "source"
    staged.write_bytes(path.read_bytes())
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return read_source(staged, path.name, sha256, Workspace(folder, 10**8))


def plans(
    app: Flask, source: Source, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The plan's report made key first, then by checking every feature; and the ids of
    the features the key-first plan checked."""
    checked: list[str] = []
    check = imports._plan_batch

    def counting(features: list[SourceFeature], *args: Any) -> Any:
        checked.extend(f.feature_id for f in features)
        return check(features, *args)

    database, taxonomy = services.database(app), services.taxonomy(app)
    with monkeypatch.context() as patch:
        patch.setattr(imports, "_plan_batch", counting)
        with database.read() as session:
            # in batches of 4: the first is looked up alone, then the rest at once
            fast = plan_import(session, source, taxonomy, ImportOptions(**options), batch=4)
    with monkeypatch.context() as patch:
        patch.setattr(imports, "_known", lambda *args: {})
        with database.read() as session:
            whole = plan_import(session, source, taxonomy, ImportOptions(**options))
    return fast.report(dry_run=True), whole.report(dry_run=True), checked


def test_the_same_file_again_is_found_by_key_and_an_edited_one_is_checked(
    atlanta: tuple[Flask, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = atlanta
    features = valid_features()  # 11 made, "a" twice, "far" outside every image
    path = write_geojson(tmp_path / "valid.geojson", features)
    first = import_path(app, path)
    assert (first["created"], first["already_imported"]) == (11, 0)

    # the same file: every feature it made is found by key, none of them checked again
    source = read(app, path)
    fast, whole, checked = plans(app, source, monkeypatch)
    assert fast == whole
    assert (fast["would_create"], fast["already_imported"]) == (0, 11)
    assert {(r["feature_id"], r["kind"]) for r in fast["not_imported"]} == {
        ("a", "duplicate"),
        ("far", "outside"),
    }
    assert checked == ["far"]
    with services.database(app).read() as session:
        placement = Placement(session, None, None)
        found = already_made(
            session,
            source.sha256,
            source.features,
            placement.place_many,
            _keys,
            lambda feature: feature.properties["label"],
        )
        # both copies of "a" carry the key of the one annotation made; the plan counts
        # the first and refuses the second as a duplicate, in the file's order
        assert sorted(source.features[i].feature_id for i in found) == sorted([*"abcdefghijk", "a"])
        # another file's SHA-256: nothing is taken as made before
        other = already_made(
            session,
            "1" * 64,
            source.features,
            placement.place_many,
            _keys,
            lambda feature: feature.properties["label"],
        )
        assert other == {}
    again = import_path(app, path)
    assert (again["created"], again["already_imported"]) == (0, 11)

    # through a label map that gives them other labels: checked, and reported as before
    fast, whole, checked = plans(app, source, monkeypatch, label_map={"structure": "vehicle.truck"})
    assert fast == whole and fast["already_imported"] == 11
    assert "b" not in checked and "a" in checked  # "b" is a truck either way

    # an edited copy: new notes on one, a label not in the taxonomy on another; another
    # SHA-256, so every feature is checked and the import refused as it always was
    edited = json.loads(json.dumps(features))
    edited[0]["properties"]["notes"] = "seen again"
    edited[5]["properties"]["label"] = "no.such.label"
    path = write_geojson(tmp_path / "edited.geojson", edited)
    fast, whole, checked = plans(app, read(app, path), monkeypatch)
    assert fast == whole and fast["unknown_labels"] == ["no.such.label"]
    assert sorted(checked) == sorted(f["properties"]["id"] for f in edited)
    with pytest.raises(InvalidInput, match=r"no\.such\.label"):
        import_path(app, path)
    del edited[5]
    path = write_geojson(tmp_path / "edited.geojson", edited)
    report = import_path(app, path)
    assert (report["created"], report["already_imported"]) == (0, 10)
