"""Template syntax typed by a user is text everywhere it comes out.

folium and branca render their output a second time as a Jinja template, so before the story
map kept user text out of folium, `{{ 7*7 }}` in a link note showed as 49 on the published
map (and a longer payload ran shell commands). This sweep puts Jinja's three kinds of syntax
into every user-written field that reaches a story output, a page or an export, publishes,
and reads each output back: each field must come out as the literal text it was typed as.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from defusedxml import ElementTree
from flask import Flask

from annotations.catalogue.images import Provenance
from annotator.cli import main
from tests.newsroom import TEXT, newsroom

PAYLOAD = "{{ 7*7 }} {% if 1 %}x{% endif %} {# c #}"
#: What PAYLOAD turns into when a Jinja engine runs it: its mark must appear nowhere.
RENDERED = re.compile(r"49 x|49\s*$|\b49 \{#|x\s+\{# c")


def typed(field: str) -> str:
    return f"{field}:{PAYLOAD}"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A newsroom where every user-written field holds template syntax, published once."""
    from tests.conftest import _app_with_users, make_app, write_geotiff

    folder = tmp_path_factory.mktemp("template-injection")
    for app in _app_with_users(make_app(folder)):
        yield _publish(app, write_geotiff(folder / "scene.tif"))


def _publish(app: Flask, geotiff: Path) -> dict[str, Any]:
    provenance = Provenance(
        provider=typed("provider"), licence=typed("licence"), attribution=typed("attribution")
    )
    captured = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    room = newsroom(app, geotiff, captured, provenance=provenance, site=typed("site"))
    [site] = room.call("GET", "/api/v1/sites").get_json()["sites"]
    annotation = room.annotation("draft")
    etag = f'"{annotation["id"]}-v{annotation["properties"]["version"]}"'
    edited = room.call(
        "PATCH",
        f"/api/v1/annotations/{annotation['id']}",
        "analyst",
        json={
            "type": "Feature",
            "properties": {
                "notes": typed("notes"),
                "attributes": {"registration": typed("registration")},
            },
        },
        headers={"If-Match": etag},
    )
    assert edited.status_code == 200, edited.get_json()
    annotation = edited.get_json()
    for user, status in (("analyst", "in_review"), ("editor", "approved")):
        etag = f'"{annotation["id"]}-v{annotation["properties"]["version"]}"'
        moved = room.call(
            "POST",
            f"/api/v1/annotations/{annotation['id']}/status",
            user,
            json={"status": status, "comment": typed("comment")},
            headers={"If-Match": etag},
        )
        assert moved.status_code == 200, moved.get_json()
        annotation = moved.get_json()
    sentence = f"Satellite images show {typed('claim')} at the base."
    report = room.report(
        title=typed("title"),
        outlet=typed("outlet"),
        authors=[typed("author")],
        summary=typed("summary"),
        text=f"{TEXT} {sentence}",
    )
    claim = room.claim(report["id"], exact=typed("claim"))
    linked = room.link(annotation_id=annotation["id"], claim_id=claim["id"], note=typed("note"))
    assert linked.status_code == 201, linked.get_json()
    event = room.call(
        "POST",
        "/api/v1/events",
        "analyst",
        json={
            "site": site["slug"],
            "title": typed("event"),
            "description": typed("description"),
            "start": "2024-12-10",
            "end": "2024-12-14",
            "annotation_ids": [annotation["id"]],
        },
    )
    assert event.status_code == 201, event.get_json()
    publication = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
    assert publication.status_code == 201, publication.get_json()
    return {
        "room": room,
        "report": report,
        "annotation": annotation,
        "event": event.get_json(),
        "site": site,
        "publication": publication.get_json(),
    }


def assert_literal(text: str, fields: tuple[str, ...], where: str) -> None:
    """Each field's typed text is in `text` as typed, and nothing was rendered."""
    for field in fields:
        assert typed(field) in text, f"{where}: {field!r} is not shown as typed"
    assert not RENDERED.search(text), f"{where}: template syntax was run"


def page_text(markup: str) -> str:
    """A page's text as a reader would copy it (entities decoded)."""
    return html.unescape(markup)


def svg_text(svg: bytes) -> str:
    """Every text node of the SVG, lines joined (a caption may be wrapped)."""
    root = ElementTree.fromstring(svg)
    return " ".join(" ".join(node.itertext()) for node in root.iter() if node.text)


