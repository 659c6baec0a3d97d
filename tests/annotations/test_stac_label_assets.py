"""A STAC label item's labels are found by the asset's role `labels`, or as its GeoJSON asset
(the label extension's own example keys it `vector_labels`), not only under the key
`labels`; each item is checked offline against the STAC and label extension schemas first."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pystac
import pytest
from flask import Flask
from pystac.validation import RegisteredValidator, set_validator, validate_dict

from annotations.errors import AnnotationError
from annotations.exchange.stac import OfflineValidator
from tests.annotations import test_imports
from tests.annotations.test_imports import INSIDE, import_path, square, write_geojson
from tests.conftest import SHARED_DATA, require

atlanta = test_imports.atlanta  # the app on each backend, with the Atlanta image
LABEL = "https://stac-extensions.github.io/label/v1.0.1/schema.json"


def schemas() -> Path:
    folder = Path(os.environ.get("ANNOTATOR_STAC_SCHEMAS") or SHARED_DATA.parent / "stac-schemas")
    require((folder / "label-v1.0.1.json").is_file(), f"no STAC extension schemas in {folder}")
    return folder


def label_item(folder: Path, image_id: str, assets: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    found = [{"type": "Feature", "geometry": square(*INSIDE),
              "properties": {"class": "vehicle.tank"}}]  # fmt: skip
    write_geojson(folder / "labels.geojson", found)
    geometry = square(*INSIDE, half=0.0002)
    item = {
        "type": "Feature", "stac_version": "1.1.0", "id": f"{image_id}-labels",
        "stac_extensions": [LABEL], "geometry": geometry,
        "bbox": [INSIDE[0] - 0.0002, INSIDE[1] - 0.0002, INSIDE[0] + 0.0002, INSIDE[1] + 0.0002],
        "properties": {"datetime": "2016-05-01T00:00:00Z", "label:properties": ["class"],
                       "label:description": "tanks", "label:tasks": ["detection"],
                       "label:type": "vector", "label:methods": ["manual"]},
        "links": [], "assets": assets,
    }  # fmt: skip
    path = folder / "item.json"
    path.write_text(json.dumps(item))
    validator = OfflineValidator(schemas())
    previous = RegisteredValidator._validator
    set_validator(validator)
    try:
        validate_dict(item, href=str(path))
    finally:
        RegisteredValidator._validator = previous
    assert validator.unchecked == set()  # the label extension was checked, not skipped
    return path


GEOJSON = {"href": "./labels.geojson", "type": "application/geo+json"}
THUMBNAIL = {"href": "./thumb.png", "type": "image/png", "roles": ["thumbnail"]}


@pytest.mark.parametrize(
    "assets",
    [
        {"thumbnail": THUMBNAIL, "vector_labels": GEOJSON},  # the extension's example
        {"thumbnail": THUMBNAIL, "found": {"href": "./labels.geojson", "roles": ["labels"]}},
        {"raster": {**GEOJSON, "roles": ["data"]}, "mine": {**GEOJSON, "roles": ["labels"]}},
        {"labels": GEOJSON},  # as before
    ],
    ids=["geojson-asset", "role-labels", "role-first", "key-labels"],
)
def test_the_labels_asset_is_found_by_role_or_type(
    atlanta: tuple[Flask, str], tmp_path: Path, assets: dict[str, Any]
) -> None:
    app, image_id = atlanta
    item = label_item(tmp_path / "stac", image_id, assets)
    report = import_path(app, item)
    assert report["source"]["format"] == "stac" and report["label_field"] == "class"
    assert report["created"] == 1 and report["by_label"] == {"vehicle.tank": 1}


def test_an_item_without_labels_says_what_it_looks_for(
    atlanta: tuple[Flask, str], tmp_path: Path
) -> None:
    app, image_id = atlanta
    item = label_item(tmp_path / "stac", image_id, {"thumbnail": THUMBNAIL})
    with pytest.raises(AnnotationError, match="role 'labels', or a GeoJSON asset"):
        import_path(app, item, dry_run=True)
    assert pystac.Item.from_file(str(item)).assets.keys() == {"thumbnail"}
