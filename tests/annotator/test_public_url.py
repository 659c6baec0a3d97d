"""Absolute URLs (TileJSON tiles, STAC assets) come from ANNOTATOR_PUBLIC_URL or an allowed
Host, never from a hostile Host header."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from annotations.annotation import Actor
from annotations.catalogue.users import Role
from annotations.db import utcnow
from annotations.newsroom.publishing import Publication
from annotations.newsroom.reports import create_report, parse_report
from annotator import create_app, services
from annotator.config import ConfigError
from tests.exchange_world import World, build_world

Header = Callable[[str], dict[str, str]]
EVIL = "evil.example"
#: every way a client names a host; the app trusts none of them
HOSTILE = {"Host": EVIL, "X-Forwarded-Host": EVIL, "X-Forwarded-Proto": "https"}


@pytest.fixture
def world(app: Flask, make_geotiff: Callable[..., Path]) -> World:
    return build_world(app, make_geotiff)


def tilejson(world: World, headers: dict[str, str]) -> tuple[int, bytes]:
    response = world.app.test_client().get(
        f"/tiles/{world.image_id}/tilejson.json", headers=headers
    )
    return response.status_code, response.get_data()


def stac_hrefs(world: World, headers: dict[str, str]) -> tuple[int, bytes, list[str]]:
    response = world.app.test_client().get("/api/v1/exports?format=stac", headers=headers)
    if response.status_code != 200:
        return response.status_code, response.get_data(), []
    hrefs = []
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        every = b"".join(archive.read(n) for n in archive.namelist())
        for name in archive.namelist():
            if name.endswith(f"/{world.image_id}.json"):
                hrefs.append(json.loads(archive.read(name))["assets"]["image"]["href"])
    return response.status_code, every, hrefs


def test_a_hostile_host_is_refused_and_never_echoed(world: World, auth_header: Header) -> None:
    headers = auth_header("viewer") | HOSTILE
    status, body = tilejson(world, headers)
    assert status == 400 and EVIL.encode() not in body
    assert json.loads(body)["error"] == "bad_host"
    assert "ANNOTATOR_PUBLIC_URL" in json.loads(body)["message"]
    status, body, _ = stac_hrefs(world, headers)
    assert status == 400 and EVIL.encode() not in body
    assert list(Path(world.app.config["TMP_DIR"]).iterdir()) == []


def test_the_public_url_is_used_whatever_the_host(world: World, auth_header: Header) -> None:
    world.app.config["PUBLIC_URL"] = "https://maps.example.org/annotator"
    headers = auth_header("viewer") | HOSTILE
    status, body = tilejson(world, headers)
    assert status == 200, body
    [template] = json.loads(body)["tiles"]
    assert template == (
        f"https://maps.example.org/annotator/tiles/{world.image_id}/{{z}}/{{x}}/{{y}}.png"
    )
    assert EVIL.encode() not in body
    status, every, hrefs = stac_hrefs(world, headers)
    assert status == 200
    assert hrefs == [f"https://maps.example.org/annotator/api/v1/images/{world.image_id}/cog"]
    assert EVIL.encode() not in every


def test_an_allowed_host_is_used_with_its_port(
    tmp_path: Path, make_geotiff: Callable[..., Path], auth_header: Header, app: Flask
) -> None:
    app.config["ALLOWED_HOSTS"] = frozenset({"annotator.lan"})
    world = build_world(app, make_geotiff)
    status, body = tilejson(world, auth_header("viewer") | {"Host": "Annotator.LAN:8080"})
    assert status == 200
    assert json.loads(body)["tiles"][0].startswith("http://annotator.lan:8080/tiles/")
    status, body = tilejson(world, auth_header("viewer") | {"Host": "localhost"})
    assert status == 400  # the list replaced the defaults


def test_the_defaults_allow_the_loopback_names(world: World, auth_header: Header) -> None:
    for host in ("localhost:5000", "127.0.0.1:8000", "[::1]:5000"):
        status, body = tilejson(world, auth_header("viewer") | {"Host": host})
        assert status == 200, (host, body)
        assert json.loads(body)["tiles"][0].startswith(f"http://{host}/tiles/")


@pytest.mark.parametrize(
    "value",
    [
        "annotator.example.org",  # no scheme
        "ftp://annotator.example.org",
        "https://",
        "https://user:secret@annotator.example.org",
        "https://annotator.example.org/?next=x",
        "https://annotator.example.org/#x",
        "https://annotator.example.org:99999",
        "https://annotator.example.org/a b",
        "https://annotator.example.org/{z}",
    ],
)
def test_a_bad_public_url_stops_the_start(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="ANNOTATOR_PUBLIC_URL"):
        create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "PUBLIC_URL": value})


def test_bad_allowed_hosts_stop_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ANNOTATOR_ALLOWED_HOSTS"):
        create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x",
                    "ALLOWED_HOSTS": "good.example, evil.example/path"})  # fmt: skip


def test_the_public_url_host_is_allowed_and_the_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNOTATOR_PUBLIC_URL", "https://Maps.Example.org/")
    monkeypatch.setenv("ANNOTATOR_ALLOWED_HOSTS", "annotator.lan")
    app = create_app({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["PUBLIC_URL"] == "https://Maps.Example.org"
    assert app.config["ALLOWED_HOSTS"] == frozenset({"annotator.lan", "maps.example.org"})


def test_the_report_pages_embed_link(app: Flask, auth_header: Header) -> None:
    """The embed link printed on the report page: the public URL, or refused for a hostile
    Host, never that host."""
    with services.database(app).write() as session:
        report = create_report(session, parse_report({"title": "A report"}),
                               Actor("editor", Role.editor))  # fmt: skip
        report.embed_token = "token-for-the-test"
        session.flush()
        session.add(Publication(report_id=report.id, number=1, sha256="0" * 64,
                                evidence_json='{"annotations": [], "coarsening": null}',
                                published_by="editor",
                                published_at=utcnow()))  # fmt: skip
        report_id = report.id
    client = app.test_client()
    headers = auth_header("editor")
    page = client.get(f"/reports/{report_id}", headers=headers | {"Host": "localhost:5000"})
    assert page.status_code == 200
    assert "http://localhost:5000/embed/token-for-the-test" in page.get_data(as_text=True)
    page = client.get(f"/reports/{report_id}", headers=headers | HOSTILE)
    assert page.status_code == 400 and EVIL not in page.get_data(as_text=True)
    app.config["PUBLIC_URL"] = "https://news.example.org"
    page = client.get(f"/reports/{report_id}", headers=headers | HOSTILE)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and EVIL not in text
    assert "https://news.example.org/embed/token-for-the-test" in text
