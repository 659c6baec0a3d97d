"""Links, events and publishing over the API, on SQLite and PostGIS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from flask import Flask
from pyproj import Transformer
from shapely.geometry import shape

from annotator import services
from tests.newsroom import CENTRE, Newsroom, newsroom


@pytest.fixture
def room(app_on_each_backend: Flask, make_geotiff: Callable[..., Path]) -> Newsroom:
    captured = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
    return newsroom(app_on_each_backend, make_geotiff(), captured)


def test_a_link_shows_from_both_sides_and_in_the_history(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    annotation = room.annotation("approved")
    other = room.annotation("approved", offset_m=40)
    made = room.link(annotation_id=annotation["id"], claim_id=claim["id"], note="both noses")
    assert made.status_code == 201, made.get_json()
    link = made.get_json()
    assert link["report_id"] == report["id"] and link["claim_id"] == claim["id"]
    assert made.headers["Location"].endswith(f"/api/v1/links/{link['id']}")
    # from the report's side, the claim's side and the annotation's side
    shown = room.call("GET", f"/api/v1/reports/{report['id']}").get_json()
    assert [x["id"] for x in shown["links"]] == [link["id"]]
    claim_view = room.call("GET", f"/api/v1/reports/{report['id']}/claims/{claim['id']}")
    assert [x["id"] for x in claim_view.get_json()["links"]] == [link["id"]]
    by_annotation = room.call("GET", f"/api/v1/links?annotation={annotation['id']}").get_json()
    assert [x["id"] for x in by_annotation["links"]] == [link["id"]]
    feature = room.call("GET", f"/api/v1/annotations/{annotation['id']}").get_json()
    assert feature["properties"]["reports"] == [report["id"]]
    listed = room.call("GET", f"/api/v1/annotations?report={report['id']}").get_json()
    assert [f["id"] for f in listed["features"]] == [annotation["id"]]
    assert listed["features"][0]["properties"]["reports"] == [report["id"]]
    everything = room.call("GET", "/api/v1/annotations").get_json()["features"]
    assert {f["id"]: f["properties"]["reports"] for f in everything} == {
        annotation["id"]: [report["id"]], other["id"]: []}  # fmt: skip
    # a duplicate is refused; unlinking is kept in the history
    twice = room.link(annotation_id=annotation["id"], claim_id=claim["id"])
    assert twice.status_code == 409 and twice.get_json()["message"] == (
        "The Antonov An-124 Ruslan on the 2024-12-13 Hmeimim apron capture is linked to the "
        "claim \u201ctwo Antonov AN-124 aircraft \u2026 at the Hmeimim base\u201d already; "
        "unlink it to change its stance or note"
    )
    removed = room.call("DELETE", f"/api/v1/links/{link['id']}", "analyst")
    assert removed.status_code == 200, removed.get_json()
    assert room.call("GET", f"/api/v1/annotations?report={report['id']}").get_json()[
        "features"] == []  # fmt: skip
    assert room.call("GET", f"/api/v1/links/{link['id']}").status_code == 404
    history = room.call("GET", f"/api/v1/reports/{report['id']}/history").get_json()["changes"]
    actions = [(c["subject"], c["action"], c["actor"]) for c in history if c["subject"] == "link"]
    assert actions == [("link", "link", "analyst"), ("link", "unlink", "analyst")]
    assert history[-1]["before"]["note"] == "both noses"
    own = room.call("GET", f"/api/v1/annotations/{annotation['id']}/history").get_json()
    assert [c["action"] for c in own["links"]] == ["link", "unlink"], "seen from both sides"


def test_links_to_what_is_missing_or_hidden_are_not_found(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    annotation = room.annotation("approved")
    gone = room.annotation("draft")
    deleted = room.call("DELETE", f"/api/v1/annotations/{gone['id']}", "analyst",
                        headers={"If-Match": f'"{gone["id"]}-v1"'})  # fmt: skip
    assert deleted.status_code == 200
    cases = [
        {"annotation_id": "0" * 32, "report_id": report["id"]},
        {"annotation_id": gone["id"], "report_id": report["id"]},
        {"annotation_id": "x" * 300, "report_id": report["id"]},
        {"annotation_id": annotation["id"], "report_id": 9999},
        {"annotation_id": annotation["id"], "claim_id": 9999},
        {"event_id": 9999, "report_id": report["id"]},
    ]
    dropped = room.report(title="dropped")
    assert room.call("DELETE", f"/api/v1/reports/{dropped['id']}").status_code == 200
    cases.append({"annotation_id": annotation["id"], "report_id": dropped["id"]})
    for body in cases:
        refused = room.link(**body)
        assert refused.status_code == 404, (body, refused.get_json())
    assert room.call("GET", f"/api/v1/links?report={report['id']}").get_json()["links"] == []
    # a link the analyst did not make is the editor's to remove
    made = room.link("editor", annotation_id=annotation["id"], claim_id=claim["id"]).get_json()
    assert room.call("DELETE", f"/api/v1/links/{made['id']}", "analyst").status_code == 403
    assert room.call("DELETE", f"/api/v1/links/{made['id']}", "viewer").status_code == 403
    assert room.link("viewer", annotation_id=annotation["id"], report_id=report["id"]
                     ).status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"report_id": 1}, "exactly one"),
        ({"annotation_id": "a", "event_id": 1, "report_id": 1}, "exactly one"),
        ({"annotation_id": "a"}, "report_id"),
        ({"annotation_id": "a", "report_id": 1, "stance": "agrees"}, "stance"),
    ],
)
def test_bad_links(room: Newsroom, body: dict[str, object], words: str) -> None:
    refused = room.call("POST", "/api/v1/links", "analyst", json={"stance": "supports", **body})
    assert refused.status_code == 422
    assert words in refused.get_json()["message"]


def test_an_event_groups_captures_and_sums_them_up(room: Newsroom, make_geotiff: Callable[..., Path]
                                                   ) -> None:  # fmt: skip
    from annotations.catalogue.images import Provenance
    from annotator.intake import Upload, import_images

    earlier = make_geotiff("earlier.tif", tags={"note": "another capture"})
    import_images(services.database(room.app), room.app.config["IMAGES_DIR"],
                  [Upload(earlier, "earlier.tif")], Provenance(provider="P2"),
                  sites=("hmeimim-apron",), captured=datetime(2024, 12, 10, 9, tzinfo=UTC),
                  max_pixels=10**9)  # fmt: skip
    first = room.annotation("approved")
    second = room.annotation("in_review", offset_m=40)
    fighter = room.annotation("draft", offset_m=-40, label="aircraft.unknown.large")
    made = room.call("POST", "/api/v1/events", "analyst",
                     json={"site": "hmeimim-apron", "title": "An-124 airlift at Hmeimim",
                           "start": "2024-12-10", "end": "2024-12-14",
                           "annotation_ids": [first["id"], second["id"]]})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    event = made.get_json()
    added = room.call("POST", f"/api/v1/events/{event['id']}/annotations", "analyst",
                      json={"annotation_ids": [fighter["id"]]})  # fmt: skip
    assert added.status_code == 200, added.get_json()
    summary = added.get_json()["summary"]
    assert summary["counts"] == {
        "2024-12-13": {"aircraft.transport.an-124": 2, "aircraft.unknown.large": 1}}  # fmt: skip
    assert summary["first_seen"] == summary["last_seen"] == "2024-12-13T08:21:00Z"
    captures = [c["captured_at"] for c in summary["captures"]]
    assert captures == ["2024-12-10T09:00:00Z", "2024-12-13T08:21:00Z"]
    again = room.call("POST", f"/api/v1/events/{event['id']}/annotations", "analyst",
                      json={"annotation_ids": [first["id"]]})  # fmt: skip
    assert again.status_code == 409
    listed = room.call("GET", f"/api/v1/annotations?event={event['id']}").get_json()["features"]
    assert {f["id"] for f in listed} == {first["id"], second["id"], fighter["id"]}
    out = room.call("DELETE", f"/api/v1/events/{event['id']}/annotations/{fighter['id']}",
                    "analyst")  # fmt: skip
    assert out.status_code == 200 and fighter["id"] not in out.get_json()["annotation_ids"]
    # an event linked to a report brings its annotations into the report's evidence
    report = room.report()
    linked = room.link(event_id=event["id"], report_id=report["id"], note="the airlift")
    assert linked.status_code == 201, linked.get_json()
    evidence = room.call("GET", f"/api/v1/annotations?report={report['id']}").get_json()
    assert {f["id"] for f in evidence["features"]} == {first["id"], second["id"]}
    history = room.call("GET", f"/api/v1/events/{event['id']}/history").get_json()["changes"]
    assert [c["action"] for c in history] == ["create", "add", "add", "add", "remove"]
    bad = room.call("POST", "/api/v1/events", "analyst",
                    json={"site": "hmeimim-apron", "title": "t", "start": "2024-12-14",
                          "end": "2024-12-10"})  # fmt: skip
    assert bad.status_code == 422 and "before it starts" in bad.get_json()["message"]
    nowhere = room.call("POST", "/api/v1/events", "analyst",
                        json={"site": "nowhere", "title": "t", "start": "2024-12-10",
                              "end": "2024-12-11"})  # fmt: skip
    assert nowhere.status_code == 404


def test_publishing_needs_every_linked_annotation_approved(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    approved = room.annotation("approved")
    waiting = room.annotation("in_review", offset_m=40)
    draft = room.annotation("draft", offset_m=-40)
    doomed = room.annotation("approved", offset_m=80)
    for item in (approved, waiting, draft, doomed):
        assert room.link(annotation_id=item["id"], claim_id=claim["id"]).status_code == 201
    version = doomed["properties"]["version"]
    gone = room.call("DELETE", f"/api/v1/annotations/{doomed['id']}", "editor",
                     headers={"If-Match": f'"{doomed["id"]}-v{version}"'})  # fmt: skip
    assert gone.status_code == 200
    path = f"/api/v1/reports/{report['id']}/publish"
    assert room.call("POST", path, "analyst").status_code == 403
    refused = room.call("POST", path, "editor")
    assert refused.status_code == 409, refused.get_json()
    body = refused.get_json()
    assert body["error"] == "not_publishable"
    listed = {item["annotation_id"]: item for item in body["details"]["annotations"]}
    assert set(listed) == {waiting["id"], draft["id"], doomed["id"]}
    assert listed[doomed["id"]]["deleted"] is True
    assert listed[draft["id"]]["status"] == "draft"
    for identifier in listed:  # the message names them; their ids are in the details
        assert identifier not in body["message"]
    assert body["message"].startswith("3 linked annotations of the report \u201cThe situation")
    named = "the Antonov An-124 Ruslan on the 2024-12-13 Hmeimim apron capture is a draft: "
    assert named in body["message"]
    assert listed[waiting["id"]]["words"] == "is in review: approve it"
    assert listed[doomed["id"]]["words"] == "was deleted: unlink it"
    shown = room.call("GET", f"/api/v1/reports/{report['id']}").get_json()
    assert shown["status"] == "draft" and shown["publications"] == [], "nothing written"
    assert room.call("POST", f"/api/v1/reports/{report['id']}/publish", "editor",
                     ).status_code == 409  # fmt: skip


def test_a_publication_is_frozen_with_its_sha256(room: Newsroom) -> None:
    report = room.report()
    claim = room.claim(report["id"])
    annotation = room.annotation("approved")
    room.link(annotation_id=annotation["id"], claim_id=claim["id"], note="nose open")
    empty = room.report(title="nothing linked")
    assert room.call("POST", f"/api/v1/reports/{empty['id']}/publish").status_code == 422
    made = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
    assert made.status_code == 201, made.get_json()
    publication = made.get_json()
    assert publication["number"] == 1 and publication["annotations"] == 1
    assert publication["embed_url"].startswith("/embed/")
    frozen = room.call("GET", f"/api/v1/reports/{report['id']}/publications/1")
    assert hashlib.sha256(frozen.data).hexdigest() == publication["sha256"]
    evidence = json.loads(frozen.data)
    item = evidence["annotations"][0]
    assert item["id"] == annotation["id"] and item["version"] == annotation["properties"]["version"]
    assert item["approved_by"] == "editor" and item["revised_by"] == "editor"
    assert item["links"] == [{"stance": "supports", "claim_id": claim["id"], "note": "nose open"}]
    assert item["feature"]["properties"]["reports"] == [report["id"]]
    assert evidence["claims"][0]["exact"] == claim["exact"]
    assert evidence["images"][0]["provider"] == "SpaceNet / CosmiQ Works"
    assert evidence["images"][0]["cog_path"].endswith(".tif") and "/" not in evidence["images"][0][
        "cog_path"]  # fmt: skip
    assert "Hmeimim apron" in evidence["caption"] and "2024-12-13" in evidence["caption"]
    shown = room.call("GET", f"/api/v1/reports/{report['id']}", "viewer").get_json()
    assert shown["status"] == "published", "published reports are public to viewers"
    # a later edit makes a new publication, and never changes the first one
    version = annotation["properties"]["version"]
    room.call("POST", f"/api/v1/annotations/{annotation['id']}/status", "editor",
              json={"status": "in_review"},
              headers={"If-Match": f'"{annotation["id"]}-v{version}"'})  # fmt: skip
    again = room.call("GET", f"/api/v1/reports/{report['id']}/publications/1")
    assert again.data == frozen.data
    assert room.call("POST", f"/api/v1/reports/{report['id']}/publish").status_code == 409
    listed = room.call("GET", f"/api/v1/reports/{report['id']}/publications").get_json()
    assert [p["sha256"] for p in listed["publications"]] == [publication["sha256"]]


@pytest.mark.parametrize("metres", [100, 500])
def test_coarsening_rounds_to_a_grid(room: Newsroom, metres: int) -> None:
    report = room.report(coarsening={"mode": "round", "metres": metres})
    annotation = room.annotation("approved")
    room.link(annotation_id=annotation["id"], report_id=report["id"])
    made = room.call("POST", f"/api/v1/reports/{report['id']}/publish")
    assert made.status_code == 201, made.get_json()
    evidence = json.loads(room.call("GET", f"/api/v1/reports/{report['id']}/publications/1").data)
    geometry = shape(evidence["annotations"][0]["feature"]["geometry"])
    assert 36 < CENTRE[0] < 42, "the scene lies in UTM zone 37, whose grid the rounding uses"
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32637", always_xy=True)
    for lon, lat in shapely.get_coordinates(geometry):
        x, y = to_utm.transform(lon, lat)
        assert (
            abs(x / metres - round(x / metres)) < 1e-3
            and abs(y / metres - round(y / metres)) < 1e-3
        )
    precise = shape(annotation["geometry"]).centroid
    assert precise.distance(geometry.centroid) * 111_000 <= metres
    assert evidence["coarsening"] == f"coordinates rounded to {metres} m"


def test_coarsening_to_the_site_area(room: Newsroom) -> None:
    report = room.report(coarsening={"mode": "site"})
    annotation = room.annotation("approved")
    room.link(annotation_id=annotation["id"], report_id=report["id"])
    assert room.call("POST", f"/api/v1/reports/{report['id']}/publish").status_code == 201
    evidence = json.loads(room.call("GET", f"/api/v1/reports/{report['id']}/publications/1").data)
    geometry = shape(evidence["annotations"][0]["feature"]["geometry"])
    site = shape(room.call("GET", "/api/v1/sites/hmeimim-apron").get_json()["area"])
    assert geometry.normalize().equals_exact(site.normalize(), 1e-6)
    assert geometry.contains(shapely.Point(CENTRE))


def test_the_outputs_of_a_publication_and_its_embed(room: Newsroom, tmp_path: Path) -> None:
    import io
    import zipfile

    from PIL import Image

    from annotations.newsroom.bundle import verify_bundle

    report = room.report(title="Airlift <script>alert(1)</script>")
    claim = room.claim(report["id"])
    annotation = room.annotation("approved")
    room.link(annotation_id=annotation["id"], claim_id=claim["id"])
    base = f"/api/v1/reports/{report['id']}"
    assert room.call("GET", f"{base}/map.html").status_code == 404, "nothing published yet"
    publication = room.call("POST", f"{base}/publish").get_json()
    shown = room.call("GET", f"{base}/map.html", "analyst")
    assert shown.status_code == 200 and shown.mimetype == "text/html"
    html = shown.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    policy = shown.headers["Content-Security-Policy"]
    assert "'sha256-" in policy and "frame-ancestors 'self'" in policy and "sandbox" in policy
    assert room.call("GET", f"{base}/map.html").get_data(as_text=True) == html, "kept as made"
    png = room.call("GET", f"{base}/figure.png?width=800&height=600")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size == (800, 600)
    svg = room.call("GET", f"{base}/figure.svg?width=640")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert room.call("GET", f"{base}/figure.png?width=5").status_code == 400
    assert room.call("GET", f"{base}/figure.png?width=abc").status_code == 400
    bundle = room.call("GET", f"{base}/bundle.zip")
    assert bundle.mimetype == "application/zip"
    path = tmp_path / "bundle.zip"
    path.write_bytes(bundle.data)
    assert verify_bundle(path) == []
    names = zipfile.ZipFile(path).namelist()
    assert "manifest.json" in names
    # the embed: public, framable from anywhere, the same map
    embed = room.app.test_client().get(publication["embed_url"])
    assert embed.status_code == 200, embed.get_data(as_text=True)[:300]
    assert embed.get_data(as_text=True) == html
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    assert room.app.test_client().get("/embed/" + "x" * 32).status_code == 404
    page = room.call("GET", f"/reports/{report['id']}")
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN", "only the embed may be framed"


def test_annotator_publish_writes_the_three_outputs(room: Newsroom, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from annotator.cli import main

    report = room.report()
    claim = room.claim(report["id"])
    waiting = room.annotation("in_review")
    room.link(annotation_id=waiting["id"], claim_id=claim["id"])
    env = {"ANNOTATOR_DATA_DIR": str(room.app.config["DATA_DIR"]),
           "ANNOTATOR_DATABASE_URL": str(room.app.config["DATABASE_URL"])}  # fmt: skip
    out = tmp_path / "story"
    runner = CliRunner()
    refused = runner.invoke(main, ["publish", str(report["id"]), "--by", "editor", "-o", str(out)],
                            env=env)  # fmt: skip
    assert refused.exit_code == 1 and "Hmeimim apron capture is in review" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert not out.exists(), "nothing written"
    by_analyst = runner.invoke(main, ["publish", str(report["id"]), "--by", "analyst"], env=env)
    assert by_analyst.exit_code == 1 and "editor" in by_analyst.stderr
    version = waiting["properties"]["version"]
    etag = f'"{waiting["id"]}-v{version}"'
    room.call("POST", f"/api/v1/annotations/{waiting['id']}/status", "editor",
              json={"status": "approved"}, headers={"If-Match": etag})  # fmt: skip
    done = runner.invoke(main, ["publish", str(report["id"]), "--by", "editor", "-o", str(out),
                                "--width", "600", "--json"], env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    payload = json.loads(done.stdout)
    assert payload["number"] == 1
    written = sorted(Path(f).name for f in payload["files"])
    stem = f"report-{report['id']}-1"
    assert written == [f"{stem}-evidence.zip", f"{stem}-figure.png", f"{stem}-figure.svg",
                       f"{stem}-map.html"]  # fmt: skip
    verified = runner.invoke(main, ["verify", str(out / f"{stem}-evidence.zip")], env=env)
    assert verified.exit_code == 0, verified.output
