"""The imagery, jobs and GIS pages in Arabic (issue 16): the Jobs page, the import page (with
a check's report and a refusal), the control-point editor, the compare view, the OGC API's
HTML pages, the API docs and the home page's admin-only "Import by URL", each rendered in
Arabic for the role that sees the most on it, right to left and with no English interface
word left; the maps stay left to right; imagery's English sentence of how an image was placed
reads in Arabic (and stays as it was in English)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from annotations.catalogue.images import Provenance
from annotator import services
from annotator.intake import Upload, import_images
from annotator.language.gis import placement_words
from annotator.upload.api import chunks
from tests.annotator.test_language import (  # noqa: F401 (app: the shared module fixture)
    PROVIDER,
    app,
    english_left,
    switch,
)
from tests.conftest import _csrf_from, login, write_geotiff

RTL = '<html lang="ar" dir="rtl">'
NAME = "صورة صحفية.jpg"  # a press picture's file name
ABBREVIATIONS = {"RMSE"}  # kept in Latin letters in Arabic too (docs/glossary-ar.md)


def arabic_client(app: Flask, user: str) -> tuple[FlaskClient, str]:  # noqa: F811
    client = app.test_client()
    login(client, user)
    token = _csrf_from(client.get("/").get_data(as_text=True))
    switch(client, "ar", token)
    return client, token


def read_in_arabic(client: FlaskClient, path: str, users_name: str = "") -> str:
    """The page at `path` in Arabic; `users_name` (a file name, user text even in the
    page's <title>, where no <bdi> can mark it) is left out of the check for English."""
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, (path, html[:500])
    assert RTL in html, path
    left = english_left(html.replace(users_name, "") if users_name else html)
    assert set(left) <= ABBREVIATIONS, path
    return html


@pytest.fixture(scope="module")
def second_capture(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> str:  # noqa: F811
    """A second capture of the site (for the compare view), and an annotation with Arabic
    notes on the first (for the OGC API's items); returns the second capture's id."""
    folder = tmp_path_factory.mktemp("second")
    data = np.random.default_rng(9).integers(1, 255, (3, 64, 64), dtype=np.uint8)
    tiff = write_geotiff(folder / "لقطة-ثانية.tif", data)
    made = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(tiff, "لقطة-ثانية.tif")],
        Provenance(provider=PROVIDER),
        sites=("hmeimim",),
        max_pixels=10**9,
    )
    return made[0].image.id


def first_capture(client: FlaskClient) -> str:
    found = re.findall(
        r'data-image-id="(\w+)"', client.get("/sites/hmeimim").get_data(as_text=True)
    )
    assert found
    return found[-1]


def test_the_jobs_page_in_arabic_for_an_admin(app: Flask) -> None:  # noqa: F811
    client, _ = arabic_client(app, "admin")
    html = read_in_arabic(client, "/jobs")
    assert "<th>المالك</th>" in html  # the admin sees everyone's jobs, with their owners
    assert "مهام الجميع مدرجة" in html
    # the home page's "Import by URL" (admins only) and "Add imagery" are Arabic too
    home = read_in_arabic(client, "/")
    assert 'id="add-by-url"' in home and "الاستيراد من عنوان ويب" in home


