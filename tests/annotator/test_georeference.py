"""Press pictures placed by control points through the API and the CLI (issue 14): the
job that makes the capture, a new version, the editor's residuals and preview, and every
refusal leaving nothing behind."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.geo import geodesic_circle
from annotations.catalogue.images import Provenance
from annotations.catalogue.sites import add_site
from annotator import services
from annotator.intake import Upload, import_images
from tests.annotator import test_cli
from tests.conftest import _app_with_users, make_app, token_for
from tests.jobs import consuming, wait_for_job
from tests.press_pictures import Press, capture, gps_exif, png_bomb, press_picture

run = test_cli.run  # the shared CLI runner fixture
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("georeference")


@pytest.fixture(scope="module")
def press(folder: Path) -> Press:
    return press_picture(capture(folder / "capture.tif"), folder / "press.jpg", exif=gps_exif())


@pytest.fixture(scope="module")
def world(folder: Path, press: Press) -> Iterator[tuple[Flask, str]]:
    """An app with the capture catalogued (the reference) at site `base`, and a site
    `elsewhere`; returns the app and the reference's id."""
    for application in _app_with_users(make_app(folder)):
        database = services.database(application)
        with database.write() as session:
            lon, lat = press.truth(press.width / 2, press.height / 2)
            add_site(session, "Base", geodesic_circle(lon, lat, 500), slug="base")
            add_site(session, "Elsewhere", geodesic_circle(10.0, 50.0, 500), slug="elsewhere")
        reference = import_images(
            database,
            application.config["IMAGES_DIR"],
            [Upload(folder / "capture.tif", "capture.tif")],
            Provenance(),
            max_pixels=10**9,
        )[0].image.id
        yield application, reference


@pytest.fixture(scope="module")
def client(world: tuple[Flask, str]) -> FlaskClient:
    return world[0].test_client()


