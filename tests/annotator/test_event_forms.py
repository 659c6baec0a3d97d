"""Events made and changed in the browser's forms (/events/new, /events/<id>/edit): the
window's annotations offered to tick, the same checks as the API, roles, and user text kept
as text."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login
from tests.newsroom import Newsroom, newsroom

CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)


@pytest.fixture
def room(app: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    return newsroom(app, make_geotiff(), CAPTURED)


def site_of(room: Newsroom) -> str:
    slug: str = room.call("GET", "/api/v1/sites").get_json()["sites"][0]["slug"]
    return slug


def post(client: FlaskClient, path: str, csrf: str, **form: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf, **form})


def test_an_analyst_makes_an_event_from_the_windows_annotations(room: Newsroom) -> None:
    first = room.annotation("approved")
    second = room.annotation("draft", offset_m=40)
    client = room.app.test_client()
    csrf = login(client, "analyst")
    assert client.get("/events").get_data(as_text=True).count('class="new-event"') == 1
    form = {"site": site_of(room), "title": "An-124 airlift", "start": "2024-12-10",
            "end": "2024-12-13"}  # fmt: skip
    shown = post(client, "/events/new", csrf, action="show", **form)
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert f'value="{first["id"]}"' in text and f'value="{second["id"]}"' in text
    # a window that ends the day before the capture offers nothing
    empty = post(client, "/events/new", csrf, action="show", **{**form, "end": "2024-12-12"})
    assert "no annotations observed in this window" in empty.get_data(as_text=True)

    saved = post(client, "/events/new", csrf, action="save", annotation=[first["id"]], **form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[-1500:]
    event_id = saved.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    event = room.call("GET", f"/api/v1/events/{event_id}").get_json()
    assert event["title"] == "An-124 airlift"
    assert event["annotation_ids"] == [first["id"]]
    assert event["end"].startswith("2024-12-13T23:59:59")  # the end day is included

    # edit: another title, the other annotation instead
    page = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    assert f'value="{first["id"]}" checked' in page
    form["title"] = "Airlift, second look"
    changed = post(client, f"/events/{event_id}/edit", csrf, action="save",
                   annotation=[second["id"]], **form)  # fmt: skip
    assert changed.status_code == 302, changed.get_data(as_text=True)[-1500:]
    event = room.call("GET", f"/api/v1/events/{event_id}").get_json()
    assert event["title"] == "Airlift, second look"
    assert event["annotation_ids"] == [second["id"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "title"),
        ({"end": "2024-12-01"}, "end"),
        ({"site": "nowhere"}, "nowhere"),
        ({"start": "not a day"}, "start"),
    ],
)
def test_bad_input_is_said_and_nothing_is_made(
    room: Newsroom, change: dict[str, str], message: str
) -> None:
    client = room.app.test_client()
    csrf = login(client, "analyst")
    form = {"site": site_of(room), "title": "x", "start": "2024-12-10", "end": "2024-12-13",
            **change}  # fmt: skip
    refused = post(client, "/events/new", csrf, action="save", **form)
    assert refused.status_code in (404, 422), refused.get_data(as_text=True)[-1500:]
    assert 'role="alert"' in refused.get_data(as_text=True)
    assert message in refused.get_data(as_text=True).lower()
    assert room.call("GET", "/api/v1/events").get_json()["events"] == []


def test_user_text_stays_text_and_viewers_may_not(room: Newsroom) -> None:
    client = room.app.test_client()
    csrf = login(client, "analyst")
    title = "<script>alert(1)</script>{{ 7*7 }}"
    form = {"site": site_of(room), "title": title, "start": "2024-12-10", "end": "2024-12-13"}
    saved = post(client, "/events/new", csrf, action="save", **form)
    assert saved.status_code == 302
    event_page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert html.escape(title) in event_page and "<script>alert(1)" not in event_page
    viewer = room.app.test_client()
    login(viewer, "viewer")
    assert viewer.get("/events/new").status_code == 403
    assert 'class="new-event"' not in viewer.get("/events").get_data(as_text=True)
    no_csrf = client.post("/events/new", data={**form, "action": "save"})
    assert no_csrf.status_code in (400, 403)
    assert len(room.call("GET", "/api/v1/events").get_json()["events"]) == 1