def test_the_import_page_its_report_and_a_refusal_in_arabic(app: Flask) -> None:  # noqa: F811
    client, token = arabic_client(app, "analyst")
    read_in_arabic(client, "/import?site=hmeimim")
    image_id = first_capture(client)
    footprint = client.get(f"/api/v1/images/{image_id}").get_json()["footprint"]
    centre = np.mean(footprint["coordinates"][0][:-1], axis=0).tolist()
    features = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"label": "aircraft"}, "geometry": None},
            {"type": "Feature", "properties": {"label": "aircraft"},
             "geometry": {"type": "Point", "coordinates": centre}},
        ],
    }  # fmt: skip
    checked = client.post(
        "/import",
        data={
            "csrf_token": token,
            "action": "check",
            "site": "hmeimim",
            "file": (io.BytesIO(json.dumps(features).encode()), "طائرات.geojson"),
        },
        content_type="multipart/form-data",
    )
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200, html[:500]
    assert RTL in html and "فُحص: سيُنشأ 1" in html and "لم يُستورد" in html
    assert english_left(html.replace("طائرات.geojson", "")) == []  # the file's name: user text
    refused = client.post(
        "/import", data={"csrf_token": token, "action": "background", "site": "hmeimim"}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and RTL in html
    # the refusal's meaning in Arabic, the server's own words beside it in an English <bdi>
    assert "تعذّرت قراءة الطلب." in html and '<bdi dir="ltr" lang="en">' in html
    assert english_left(html) == []


def picture_upload(app: Flask, owner: str) -> str:  # noqa: F811
    """A finished upload of a small JPEG with an Arabic name: a press picture to place."""
    out = io.BytesIO()
    Image.fromarray(np.full((60, 80, 3), 120, dtype=np.uint8)).save(out, "JPEG")
    with app.test_request_context():
        store = chunks()
        upload = store.start(owner, NAME, len(out.getvalue()))
    (store.root / upload.id / "data").write_bytes(out.getvalue())
    return str(upload.id)


def test_the_control_point_editor_in_arabic_keeps_its_maps_left_to_right(
    app: Flask,  # noqa: F811
) -> None:
    client, _ = arabic_client(app, "analyst")
    html = read_in_arabic(client, f"/images/georeference/{picture_upload(app, 'analyst')}", NAME)
    assert 'id="georef-picture" class="georef-map" dir="ltr"' in html
    assert 'id="georef-reference-map" class="georef-map" dir="ltr"' in html
    assert '<bdi id="georef-name">صورة صحفية.jpg</bdi>' in html
    assert "بنقاط التحكم" in html


def test_the_compare_view_in_arabic(app: Flask, second_capture: str) -> None:  # noqa: F811
    client, _ = arabic_client(app, "analyst")
    first = first_capture(client)
    for mode in ("swipe", "side"):
        html = read_in_arabic(client, f"/compare?left={first}&right={second_capture}&mode={mode}")
        assert 'class="compare-maps ' + mode + '" dir="ltr"' in html
        assert "اللقطة اليسرى" in html or "اليسار" in html


def test_the_ogc_api_pages_in_arabic(app: Flask, second_capture: str) -> None:  # noqa: F811
    client, token = arabic_client(app, "analyst")
    labels = client.get("/api/v1/labels").get_json()
    label = (labels["labels"] if isinstance(labels, dict) else labels)[0]["id"]
    footprint = client.get(f"/api/v1/images/{second_capture}").get_json()["footprint"]
    centre = np.mean(footprint["coordinates"][0][:-1], axis=0).tolist()
    made = client.post(
        "/api/v1/annotations",
        json={
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": centre},
            "properties": {"image_id": second_capture, "label": label, "notes": "قرب المدرج"},
        },
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.get_json()
    feature = made.get_json()["id"]
    pages: list[tuple[str, str]] = [  # (path, words it shows)
        ("/ogcapi/?f=html", "OGC API - Features"),
        ("/ogcapi/conformance?f=html", "المطابقة"),
        ("/ogcapi/api?f=html", "تعريف الواجهة"),
        ("/ogcapi/collections?f=html", "كل التعليقات التوضيحية"),
        ("/ogcapi/collections/site-hmeimim?f=html", "التعليقات التوضيحية للموقع"),
        ("/ogcapi/collections/annotations/items?f=html", "قرب المدرج"),
        (f"/ogcapi/collections/annotations/items/{feature}?f=html", "المعلم"),
        ("/api/v1/docs", "تستخدم جلستك"),
    ]
    for path, words in pages:
        html = read_in_arabic(client, path, feature)  # the feature's id: in the item's <title>
        assert words in html, path
    # the JSON keeps the protocol's English titles
    answer: Any = client.get("/ogcapi/collections").get_json()
    assert answer["collections"][0]["title"] == "All annotations"


def test_how_an_image_was_placed_reads_in_arabic(app: Flask) -> None:  # noqa: F811
    sentences = [
        "placed by 6 control points, RMSE 3.2 m",
        "placed by 12 control points, a thin plate spline exact at each (no RMSE)",
        "GCP polynomial 2, RMS 0.41 m (10 points)",
        "RPC, constant height 120 m (the DEM does not cover the scene)",
        "rotated geotransform, warped north-up",
    ]
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        arabic = [placement_words(text) for text in sentences]
    assert arabic[0] == "وُضعت على الخريطة بنقاط تحكم عددها 6، RMSE 3.2 م"
    for text in arabic:
        assert set(english_left(f"<p>{text}</p>")) <= ABBREVIATIONS, text
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert placement_words(sentences[0]) == sentences[0]
        assert placement_words(sentences[2]) == "placed by " + sentences[2]
        assert placement_words("placed by something new") == "placed by something new"
