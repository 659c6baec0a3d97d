"""A report's evidence bundle, figure and story map as `story` jobs (issue 12 item 1, "story
outputs when slow"): `?async=1` on bundle.zip, figure.png|svg and map.html answers 202 with
the job; a worker makes the file from the publication; GET /api/v1/jobs/<id>/download gives
it to its owner only, while their role still covers the report: a role lowered since is
refused (403), a withdrawn report's file is gone (410)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from annotations.catalogue.users import Role, change_user, get_user
from annotator import services
from tests.conftest import _app_with_users, make_app, write_geotiff
from tests.jobs import consuming, wait_for_job
from tests.newsroom import Newsroom, newsroom

CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:
    folder = tmp_path_factory.mktemp("story-jobs")
    for app in _app_with_users(make_app(folder)):
        yield newsroom(app, write_geotiff(folder / "scene.tif"), CAPTURED)


def run(room: Newsroom, path: str, user: str = "analyst") -> dict[str, Any]:
    queued = room.call("GET", f"{path}{'&' if '?' in path else '?'}async=1", user)
    assert queued.status_code == 202, queued.get_json()
    job: dict[str, Any] = queued.get_json()
    assert job["kind"] == "story" and queued.headers["Location"].endswith(f"/jobs/{job['id']}")
    with consuming(room.app):
        ended = wait_for_job(room.client, room.as_(user), job["id"])
    assert ended["status"] == "done", ended
    return ended


def set_role(app: Flask, name: str, role: Role) -> None:
    with services.database(app).write() as session:
        change_user(session, get_user(session, name), role=role)


def test_story_outputs_run_as_jobs_and_only_their_owner_downloads_them(room: Newsroom) -> None:
    base, publication = room.published()
    made = {
        what: run(room, f"{base}/{what}")
        for what in ("bundle.zip", "figure.png?width=320", "figure.svg?width=320", "map.html")
    }
    files = {}
    for what, job in made.items():
        result = job["result"]
        assert result["publication"] == publication["number"] and result["role"] == "analyst"
        got = room.call("GET", result["download"], "analyst")
        assert got.status_code == 200, (what, got.get_json())
        assert "attachment" in got.headers["Content-Disposition"]
        assert got.mimetype == result["media_type"]
        files[what] = got.data
        got.close()
    members = zipfile.ZipFile(io.BytesIO(files["bundle.zip"])).namelist()
    assert "manifest.json" in members and "manifest.json.sig" in members
    assert Image.open(io.BytesIO(files["figure.png?width=320"])).size[0] == 320
    assert files["figure.svg?width=320"].lstrip().startswith(b"<")
    assert b"<html" in files["map.html"][:500].lower()
    download = made["bundle.zip"]["result"]["download"]
    # another user's job is not theirs to see; an admin sees it, but the file is its owner's
    assert room.call("GET", download, "editor").status_code == 404
    assert room.call("GET", download, "admin").status_code == 403
    # a caption needs an editor, as in the request
    refused = room.call("GET", f"{base}/figure.png?async=1&caption=mine", "analyst")
    assert refused.status_code == 403
    # the owner's role lowered: refused until it is back
    set_role(room.app, "analyst", Role.viewer)
    try:
        assert room.call("GET", download, "analyst").status_code == 403
    finally:
        set_role(room.app, "analyst", Role.analyst)
    again = room.call("GET", download, "analyst")
    assert again.status_code == 200
    again.close()
    # the report withdrawn: its files are gone, and no new job starts
    withdrawn = room.call("POST", f"{base}/withdraw", json={"reason": "a wrong claim"})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    gone = room.call("GET", download, "analyst")
    assert gone.status_code == 410 and gone.get_json()["error"] == "gone"
    assert room.call("GET", f"{base}/bundle.zip?async=1", "analyst").status_code == 410
