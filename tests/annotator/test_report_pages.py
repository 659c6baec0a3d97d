"""The report pages: list, create, edit, view; hostile text shows as text (the HTML is parsed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import _app_with_users, login, make_app
from tests.newsroom import HOSTILE, TEXT, Newsroom, newsroom

HOSTILE_LABEL = "aircraft.transport.hostile-test"


class Page(HTMLParser):
    """Every element with its attributes, and the text of each element."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, str]] = []
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in ("input", "meta", "link", "br", "img", "hr"):
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.texts.append((self._open[-1] if self._open else "", data))

    def text_in(self, tag: str) -> str:
        return "".join(data for where, data in self.texts if where == tag)

    def assert_inert(self) -> None:
        """No script but the app's own files, no event-handler attribute, no injected img."""
        for tag, attrs in self.elements:
            assert not any(name.startswith("on") for name in attrs), (tag, attrs)
            if tag == "script":
                assert (attrs.get("src") or "").startswith("/static/"), attrs
            assert tag != "img" or (attrs.get("src") or "").startswith(("/", "data:")), attrs


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose taxonomy holds a label with a hostile name, on SQLite."""
    instance = tmp_path / "instance"
    instance.mkdir()
    extra = [{"id": HOSTILE_LABEL, "name": HOSTILE, "colour": "#123456"}]
    (instance / "labels.json").write_text(json.dumps(extra))
    yield from _app_with_users(make_app(tmp_path))


@pytest.fixture
def room(app: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    return newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))


def test_an_editor_creates_and_edits_a_report_with_the_forms(room: Newsroom) -> None:
    client = room.app.test_client()
    csrf = login(client, "editor")
    listed = client.get("/reports")
    assert listed.status_code == 200 and "No reports yet" in listed.get_data(as_text=True)
    form = {"csrf_token": csrf, "title": "Convoy to the coast", "url": " https://x.example/a ",
            "authors": "A, B", "published_at": "2026-05-25", "language": "en", "text": TEXT,
            "coarsening": "round", "coarsen_m": "500"}  # fmt: skip
    made = client.post("/reports/new", data=form)
    assert made.status_code == 302, made.get_data(as_text=True)
    path = made.headers["Location"]
    report = room.call("GET", "/api/v1" + path).get_json()
    assert report["authors"] == ["A", "B"] and report["url"] == "https://x.example/a"
    assert report["coarsening"] == {"mode": "round", "metres": 500}
    shown = Page(client.get(path).get_data(as_text=True))
    assert shown.text_in("h1") == "Convoy to the coast"
    assert TEXT in shown.text_in("div")
    edit = client.get(path + "/edit")
    assert 'value="Convoy to the coast"' in edit.get_data(as_text=True)
    edited = client.post(path + "/edit", data={**form, "title": "Convoy, revised"})
    assert edited.status_code == 302
    assert room.call("GET", "/api/v1" + path).get_json()["title"] == "Convoy, revised"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd",
                                 "/relative"])  # fmt: skip
def test_the_form_refuses_a_bad_url_and_writes_nothing(room: Newsroom, url: str) -> None:
    client = room.app.test_client()
    csrf = login(client, "editor")
    refused = client.post("/reports/new", data={"csrf_token": csrf, "title": "t", "url": url})
    assert refused.status_code == 422
    page = Page(refused.get_data(as_text=True))
    assert "http" in page.text_in("p")
    assert room.call("GET", "/api/v1/reports").get_json()["reports"] == []


def test_the_form_needs_the_csrf_token(room: Newsroom) -> None:
    client = room.app.test_client()
    login(client, "editor")
    refused = client.post("/reports/new", data={"title": "no token"})
    assert refused.status_code == 400
    assert room.call("GET", "/api/v1/reports").get_json()["reports"] == []


def test_hostile_title_quote_label_and_note_show_as_text(room: Newsroom) -> None:
    text = f"Intro. {HOSTILE} ends here."
    report = room.report(title=HOSTILE, text=text, summary=HOSTILE, outlet=HOSTILE)
    claim = room.call("POST", f"/api/v1/reports/{report['id']}/claims",
                      json={"exact": HOSTILE}).get_json()  # fmt: skip
    annotation = room.annotation("approved", label=HOSTILE_LABEL)
    linked = room.link(annotation_id=annotation["id"], claim_id=claim["id"], note=HOSTILE)
    assert linked.status_code == 201, linked.get_json()
    client = room.app.test_client()
    login(client, "editor")
    for path in (f"/reports/{report['id']}", "/reports"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        page = Page(html)
        page.assert_inert()
        shown = "".join(data for _, data in page.texts)
        assert HOSTILE in shown, path
    page = Page(client.get(f"/reports/{report['id']}").get_data(as_text=True))
    assert page.text_in("h1") == HOSTILE
    assert page.text_in("blockquote") == HOSTILE
    assert page.text_in("mark") == HOSTILE, "the quote is marked in the text"
    assert HOSTILE in page.text_in("span"), "label name and note"
    assert page.text_in("title").startswith(HOSTILE)


def test_viewers_see_published_reports_only(room: Newsroom) -> None:
    report = room.report()
    client = room.app.test_client()
    login(client, "viewer")
    assert client.get(f"/reports/{report['id']}").status_code == 404
    assert report["title"] not in client.get("/reports").get_data(as_text=True)
    assert client.get("/reports/new").status_code == 403


def test_the_event_pages(room: Newsroom) -> None:
    first = room.annotation("approved")
    made = room.call("POST", "/api/v1/events", "analyst",
                     json={"site": "hmeimim-apron", "title": HOSTILE, "start": "2024-12-10",
                           "end": "2024-12-14", "annotation_ids": [first["id"]]})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    client = room.app.test_client()
    login(client, "viewer")
    page = Page(client.get(f"/events/{made.get_json()['id']}").get_data(as_text=True))
    page.assert_inert()
    assert page.text_in("h1") == HOSTILE
    assert "2024-12-13" in page.text_in("td")
    listing = Page(client.get("/events").get_data(as_text=True))
    assert listing.text_in("a").count(HOSTILE) == 1