def get(published: dict[str, Any], path: str) -> Any:
    response = published["room"].call("GET", path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return response


def test_the_story_map_and_its_embed(published: dict[str, Any]) -> None:
    base = f"/api/v1/reports/{published['report']['id']}"
    shown = get(published, f"{base}/map.html").get_data(as_text=True)
    assert_literal(
        shown, ("title", "claim", "note", "provider", "licence", "attribution"), "map.html"
    )
    embed = published["room"].app.test_client().get(published["publication"]["embed_url"])
    assert embed.status_code == 200
    assert_literal(embed.get_data(as_text=True), ("title", "note"), "embed")


def test_the_figure(published: dict[str, Any]) -> None:
    base = f"/api/v1/reports/{published['report']['id']}"
    svg = get(published, f"{base}/figure.svg?width=900").data
    assert_literal(svg_text(svg), ("provider",), "figure.svg")


def test_the_evidence_bundle_and_its_kml(published: dict[str, Any]) -> None:
    base = f"/api/v1/reports/{published['report']['id']}"
    bundle = zipfile.ZipFile(io.BytesIO(get(published, f"{base}/bundle.zip").data))
    texts = {
        name: bundle.read(name).decode("utf-8")
        for name in bundle.namelist()
        if name.endswith((".json", ".geojson", ".kml", ".html", ".txt", ".md", ".csv"))
    }
    everything = "\n".join(texts.values())
    assert_literal(everything, ("title", "claim", "note", "provider", "notes"), "bundle")
    for name, text in texts.items():
        assert not RENDERED.search(text), f"bundle member {name}: template syntax was run"
    [kml] = [text for name, text in texts.items() if name.endswith(".kml")]
    assert_literal(page_text(kml), ("title", "provider", "claim"), "bundle KML")


@pytest.mark.parametrize("export", ["kml", "geojson", "csv"])
def test_the_exports(published: dict[str, Any], export: str) -> None:
    response = published["room"].call("GET", f"/api/v1/exports?format={export}")
    if response.status_code == 400 and export == "csv":
        pytest.fail(f"no csv export: {response.get_json()}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    data = response.data
    if zipfile.is_zipfile(io.BytesIO(data)):
        archive = zipfile.ZipFile(io.BytesIO(data))
        data = b"\n".join(archive.read(name) for name in archive.namelist())
    text = page_text(data.decode("utf-8"))
    assert_literal(text, ("notes",), f"{export} export")


def test_the_pages(published: dict[str, Any]) -> None:
    report_id = published["report"]["id"]
    pages = {
        f"/reports/{report_id}": ("title", "outlet", "author", "summary", "claim", "note"),
        "/reports": ("title",),
        f"/events/{published['event']['id']}": ("event", "description"),
        "/events": ("event",),
        f"/sites/{published['site']['slug']}": ("site", "provider"),
        "/": ("site",),
        f"/images/{published['annotation']['properties']['image_id']}": ("provider",),
    }
    for path, fields in pages.items():
        assert_literal(page_text(get(published, path).get_data(as_text=True)), fields, path)


def test_the_api_and_history(published: dict[str, Any]) -> None:
    annotation_id = published["annotation"]["id"]
    history = get(published, f"/api/v1/annotations/{annotation_id}/history").get_json()
    assert_literal(json.dumps(history, ensure_ascii=False), ("notes", "comment"), "history")
    report = get(published, f"/api/v1/reports/{published['report']['id']}").get_json()
    assert_literal(json.dumps(report, ensure_ascii=False), ("title", "claim", "note"), "report")


def test_annotator_publish_writes_the_literal_text(
    published: dict[str, Any], tmp_path: Path
) -> None:
    app = published["room"].app
    env = {
        "ANNOTATOR_DATA_DIR": str(app.config["DATA_DIR"]),
        "ANNOTATOR_DATABASE_URL": str(app.config["DATABASE_URL"]),
    }
    out = tmp_path / "story"
    done = CliRunner().invoke(
        main,
        [
            "publish",
            str(published["report"]["id"]),
            "--by",
            "editor",
            "-o",
            str(out),
            "--width",
            "600",
            "--json",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    files = {Path(name).suffix: Path(name) for name in json.loads(done.stdout)["files"]}
    assert_literal(
        files[".html"].read_text(encoding="utf-8"),
        ("title", "note", "claim"),
        "annotator publish map",
    )
    assert_literal(svg_text(files[".svg"].read_bytes()), ("provider",), "annotator publish svg")


def test_the_literal_check_catches_rendered_text() -> None:
    """The sweep's own check fails on what Jinja makes of the payload."""
    from jinja2 import Template

    rendered = Template(typed("note")).render()
    with pytest.raises(AssertionError):
        assert_literal(rendered, ("note",), "rendered")
    assert RENDERED.search(rendered)
