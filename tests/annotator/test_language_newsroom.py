"""The newsroom's pages in Arabic (issue 16): the reports and a report's form, the events, an
event and its form, the inbox, the site chart, the site form, the keys and the withdrawn
notice each leave no English interface word, read right to left, for the role that sees the
most on them; the forms' refusals are in Arabic too, and English stays as it was."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from annotations.catalogue.images import Provenance
from annotations.newsroom.reports import Report
from annotations.newsroom.withdrawal import Withdrawn
from annotator.pages.withdrawn import notice_page
from tests.annotator.test_language import english_left, switch
from tests.conftest import _app_with_users, login, make_app, write_geotiff
from tests.newsroom import Newsroom, newsroom

RTL = '<html lang="ar" dir="rtl">'
#: names of other software, protocols and formats the keys page names as they are written
NAMES = {"GDAL", "Google", "Earth", "TileJSON", "WMTS", "WMS", "COG", "HTTP", "Basic", "XYZ"}
NAMES |= {"tests"}  # the API token's name (user text) in its Revoke button's aria-label
#: the formats the report form asks for, named as their standards write them
FORMATS = {"http", "https", "YYYY", "MM", "DD", "ISO", "BCP", "ar", "en"}
SITE = "مدرج حميميم"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app for the module: an Arabic-named site with a capture of an Arabic-named
    provider, an annotation approved and one in review (the chart, the event's candidates,
    the editor's waiting list), a report in Arabic with a claim, an event, a comment that
    mentions the editor."""
    folder = tmp_path_factory.mktemp("newsroom-ar")
    for application in _app_with_users(make_app(folder)):
        tiff = write_geotiff(folder / "لقطة.tif")
        when = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
        room = newsroom(application, tiff, when, provenance=Provenance(provider="مزوّد"))
        slug = room.call("GET", "/api/v1/sites", "viewer").get_json()["sites"][0]["slug"]
        renamed = room.call("PATCH", f"/api/v1/sites/{slug}", "analyst", json={"name": SITE})
        assert renamed.status_code == 200, renamed.get_json()
        approved = room.annotation("approved")
        waiting = room.annotation("in_review", offset_m=60)
        report = room.report(
            title="طائرتان في القاعدة",
            text="هبطت طائرتان.",
            language="ar",
            outlet="صحيفة المثال",
            authors=["ر. خليل"],
        )
        claim = room.claim(report["id"], exact="هبطت طائرتان")
        linked = room.link(annotation_id=waiting["id"], claim_id=claim["id"])
        assert linked.status_code == 201, linked.get_json()
        event = room.call(
            "POST",
            "/api/v1/events",
            "analyst",
            json={"site": slug, "title": "جسر جوي", "start": "2024-12-12", "end": "2024-12-14"},
        )
        assert event.status_code == 201, event.get_json()
        added = room.call(
            "POST",
            f"/api/v1/events/{event.get_json()['id']}/annotations",
            "analyst",
            json={"annotation_ids": [approved["id"]]},
        )
        assert added.status_code in (200, 201), added.get_json()
        said = room.call(
            "POST",
            f"/api/v1/annotations/{approved['id']}/comments",
            "analyst",
            json={"body": "@editor انظر إلى الأنف المفتوح"},
        )
        assert said.status_code == 201, said.get_json()
        application.config.update(
            TEST_ROOM=room,
            TEST_SLUG=slug,
            TEST_REPORT=report["id"],
            TEST_EVENT=event.get_json()["id"],
        )
        yield application


