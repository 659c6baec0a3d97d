"""`annotator demo`: the synthetic Hmeimim scene, the samples, and demo logins."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator import create_app, services
from annotator.cli import main
from annotator.demo import scene
from annotator.demo.press import PRESS_NAME


def test_demo_loads_once_and_logs_in(tmp_path: Path, shared_data: Path) -> None:
    env = {
        "ANNOTATOR_DATA_DIR": str(tmp_path / "data"),
        "ANNOTATOR_SAMPLE_DATA_DIR": str(shared_data),
    }
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "SYNTHETIC" in first.stdout
    password = re.search(r"demo analyst: name 'analyst' password '([^']+)'", first.stdout)
    assert password, first.stdout
    listed = json.loads(runner.invoke(main, ["images", "list", "--json"], env=env).stdout)
    assert len(listed) == 6
    synthetic = [i for i in listed if i["original_filename"].startswith("hmeimim-synthetic-")]
    assert [image["captured_at"] for image in synthetic] == [
        "2024-12-10T08:21:00Z",
        "2024-12-13T08:21:00Z",
    ]
    for image in synthetic:
        assert image["sites"] == ["hmeimim"]
        assert image["description"] == scene.SYNTHETIC_NOTE
        assert image["gsd_m"] == 0.5 and image["crs"] == "EPSG:32636"
        west, south, east, north = image["bbox"]
        assert west < 35.94861 < east and south < 35.40083 < north
    # the press picture placed on the 2024-12-13 capture: marked synthetic like the scene
    press = next(image for image in listed if image["original_filename"] == PRESS_NAME)
    assert press["synthetic"] and press["sites"] == ["hmeimim"]
    assert scene.SYNTHETIC_NOTE in press["description"]
    samples = {image["original_filename"]: image for image in listed if not image["synthetic"]}
    assert samples["sample_geotiff.tif"]["attribution"] == "SpaceNet / CosmiQ Works"
    assert samples["sample_geotiff.tif"]["sites"] == ["atlanta-spacenet"]

    assert "reference annotations on the Hmeimim scene: 16 new" in first.stdout
    second = runner.invoke(main, ["demo"], env=env)
    assert second.exit_code == 0, second.output
    assert "(0 new)" in second.stdout
    assert "reference annotations on the Hmeimim scene: 0 new" in second.stdout
    assert f"press picture {PRESS_NAME}: present; 0 An-124s annotated on it" in second.stdout
    assert password.group(1) in second.stdout, "the same login is printed again"
    again = json.loads(runner.invoke(main, ["images", "list", "--json"], env=env).stdout)
    assert [i["id"] for i in again] == [i["id"] for i in listed]

    app = create_app({"DATA_DIR": str(tmp_path / "data")})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login", data={"name": "analyst", "password": password.group(1),
                                           "csrf_token": token.group(1)})  # fmt: skip
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Hmeimim air base" in home and "synthetic" in home
    an_124s = client.get("/api/v1/annotations?label=aircraft.transport.an-124").get_json()
    features = an_124s["features"]
    assert len(features) == 4  # two on the capture, the same two on the press picture
    assert {f["properties"]["status"] for f in features} == {"approved"}
    for feature in features:
        measured = feature["properties"]["measurements"]
        on_press = feature["properties"]["image_id"] == press["id"]
        off = 1.0 if on_press else 0.1  # measured on the placed picture, give or take its RMSE
        assert measured["length_m"] == pytest.approx(73.3, abs=off)
        assert measured["width_m"] == pytest.approx(68.96, abs=off)
        assert feature["properties"]["observed_at"] == (
            "2024-12-13T00:00:00Z" if on_press else "2024-12-13T08:21:00Z"
        )
        assert feature["properties"]["attributes"]["state"] == "nose door open"
    statuses = {
        f["properties"]["status"]
        for f in client.get("/api/v1/annotations?label=aircraft").get_json()["features"]
    }
    assert statuses == {"draft", "in_review", "approved", "rejected"}
    history = client.get(f"/api/v1/annotations/{features[0]['id']}/history").get_json()
    assert [r["actor"] for r in history["revisions"]] == ["analyst", "analyst", "editor"]
    services.database(app).dispose()
