"""Deeply nested JSON wherever JSON comes in (request bodies, label maps, imported files,
the command line), and pagination cursors this server never gave out: each is a 4xx that
says what is wrong (or one line and a non-zero exit), never a RecursionError or a 500."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from annotations.catalogue.images import Provenance
from annotations.jsontext import MAX_DEPTH, TooDeeplyNested, loads, nesting_depth
from annotations.schema import upgrade
from annotator import services
from annotator.cli import main
from annotator.intake import Upload, import_images
from tests.annotator.test_roles import CENTRE, TABLE, feature
from tests.conftest import token_for

DEEP = "[" * 100_000
#: routes whose body is not JSON (a multipart upload), or that read none
#: routes whose body is not read as JSON (a multipart upload, an upload's chunk of raw bytes) or
#: may be empty; they must still answer a 4xx, never a 500
NOT_JSON = {
    "/api/v1/images",
    "/api/v1/imports",
    "/api/v1/reports/<report_id>/publish",
    "/api/v1/uploads/<upload_id>",
    "/api/v1/images/georeference",  # multipart
}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[{{{"', 0),
        ('{"a": "\\"[[", "b": ["\\\\", ["]]"]]}', 3),
        ('[[["\\n\\u005b"]]]', 3),
        ("[" * 100_000 + "]" * 100_000, 100_000),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth
    assert nesting_depth(text.encode()) == depth


def test_loads_refuses_deep_documents_and_reads_the_rest() -> None:
    with pytest.raises(TooDeeplyNested, match="100,000 levels deep; at most 64"):
        loads(DEEP)
    assert loads(json.dumps(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    with pytest.raises(ValueError, match="nested 65 levels"):
        loads(json.dumps(nested(MAX_DEPTH + 1)))


def world(app: Flask, shared_data: Path) -> dict[str, str]:
    """One of everything a route can name, and the values to put in its path."""
    image = import_images(
        services.database(app), app.config["IMAGES_DIR"],
        [Upload(shared_data / "sample_geotiff.tif", "sample_geotiff.tif")], Provenance(),
        max_pixels=10**9,
    )[0].image  # fmt: skip
    client = app.test_client()
    analyst = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    editor = {"Authorization": f"Bearer {token_for(app, 'editor')}"}
    client.post("/api/v1/sites", json={"name": "Atlanta", "lon": CENTRE[0], "lat": CENTRE[1]},
                headers=analyst)  # fmt: skip
    made = client.post("/api/v1/annotations", json=feature(image.id), headers=analyst)
    report = client.post("/api/v1/reports", json={"title": "r", "text": "a quote here"},
                         headers=editor).get_json()  # fmt: skip
    claim = client.post(f"/api/v1/reports/{report['id']}/claims", json={"exact": "quote"},
                        headers=editor).get_json()  # fmt: skip
    event = client.post("/api/v1/events", json={"site": "atlanta", "title": "e", "start":
                        "2024-12-10", "end": "2024-12-14", "annotation_ids":
                        [made.get_json()["id"]]}, headers=analyst).get_json()  # fmt: skip
    return {
        "<image_id>": image.id, "<annotation_id>": made.get_json()["id"], "<slug>": "atlanta",
        "<name>": "viewer", "<report_id>": str(report["id"]), "<claim_id>": str(claim["id"]),
        "<event_id>": str(event["id"]), "<link_id>": "1", "<int:number>": "1",
        "If-Match": made.headers["ETag"],
    }  # fmt: skip


def test_every_json_body_refuses_deep_nesting(app: Flask, shared_data: Path) -> None:
    values = world(app, shared_data)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}", "If-Match": values["If-Match"]}
    writes = [
        (m, r) for m, r, _ in TABLE if m in ("POST", "PUT", "PATCH") and r.startswith("/api/")
    ]
    assert len(writes) >= 15
    answers = {}
    for method, rule in writes:
        path = rule
        for key, value in values.items():
            path = path.replace(key, value)
        response = client.open(path, method=method, data=DEEP, headers=headers,
                               content_type="application/json")  # fmt: skip
        answers[f"{method} {rule}"] = response.status_code
        assert response.status_code < 500, (method, rule, response.get_data(as_text=True)[:300])
        assert response.is_json, (method, rule)
        if rule not in NOT_JSON:
            body = response.get_json()
            assert response.status_code == 400, (method, rule, body)
            assert body["error"] == "malformed_json", (method, rule, body)
            assert "100,000 levels deep; at most 64" in body["message"]
    assert set(answers.values()) <= {400, 415, 422}, answers


def annotation_with(image_id: str, attributes: Any) -> dict[str, Any]:
    body = feature(image_id)
    body["properties"]["attributes"] = attributes
    return body


def test_nesting_at_the_limit_reaches_validation_and_past_it_does_not(
    app: Flask, shared_data: Path
) -> None:
    """Attributes are checked against the label's schema (no free-form objects are stored,
    so nothing deep is ever read back); a body within the limit gets that check's answer."""
    image_id = world(app, shared_data)["<image_id>"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    inside = nested(MAX_DEPTH - 4)  # Feature > properties > attributes > {"x": ...}
    made = client.post("/api/v1/annotations", json=annotation_with(image_id, {"x": inside}),
                       headers=headers)  # fmt: skip
    assert made.status_code == 422 and "unknown attribute 'x'" in made.get_json()["message"]
    too_deep = client.post("/api/v1/annotations", json=annotation_with(image_id, nested(MAX_DEPTH)),
                           headers=headers)  # fmt: skip
    assert too_deep.status_code == 400 and "at most 64" in too_deep.get_json()["message"]


def post_import(app: Flask, pairs: list[tuple[str, Any]]) -> TestResponse:
    fields: MultiDict[str, Any] = MultiDict()
    for key, value in pairs:
        fields.add(key, FileStorage(io.BytesIO(value[0]), filename=value[1])
                   if isinstance(value, tuple) else value)  # fmt: skip
    boundary, body = encode_multipart(fields)
    return app.test_client().post(
        "/api/v1/imports", data=body, content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token_for(app, 'analyst')}"},
    )  # fmt: skip