def arabic_client(app: Flask, user: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = login(client, user)
    switch(client, "ar", token)
    return client, token


def arabic_page(
    client: FlaskClient,
    path: str,
    status: int = 200,
    kept: frozenset[str] = frozenset(),
    **kwargs: Any,
) -> str:
    method = kwargs.pop("method", "GET")
    response = client.open(path, method=method, **kwargs)
    html = response.get_data(as_text=True)
    assert response.status_code == status, (path, html[-800:])
    assert RTL in html, path
    assert sorted(set(english_left(html)) - kept) == [], path
    return html


def test_the_reports_and_events_pages_in_arabic(app: Flask) -> None:
    editor, _ = arabic_client(app, "editor")  # editors see "New report" and "New event"
    listed = arabic_page(editor, "/reports")
    # the report: its evidence still in review keeps it from publication, said in Arabic
    # (the page is test_language's; its links name the taxonomy's labels, deployment data)
    shown = editor.get(f"/reports/{app.config['TEST_REPORT']}").get_data(as_text=True)
    problems = re.search(r'<div class="problems">.*?</div>', shown, re.S)
    assert problems is not None and "لا يزال قيد المراجعة: اعتمده." in problems[0]
    assert RTL in shown and english_left(problems[0]) == []
    assert "<bdi>Antonov An-124 Ruslan</bdi> في لقطة 13 ديسمبر 2024 من" in problems[0]
    assert "تقرير جديد" in listed and ">مسودة</span>" in listed
    arabic_page(editor, f"/reports/{app.config['TEST_REPORT']}/edit", kept=frozenset(FORMATS))
    arabic_page(editor, "/reports/new", kept=frozenset(FORMATS))
    events = arabic_page(editor, "/events")
    assert "حدث جديد" in events and "جسر جوي" in events and SITE in events
    event = arabic_page(editor, f"/events/{app.config['TEST_EVENT']}")
    assert "تعليق توضيحي واحد." in event and "لقطات الموقع خلال الفترة" in event
    assert f'dir="auto">{SITE}</a> · من 12 ديسمبر 2024 إلى 14 ديسمبر 2024' in event
    assert "13 ديسمبر 2024" in event  # the day through Babel, in Arabic
    form = arabic_page(editor, f"/events/{app.config['TEST_EVENT']}/edit")
    assert 'name="annotation"' in form and "معتمَد" in form  # a candidate's status, in Arabic


def test_the_inbox_keys_and_site_pages_in_arabic(app: Flask) -> None:
    editor, token = arabic_client(app, "editor")  # the editor's inbox has the waiting list
    inbox = arabic_page(editor, "/inbox")
    assert 'id="waiting-list"' in inbox and "بانتظار المراجعة" in inbox
    # the site page's chart (its counts name the taxonomy's labels, deployment data)
    site = editor.get(f"/sites/{app.config['TEST_SLUG']}").get_data(as_text=True)
    chart = re.search(r'<figure class="chart">.*?</figure>', site, re.S)
    assert chart is not None and 'direction="ltr"' in chart[0]  # time runs left to right
    assert english_left(chart[0]) == [] and "<bdi>Antonov An-124 Ruslan</bdi>" in chart[0]
    assert "عدد الأجسام لكل وسم في كل تاريخ التقاط" in chart[0]
    analyst, _ = arabic_client(app, "analyst")
    arabic_page(analyst, "/sites/new")
    arabic_page(analyst, f"/sites/{app.config['TEST_SLUG']}/edit")
    made = arabic_page(
        editor,
        "/keys",
        201,
        kept=frozenset(NAMES),
        method="POST",
        data={"name": "QGIS", "csrf_token": token},
    )
    assert "انسخه الآن" in made
    keys = editor.get("/keys").get_data(as_text=True)
    assert RTL in keys and set(english_left(keys)) <= NAMES, english_left(keys)
    assert "قراءة البلاطات (مفتاح)" in keys and "أبدًا" in keys


def test_the_forms_refusals_in_arabic(app: Flask) -> None:
    editor, token = arabic_client(app, "editor")
    empty = arabic_page(
        editor,
        "/reports/new",
        422,
        kept=frozenset(FORMATS),
        method="POST",
        data={"title": " ", "csrf_token": token, "coarsening": "none"},
    )
    assert "لا يجوز أن يبقى الحقل «العنوان» فارغًا." in empty
    backwards = {"site": app.config["TEST_SLUG"], "title": "حدث", "start": "2024-12-14"}
    backwards |= {"end": "2024-12-12", "action": "save", "csrf_token": token}
    refused = arabic_page(editor, "/events/new", 422, method="POST", data=backwards)
    assert "ينتهي الحدث قبل أن يبدأ" in refused
    unplaced = {"name": "موقع", "shape": "circle", "csrf_token": token}
    nowhere = arabic_page(editor, "/sites/new", 422, method="POST", data=unplaced)
    assert "حدِّد مكان الموقع" in nowhere
    nameless = editor.post("/keys", data={"name": "", "csrf_token": token})
    html = nameless.get_data(as_text=True)
    assert nameless.status_code == 400 and "سمِّ المفتاح" in html
    assert set(english_left(html)) <= NAMES
    # a refusal the pages do not say in Arabic keeps the server's words, marked as English
    far = unplaced | {"lon": "35.9", "lat": "95"}
    outside = arabic_page(editor, "/sites/new", 422, method="POST", data=far)
    assert 'لم يُحفظ: <bdi dir="ltr" lang="en">latitude 95.0 is outside' in outside


def test_in_english_the_refusals_are_the_servers_own(app: Flask) -> None:
    client = app.test_client()
    token = login(client, "admin")  # who has not chosen Arabic
    page = client.post("/reports/new", data={"title": " ", "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "&#39;title&#39; must not be empty" in html
    assert '<html lang="en" dir="ltr">' in html and "<h1>New report</h1>" in html


def test_the_withdrawn_notice_speaks_the_reports_language(app: Flask) -> None:
    room: Newsroom = app.config["TEST_ROOM"]
    assert room.image_id
    report = Report(id=1, title="طائرتان في القاعدة", language="ar", status="withdrawn")
    gone = Withdrawn(datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "editor", "خطأ في التعرّف")
    with app.test_request_context("/embed/x", headers={"Accept-Language": "en"}):
        html = notice_page(report, gone, frame_ancestors="*").get_data(as_text=True)
    assert RTL in html and english_left(html) == []
    assert "سُحب في 1 يونيو 2026: خطأ في التعرّف" in html and "سُحبت الخريطة" in html
    english = Report(id=2, title="Two aircraft", language="en", status="withdrawn")
    with app.test_request_context("/embed/y", headers={"Accept-Language": "ar"}):
        html = notice_page(english, gone, frame_ancestors="*").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html and "Withdrawn on 2026-06-01: " in html