@pytest.fixture(scope="module")
def analyst(world: tuple[Flask, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(world[0], 'analyst')}"}


def left(application: Flask) -> dict[str, Any]:
    """What placements leave: COGs, originals, job folders and image rows."""
    data = Path(application.config["DATA_DIR"])
    with services.database(application).read() as session:
        from annotations.catalogue.images import list_images

        rows = len(list_images(session))
    return {
        "cogs": sorted(p.name for p in (data / "images").glob("*.tif")),
        "originals": sorted(p.name for p in (data / "originals").glob("*"))
        if (data / "originals").is_dir()
        else [],
        "rows": rows,
        "jobs": sorted(p.name for p in data.rglob("jobs/*") if p.is_dir()),
    }


def post(client: FlaskClient, headers: dict[str, str], picture: bytes, **form: Any) -> Any:
    data = {"file": (io.BytesIO(picture), "press.jpg")} | form
    return client.post(
        "/api/v1/images/georeference",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def test_place_then_place_again(
    world: tuple[Flask, str], client: FlaskClient, analyst: dict[str, str], press: Press
) -> None:
    application, reference = world
    picture = press.path.read_bytes()
    points = press.points(9, 1.0)
    with consuming(application):
        response = post(
            client,
            analyst,
            picture,
            gcps=json.dumps(points),
            method="affine",
            attribution="Satellite image ©2024 Synthetic",
            source_url="https://news.example/article",
            captured="2024-12-13",
            site="base",
            reference=reference,
        )
        assert response.status_code == 202, response.get_json()
        job = wait_for_job(client, analyst, response.get_json()["id"])
        assert job["status"] == "done", job
        first = job["result"]["images"][0]["id"]
        stated = job["result"]["georeference"]
        assert stated["method"] == "affine" and len(stated["residuals_m"]) == 9
        assert 0 < stated["rmse_m"] < 3
        image = client.get(f"/api/v1/images/{first}", headers=analyst).get_json()
        assert image["sites"] == ["base"] and image["captured_at"].startswith("2024-12-13")
        assert image["georeferencing"]["method"] == "georeferenced"
        # the original, untouched, under its sha256
        digest = hashlib.sha256(picture).hexdigest()
        kept = Path(application.config["DATA_DIR"]) / "originals" / digest
        assert kept.read_bytes() == picture
        shown = client.get(f"/api/v1/images/{first}/georeference", headers=analyst).get_json()
        facts = shown["placement"]
        assert facts["original_sha256"] == digest and facts["version"] == 1
        assert facts["reference_sha256"] and facts["placed_by"] == "analyst"
        assert facts["source_url"] == "https://news.example/article"
        assert facts["credit"] == "Satellite image ©2024 Synthetic"
        # new points: a new version, the first staying
        again = client.put(
            f"/api/v1/images/{first}/georeference",
            json={"gcps": press.points(12, 1.0, seed=8), "method": "polynomial"},
            headers=analyst,
        )
        assert again.status_code == 202, again.get_json()
        job = wait_for_job(client, analyst, again.get_json()["id"])
        assert job["status"] == "done", job
        second = job["result"]["images"][0]["id"]
    shown = client.get(f"/api/v1/images/{second}/georeference", headers=analyst).get_json()
    assert shown["placement"]["version"] == 2 and shown["placement"]["previous"] == first
    assert [v["image"] for v in shown["versions"]] == [first, second]
    assert [v["method"] for v in shown["versions"]] == ["affine", "polynomial"]
    assert client.get(f"/api/v1/images/{first}", headers=analyst).status_code == 200


def test_residuals_and_preview_for_the_editor(
    world: tuple[Flask, str],
    client: FlaskClient,
    analyst: dict[str, str],
    press: Press,
    folder: Path,
) -> None:
    upload = send(client, analyst, press.path.read_bytes())
    points = press.points(10, 1.0)
    answer = client.post(
        "/api/v1/georeference/residuals",
        json={"gcps": points, "method": "affine", "upload": upload},
        headers=analyst,
    )
    assert answer.status_code == 200, answer.get_json()
    found = answer.get_json()
    assert found["methods"] == ["affine", "polynomial", "tps"]
    assert len(found["residuals_m"]) == 10 and found["rmse_m"] > 0
    assert found["residuals_m"][found["worst"]] == max(found["residuals_m"])
    sized = client.post(
        "/api/v1/georeference/residuals",
        json={
            "gcps": [points[i] for i in (0, 1, 4, 5)],
            "width": press.width,
            "height": press.height,
        },
        headers=analyst,
    ).get_json()
    assert sized["methods"] == ["affine"]
    shown = client.post(
        "/api/v1/georeference/preview",
        json={"gcps": points, "method": "tps", "upload": upload},
        headers=analyst,
    )
    assert shown.status_code == 200, shown.get_json()
    preview = shown.get_json()
    assert preview["image"].startswith("data:image/webp;base64,")
    assert max(preview["width"], preview["height"]) <= 1024
    west, south, east, north = preview["bounds"]
    lon, lat = press.truth(press.width / 2, press.height / 2)
    assert west < lon < east and south < lat < north
    # the editor saves: the upload named instead of a file; a refusal keeps the upload
    form = {"upload": upload, "gcps": json.dumps(points[:2])}
    refused = client.post("/api/v1/images/georeference", data=form, headers=analyst)
    assert refused.status_code == 422, refused.get_json()
    assert client.get(f"/api/v1/uploads/{upload}", headers=analyst).status_code == 200
    with consuming(world[0]):
        form = {"upload": upload, "gcps": json.dumps(points), "method": "tps"}
        saved = client.post("/api/v1/images/georeference", data=form, headers=analyst)
        assert saved.status_code == 202, saved.get_json()
        job = wait_for_job(client, analyst, saved.get_json()["id"])
    assert job["status"] == "done" and job["result"]["georeference"]["method"] == "tps", job
    assert client.get(f"/api/v1/uploads/{upload}", headers=analyst).status_code == 404
    upload = send(client, analyst, press.path.read_bytes())
    refusals = [
        ({"gcps": points[:2], "upload": upload}, 422, "at least 3"),
        ({"gcps": points[:5], "method": "polynomial", "upload": upload}, 422, "at least 6"),
        (
            {
                "gcps": [[5, 5, 35.9, 35.4], [10, 10, 35.91, 35.41], [20, 20, 35.92, 35.42]],
                "upload": upload,
            },
            422,
            "one line",
        ),
        ({"gcps": [[9999, 5, 35.9, 35.4], *points[1:4]], "upload": upload}, 422, "outside"),
        ({"gcps": points}, 422, "width and height"),
        ({"gcps": points, "upload": send(client, analyst, b"not a picture")}, 415, "JPEG"),
        ({"gcps": points, "upload": send(client, analyst, bomb(folder))}, 413, "bomb"),
    ]
    for body, status, words in refusals:
        answer = client.post("/api/v1/georeference/residuals", json=body, headers=analyst)
        assert answer.status_code == status, (body, answer.get_json())
        assert words in answer.get_json()["message"], answer.get_json()


def bomb(folder: Path) -> bytes:
    return png_bomb(folder / "bomb.png").read_bytes()


def send(client: FlaskClient, headers: dict[str, str], data: bytes) -> str:
    started = client.post(
        "/api/v1/uploads", json={"name": "press.jpg", "size": len(data)}, headers=headers
    )
    assert started.status_code == 201, started.get_json()
    upload: str = started.get_json()["id"]
    sent = client.put(
        f"/api/v1/uploads/{upload}",
        data=data,
        headers={**headers, "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
    )
    assert sent.status_code == 200, sent.get_json()
    return upload


def test_refusals_leave_nothing(
    world: tuple[Flask, str],
    client: FlaskClient,
    analyst: dict[str, str],
    press: Press,
    folder: Path,
) -> None:
    application, reference = world
    before = left(application)
    picture = press.path.read_bytes()
    good = json.dumps(press.points(6, 1.0))
    cases = [
        (b"GIF89a not really", {"gcps": good}, 415),
        (bomb(folder), {"gcps": good}, 413),
        (picture, {"gcps": json.dumps(press.points(6, 1.0)[:2])}, 422),
        (picture, {"gcps": "[[1, 2"}, 422),
        (picture, {"gcps": good, "method": "tps"}, 422),
        (picture, {"gcps": good, "site": "elsewhere", "reference": reference}, 422),
        (
            picture,
            {
                "gcps": json.dumps([[1, 1, 10.0, 50.0], *press.points(6, 1.0)[1:]]),
                "reference": reference,
            },
            422,
        ),
        (picture, {"gcps": good, "site": "nowhere"}, 404),
    ]
    for data, form, status in cases:
        response = post(client, analyst, data, **form)
        assert response.status_code == status, (form, response.get_json())
        assert response.get_json()["message"]
    viewer = {"Authorization": f"Bearer {token_for(application, 'viewer')}"}
    assert post(client, viewer, picture, gcps=good).status_code == 403
    assert left(application) == before


def test_cli_places_and_refuses_with_one_line(run: Run, press: Press, tmp_path: Path) -> None:
    code, _, err = run("init")
    assert code == 0, err
    gcps = [f"--gcp={c},{r},{lon},{lat}" for c, r, lon, lat in press.points(6, 1.0)]
    code, out, err = run(
        "images", "georeference", str(press.path), *gcps, "--attribution", "©2024 Synthetic",
        "--captured", "2024-12-13", "--json",
    )  # fmt: skip
    assert code == 0, err
    payload = json.loads(out)
    assert payload["created"] is True and payload["attribution"] == "©2024 Synthetic"
    assert set(payload["georeference"]) >= {"method", "gcps", "rmse_m", "residuals_m"}
    assert payload["georeference"]["method"] == "affine"
    data = tmp_path / "data"
    made = sorted(p.name for p in data.rglob("*") if p.is_file())
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    bad = [
        (str(press.path), gcps[:2], "at least 3"),
        (str(press.path), [*gcps, "--method", "polynomial"], "do not determine"),
        (str(press.path), ["--gcp", "1,2,3"], "four numbers"),
        (str(notes), gcps, "not a JPEG, PNG or WebP"),
        (str(png_bomb(tmp_path / "bomb.png")), gcps, "bomb"),
        (str(press.path), [*gcps, "--reference", "0" * 32], "no image"),
    ]
    for path, options, words in bad:
        code, out, err = run("images", "georeference", path, *options)
        assert code == 1 and out == "", (options, out)
        assert err.count("\n") == 1 and words in err, (options, err)
    after = sorted(p.name for p in data.rglob("*") if p.is_file())
    assert after == made