def layer(image_id: str) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [feature(image_id)]}).encode()


def test_imports_refuse_deep_label_maps_and_files(app: Flask, shared_data: Path) -> None:
    image_id = world(app, shared_data)["<image_id>"]
    deep_map = '{"a": ' + DEEP + "}"
    for label_map in (deep_map, (deep_map.encode(), "map.json")):
        response = post_import(app, [("dry_run", "1"), ("file", (layer(image_id), "a.json")),
                                     ("label_map", label_map)])  # fmt: skip
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        assert "label map" in response.get_json()["message"]
        assert "levels deep; at most 64" in response.get_json()["message"]
    deep_file = ('{"type": "FeatureCollection", "features": ' + DEEP).encode()
    response = post_import(app, [("dry_run", "1"), ("file", (deep_file, "deep.geojson"))])
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "deep.geojson" in response.get_json()["message"]
    assert "levels deep; at most 64" in response.get_json()["message"]


def test_the_command_line_refuses_deep_json_in_one_line(tmp_path: Path) -> None:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    deep = tmp_path / "deep.geojson"
    deep.write_text('{"type": "Polygon", "coordinates": ' + DEEP)
    label_map = tmp_path / "map.json"
    label_map.write_text('{"a": ' + DEEP + "}")
    layer_file = tmp_path / "layer.geojson"
    layer_file.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    for args in (
        ["sites", "add", "Deep", "--geojson", str(deep)],
        ["import", str(deep), "--dry-run"],
        ["import", str(layer_file), "--dry-run", "--label-map", str(label_map)],
    ):
        result = runner.invoke(main, args, env=env)
        assert not isinstance(result.exception, RecursionError), args
        assert result.exit_code == 1, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "levels deep; at most 64" in lines[0], (args, result.stderr)


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        "2024-12-13T08:21:00|0b6c0000000000000000000000000000",  # no zone
        "2024-12-13T08:21:00+00:00|",  # no id
        "not a time|0b6c",
    ],
    ids=["naive-time", "no-id", "not-a-time"],
)
def test_a_cursor_this_server_never_gave_out_is_a_422(
    app_on_each_backend: Flask, tmp_path: Path, raw: str
) -> None:
    app = app_on_each_backend
    upgrade(services.database(app))
    response = app.test_client().get(
        f"/api/v1/annotations?cursor={cursor_of(raw)}",
        headers={"Authorization": f"Bearer {token_for(app, 'viewer')}"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["message"].startswith("cursor is not one this server gave out")


def test_a_bundle_with_a_deep_manifest_or_signature_is_a_problem_not_a_crash(
    tmp_path: Path,
) -> None:
    """`annotator verify` reads JSON from a file anyone may hand it."""
    import hashlib
    import zipfile

    from annotations.newsroom.bundle import MANIFEST, MANIFEST_HASH, SIGNATURE, verify_bundle

    bundle = tmp_path / "hostile.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr(MANIFEST, DEEP)
        archive.writestr(MANIFEST_HASH, hashlib.sha256(DEEP.encode()).hexdigest())
        archive.writestr(SIGNATURE, DEEP)
    problems = verify_bundle(bundle)
    assert any(p.startswith(f"{MANIFEST}: not a bundle manifest") and "levels deep" in p
               for p in problems), problems  # fmt: skip
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 1 and not isinstance(result.exception, RecursionError)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from annotations.newsroom.signing import check_signature

    key = Ed25519PrivateKey.generate().public_key()
    reason = check_signature(DEEP.encode(), b"data", key)
    assert reason is not None and "levels deep" in reason
