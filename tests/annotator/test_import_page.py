"""The import page (/import): check, then import, from a browser form with its CSRF token;
a refused file is shown with its reason and nothing is imported; user text stays text."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.annotations.test_imports import add_image, count
from tests.conftest import login

FORM = {"label_field": "building"}


def submit(client: FlaskClient, token: str | None, raw: bytes, name: str, action: str,
           **form: Any) -> TestResponse:  # fmt: skip
    data: dict[str, Any] = {"file": (io.BytesIO(raw), name), "action": action, **FORM, **form}
    data["label_map"] = (io.BytesIO(b"yes,structure.hangar\n"), "map.csv")
    if token is not None:
        data["csrf_token"] = token
    return client.post("/import", data=data, content_type="multipart/form-data")


def test_check_then_import_then_again(app: Flask, shared_data: Path) -> None:
    image = add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    client = app.test_client()
    token = login(client, "analyst")
    page = client.get("/import")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="csrf_token"' in text and f'value="{image}"' in text

    checked = submit(client, token, raw, "labels.geojson", "check")
    assert checked.status_code == 200
    text = checked.get_data(as_text=True)
    assert "Checked: 43 would be made" in text and "43 \u00d7 <code>structure.hangar</code>" in text
    assert count(app) == 0

    made = submit(client, token, raw, "labels.geojson", "import", image=image)
    assert made.status_code == 201, made.get_data(as_text=True)[:500]
    assert "Imported: 43 made" in made.get_data(as_text=True)
    assert count(app) == 43
    again = submit(client, token, raw, "labels.geojson", "import")
    assert again.status_code == 200
    assert '<td class="already">43</td>' in again.get_data(as_text=True)
    assert count(app) == 43


def test_a_refused_file_is_shown_with_its_reason(app: Flask, shared_data: Path) -> None:
    add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    client = app.test_client()
    token = login(client, "analyst")
    name = "<script>alert(1)</script>.geojson"
    cut = submit(client, token, raw[: len(raw) // 2], name, "import")
    assert cut.status_code == 422
    text = cut.get_data(as_text=True)
    assert "Not imported" in text and "Nothing was imported." in text
    assert "<script>alert(1)" not in text
    assert count(app) == 0
    unknown = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"building": "<b>barn</b>"},
        "geometry": json.loads(raw)["features"][0]["geometry"]}],
        "crs": json.loads(raw)["crs"]}).encode()  # fmt: skip
    data: dict[str, Any] = {"file": (io.BytesIO(unknown), "u.geojson"), "action": "import",
                            "label_field": "building", "csrf_token": token}  # fmt: skip
    refused = client.post("/import", data=data, content_type="multipart/form-data")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "not labels of the taxonomy" in text
    assert html.escape("<b>barn</b>") in text and "<b>barn</b>" not in text
    assert count(app) == 0


def test_roles_and_csrf(app: Flask, shared_data: Path) -> None:
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    anonymous = app.test_client().get("/import")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    viewer = app.test_client()
    viewer_token = login(viewer, "viewer")
    assert viewer.get("/import").status_code == 403
    assert submit(viewer, viewer_token, raw, "l.geojson", "check").status_code == 403
    assert ">Import</a>" not in viewer.get("/").get_data(as_text=True)
    analyst = app.test_client()
    login(analyst, "analyst")
    assert submit(analyst, None, raw, "l.geojson", "import").status_code == 400
    assert ">Import</a>" in analyst.get("/").get_data(as_text=True)
    assert count(app) == 0


def held_folders(app: Flask) -> list[Path]:
    root = Path(app.config["TMP_ROOT"]) / "held-imports"
    return sorted(root.iterdir()) if root.exists() else []


def held_token(page: TestResponse) -> str:
    text = page.get_data(as_text=True)
    marker = 'name="held" value="'
    assert marker in text, text[:2000]
    return text.split(marker, 1)[1].split('"', 1)[0]


def test_a_checked_file_is_held_for_the_import(app: Flask, shared_data: Path) -> None:
    image = add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    client = app.test_client()
    csrf = login(client, "analyst")
    checked = submit(client, csrf, raw, "labels.geojson", "check", image=image)
    assert checked.status_code == 200
    token = held_token(checked)
    assert "Checked file: <strong>labels.geojson</strong>" in checked.get_data(as_text=True)
    [folder] = held_folders(app)
    assert (folder / "file").read_bytes() == raw
    # a second check replaces the first: one hold per user
    again = submit(client, csrf, raw, "labels.geojson", "check", image=image)
    assert held_token(again) != token and len(held_folders(app)) == 1
    token = held_token(again)

    # another analyst cannot use the token
    other = app.test_client()
    other_csrf = login(other, "admin")
    form = {"csrf_token": other_csrf, "held": token, "action": "import", "image": image, **FORM}
    stolen = other.post("/import", data=form, content_type="multipart/form-data")
    assert stolen.status_code == 410 and "no longer held" in stolen.get_data(as_text=True)
    assert count(app) == 0

    # the owner imports with no file chosen: the held one (and its label map) is used
    form = {"csrf_token": csrf, "held": token, "action": "import", "image": image, **FORM}
    imported = client.post("/import", data=form, content_type="multipart/form-data")
    assert imported.status_code == 201, imported.get_data(as_text=True)[-2000:]
    assert count(app) > 0 and held_folders(app) == []
    gone = client.post("/import", data=form, content_type="multipart/form-data")
    assert gone.status_code == 410  # used up: nothing is imported twice from it


def test_an_expired_or_oversized_hold_is_refused(app: Flask, shared_data: Path) -> None:
    image = add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    client = app.test_client()
    csrf = login(client, "analyst")
    token = held_token(submit(client, csrf, raw, "labels.geojson", "check", image=image))
    [folder] = held_folders(app)
    meta = json.loads((folder / "hold.json").read_text())
    (folder / "hold.json").write_text(json.dumps({**meta, "at": meta["at"] - 7200}))
    form = {"csrf_token": csrf, "held": token, "action": "import", "image": image, **FORM}
    expired = client.post("/import", data=form, content_type="multipart/form-data")
    assert expired.status_code == 410 and count(app) == 0

    app.config["MAX_UPLOAD_MB"] = 0  # any file is over the limit
    big = submit(client, csrf, raw, "labels.geojson", "check", image=image)
    assert big.status_code == 413, big.get_data(as_text=True)[-1500:]
    assert [f for f in held_folders(app) if f.name != folder.name] == []
    assert not any(".partial" in f.name for f in held_folders(app))
