"""`annotator demo` adds the seed report: two claims, the An-124s linked, the airlift event,
one publication; a second run changes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from annotations.newsroom.bundle import verify_bundle
from annotator import create_app, services
from annotator.cli import main
from annotator.demo.arabic import ARABIC_CLAIMS, ARABIC_TITLE
from annotator.demo.loader import SEED_CLAIMS, SEED_TITLE
from tests.conftest import token_for


def test_the_seed_report(tmp_path: Path) -> None:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data"),
           "ANNOTATOR_SAMPLE_DATA_DIR": str(tmp_path / "no-samples")}  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    assert f"seed report {SEED_TITLE!r}: 2 claims, 4 links, 1 event, published" in first.stdout
    assert "seed report in Arabic: 2 claims, 4 links, published" in first.stdout
    story = tmp_path / "data" / "demo" / "story"
    assert sorted(p.suffix for p in story.iterdir()) == [".html", ".png", ".svg", ".zip"]
    assert verify_bundle(next(story.glob("*.zip"))) == []
    second = runner.invoke(main, ["demo"], env=env)
    assert second.exit_code == 0, second.output
    assert f"seed report {SEED_TITLE!r}: present" in second.stdout
    assert "seed report in Arabic: present" in second.stdout

    app = create_app({"DATA_DIR": str(tmp_path / "data")})
    client = app.test_client()
    viewer = {"Authorization": f"Bearer {token_for(app, 'editor')}"}
    listed = client.get("/api/v1/reports", headers=viewer).get_json()["reports"]
    # the seed report (newest, first) and its Arabic translation, however many runs
    assert [r["title"] for r in listed] == [SEED_TITLE, ARABIC_TITLE]
    report = client.get(f"/api/v1/reports/{listed[0]['id']}", headers=viewer).get_json()
    assert report["status"] == "published" and report["published_at"] == "2026-05-25T00:00:00Z"
    assert [c["exact"] for c in report["claims"]] == list(SEED_CLAIMS)
    for claim in report["claims"]:
        assert claim["prefix"] + claim["exact"] + claim["suffix"] in report["text"]
    first_claim = report["claims"][0]["id"]
    on_claim = [link for link in report["links"] if link["claim_id"] == first_claim]
    # the two An-124s of the 2024-12-13 capture and the same two on the demo's press picture
    assert [link["stance"] for link in on_claim] == ["supports"] * 4
    an_124s = client.get("/api/v1/annotations?label=aircraft.transport.an-124",
                         headers=viewer).get_json()["features"]  # fmt: skip
    assert {link["annotation_id"] for link in on_claim} == {f["id"] for f in an_124s}
    arabic = client.get(f"/api/v1/reports/{listed[1]['id']}", headers=viewer).get_json()
    assert all(
        sorted(f["properties"]["reports"]) == sorted([report["id"], arabic["id"]]) for f in an_124s
    )
    events = client.get("/api/v1/events", headers=viewer).get_json()["events"]
    assert [(e["title"], e["start"], e["end"]) for e in events] == [
        ("An-124 airlift at Hmeimim", "2024-12-10T00:00:00Z", "2024-12-14T00:00:00Z")
    ]
    event = client.get(f"/api/v1/events/{events[0]['id']}", headers=viewer).get_json()
    assert event["summary"]["counts"] == {"2024-12-13": {"aircraft.transport.an-124": 2}}
    # both demo captures and the press picture (stated 2024-12-13) fall in the window
    assert len(event["summary"]["captures"]) == 3
    [publication] = report["publications"]
    frozen = client.get(f"/api/v1/reports/{report['id']}/publications/1", headers=viewer)
    assert hashlib.sha256(frozen.data).hexdigest() == publication["sha256"]
    evidence = json.loads(frozen.data)
    assert {a["id"] for a in evidence["annotations"]} == {f["id"] for f in an_124s}
    assert "SYNTHETIC" in evidence["caption"]
    embed = client.get(f"/embed/{report['embed_url'].rsplit('/', 1)[1]}")
    assert embed.status_code == 200 and "An-124" in embed.get_data(as_text=True)
    # the Arabic version: marked as a translation made for the demo, the same claims in the
    # same order, linked to the same annotations, published with its figure in Arabic
    assert arabic["language"] == "ar" and arabic["status"] == "published"
    assert "للعرض التوضيحي" in arabic["title"] and "ترجمة" in arabic["summary"]
    assert [c["exact"] for c in arabic["claims"]] == list(ARABIC_CLAIMS)
    for claim in arabic["claims"]:
        assert claim["prefix"] + claim["exact"] + claim["suffix"] in arabic["text"]
    first_arabic = arabic["claims"][0]["id"]
    on_arabic = [link for link in arabic["links"] if link["claim_id"] == first_arabic]
    assert {link["annotation_id"] for link in on_arabic} == {f["id"] for f in an_124s}
    assert [link["stance"] for link in on_arabic] == ["supports"] * 4
    figure = client.get(f"/api/v1/reports/{arabic['id']}/figure.svg?width=400", headers=viewer)
    assert figure.status_code == 200 and "دليل على" in figure.get_data(as_text=True)
    services.database(app).dispose()
