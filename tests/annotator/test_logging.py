"""The app's log: a request id on every line of a request, text or JSON lines, the level
setting, begin and end lines of ingest, import and export with their sizes, no secrets."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from annotator import create_app, logs
from annotator.cli import main
from annotator.config import ConfigError
from tests.annotations.test_imports import add_image
from tests.conftest import PASSWORD, login, token_for
from tests.exchange_world import World, build_world
from tests.newsroom import newsroom

Header = Callable[[str], dict[str, str]]
#: the start of every record's line in the text format
TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ \[\S+\] "
)


class Log:
    """What the app logged into a stream: as text lines, or as parsed JSON lines."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[str]:
        return self.text.splitlines()

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def event(self, name: str) -> list[dict[str, Any]]:
        return [entry for entry in self.entries() if entry.get("event") == name]


@pytest.fixture
def configured() -> Iterator[Callable[..., Log]]:
    """`configure(level, fmt)` into a stream of the test's; the process's logging is put back
    as it was afterwards (so is whatever the command line set up)."""
    names = ("", *logs.PACKAGES)
    levels = {name: logging.getLogger(name).level for name in names}

    def configure(level: str = "INFO", fmt: str = "text") -> Log:
        stream = io.StringIO()
        logs.configure(level, fmt, stream)
        return Log(stream)

    yield configure
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._Handler)]:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def small_geotiff(make_geotiff: Callable[..., Path]) -> Path:
    rng = np.random.default_rng(11)
    return make_geotiff("scene.tif", rng.integers(1, 255, (3, 100, 120), dtype=np.uint8))


def sign_in(client: FlaskClient, name: str, password: str) -> int:
    """A sign-in through the form (with the form's CSRF token); its status."""
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    data = {"name": name, "password": password, "csrf_token": csrf.group(1)}
    return client.post("/login", data=data).status_code


def upload(app: Flask, path: Path, headers: dict[str, str]) -> Any:
    data = {"file": (io.BytesIO(path.read_bytes()), path.name)}
    return app.test_client().post(
        "/api/v1/images?wait=1", data=data, headers=headers, content_type="multipart/form-data"
    )


# ------------------------------------------------------------------- request ids


def test_the_request_id_is_echoed_and_on_every_line_of_its_request(
    app: Flask,
    configured: Callable[..., Log],
    make_geotiff: Callable[..., Path],
    auth_header: Header,
) -> None:
    log = configured("INFO", "text")
    path = small_geotiff(make_geotiff)
    response = upload(app, path, {**auth_header("analyst"), "X-Request-ID": "upload-7.a_B"})
    assert response.status_code == 201, response.get_json()
    assert response.headers["X-Request-ID"] == "upload-7.a_B"
    mine = [line for line in log.lines() if "[upload-7.a_B]" in line]
    # the ingest (imagery), the catalogue write and the access line all carry it
    assert any(" imagery.ingest [upload-7.a_B] ingest begins: scene.tif" in x for x in mine)
    assert any(" imagery.ingest [upload-7.a_B] ingest ends: scene.tif" in x for x in mine)
    assert mine[-1].endswith(f"POST /api/v1/images 201 {mine[-1].split()[-4]} ms "
                             f"{response.content_length} bytes")  # fmt: skip
    assert " annotator.logs [upload-7.a_B] POST /api/v1/images 201 " in mine[-1]
    # the next request has an id of its own, made here
    other = app.test_client().get("/api/v1/images", headers=auth_header("viewer"))
    made = other.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert log.lines()[-1].split(" [", 1)[1].startswith(f"{made}] GET /api/v1/images 200 ")


@pytest.mark.parametrize(
    "incoming", ["", "a" * 65, "two words", "semi;colon", "new\u2028line", "é"]
)
def test_an_unsafe_incoming_request_id_is_replaced(
    app: Flask, configured: Callable[..., Log], incoming: str
) -> None:
    log = configured("INFO", "json")
    response = app.test_client().get("/login", headers={"X-Request-ID": incoming})
    made = response.headers["X-Request-ID"]
    assert made != incoming and re.fullmatch(r"[0-9a-f]{32}", made)
    [access] = log.event("request")
    assert access["request_id"] == made


def test_json_lines_parse_and_carry_the_fields(
    app: Flask, configured: Callable[..., Log], auth_header: Header
) -> None:
    log = configured("INFO", "json")
    response = app.test_client().get(
        "/api/v1/images?secret=hunter2", headers={**auth_header("viewer"), "X-Request-ID": "j1"}
    )
    assert response.status_code == 200
    [access] = [entry for entry in log.entries() if entry["request_id"] == "j1"]
    assert access["level"] == "INFO" and access["logger"] == "annotator.logs"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", access["time"])
    assert access["event"] == "request" and access["method"] == "GET"
    assert access["path"] == "/api/v1/images" and access["status"] == 200
    assert access["bytes"] == response.content_length
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0
    assert access["message"].startswith("GET /api/v1/images 200 ")
    assert "hunter2" not in log.text  # the query string is never logged


def test_a_newline_in_a_user_value_cannot_forge_a_line(
    app: Flask, configured: Callable[..., Log]
) -> None:
    forged = "2026-01-01 00:00:00,000 ERROR annotator [x] forged"
    path = f"/reports/x%0A{forged.replace(' ', '%20')}%0D%E2%80%A8end"
    log = configured("INFO", "text")
    app.test_client().get(path)
    assert sign_in(app.test_client(), f"eve\n{forged}", "x") == 401
    lines = log.lines()
    assert lines and all(TEXT_LINE.match(line) for line in lines), lines
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert any(f"/reports/x\\n{forged}\\r\\u2028end " in line for line in lines), lines
    assert any(f"sign-in of 'eve\\n{forged}' from" in line for line in lines), lines
    # the same in JSON: one object per line, the newline inside a string
    log = configured("INFO", "json")
    app.test_client().get(path)
    [access] = log.event("request")
    assert access["path"] == f"/reports/x\n{forged}\r\u2028end"
    assert len(log.lines()) == len(log.entries())


def test_printable_escapes_every_line_break_and_control_character() -> None:
    assert logs.printable("plain: é, 中文") == "plain: é, 中文"
    assert logs.printable("a\nb\rc\td\x1b[31m\x85e\u2028f\u2029") == (
        "a\\nb\\rc\\td\\x1b[31m\\x85e\\u2028f\\u2029"
    )


def test_the_level_setting_filters(
    app: Flask, configured: Callable[..., Log], auth_header: Header
) -> None:
    log = configured("WARNING", "text")
    client = app.test_client()
    assert client.get("/api/v1/images", headers=auth_header("viewer")).status_code == 200
    assert sign_in(client, "viewer", "wrong") == 401
    assert " INFO " not in log.text and "GET /api/v1/images" not in log.text
    warnings = [line for line in log.lines() if " WARNING annotator.auth " in line]
    assert len(warnings) == 1 and "'viewer'" in warnings[0]
    log = configured("INFO", "text")
    client.get("/api/v1/images", headers=auth_header("viewer"))
    assert " INFO annotator.logs " in log.text and "GET /api/v1/images 200" in log.text


# --------------------------------------------------------------- the long operations


def test_an_export_logs_its_beginning_and_its_end_with_sizes(
    app: Flask,
    configured: Callable[..., Log],
    make_geotiff: Callable[..., Path],
    auth_header: Header,
) -> None:
    world: World = build_world(app, make_geotiff)
    log = configured("INFO", "json")
    response = world.app.test_client().get(
        "/api/v1/exports?format=geojson&site=hmeimim",
        headers={**auth_header("viewer"), "X-Request-ID": "export-1"},
    )
    assert response.status_code == 200
    [begin] = log.event("export.begin")
    [end] = log.event("export.end")
    assert begin["request_id"] == end["request_id"] == "export-1"
    assert begin["format"] == end["format"] == "geojson"
    assert end["annotations"] == 6 == int(response.headers["X-Annotation-Count"])
    assert end["bytes"] == len(response.get_data())
    assert end["seconds"] >= 0
    assert end["message"] == (
        f"export ends: geojson, 6 annotations, {end['bytes']} bytes, {end['seconds']:.2f} s"
    )


def test_an_ingest_logs_its_sizes_and_a_refused_one_a_warning_without_traceback(
    app: Flask,
    configured: Callable[..., Log],
    make_geotiff: Callable[..., Path],
    auth_header: Header,
) -> None:
    log = configured("INFO", "json")
    path = small_geotiff(make_geotiff)
    response = upload(app, path, {**auth_header("analyst"), "X-Request-ID": "ingest-1"})
    assert response.status_code == 201
    [begin] = log.event("ingest.begin")
    [end] = log.event("ingest.end")
    assert begin["request_id"] == end["request_id"] == "ingest-1"
    assert begin["source_bytes"] == end["source_bytes"] == path.stat().st_size
    assert end["pixels"] == 120 * 100
    [cog] = Path(app.config["IMAGES_DIR"]).glob("*.tif")
    assert end["cog_bytes"] == cog.stat().st_size and end["seconds"] >= 0
    junk = path.with_name("junk.tif")
    junk.write_bytes(b"<html>nope</html>")
    log = configured("INFO", "text")
    refused = upload(app, junk, {**auth_header("analyst"), "X-Request-ID": "ingest-2"})
    assert refused.status_code == 415
    [failed] = [line for line in log.lines() if " WARNING " in line]
    assert " imagery.ingest [ingest-2] ingest of junk.tif failed after " in failed
    assert "junk.tif is not a TIFF" in failed
    assert "Traceback" not in log.text


def test_an_import_logs_the_file_features_made_and_refused(
    app: Flask, configured: Callable[..., Log], shared_data: Path
) -> None:
    add_image(app, shared_data / "sample_geotiff.tif")
    raw = (shared_data / "geotiff_labels.geojson").read_bytes()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}", "X-Request-ID": "imp"}
    log = configured("INFO", "json")

    def post(**form: str) -> int:
        data = {"file": (io.BytesIO(raw), "labels.geojson"), "label_field": "building", **form}
        response = app.test_client().post(
            "/api/v1/imports", data=data, headers=headers, content_type="multipart/form-data"
        )
        return response.status_code

    assert post(label_map='{"yes": "structure"}') == 201
    [begin] = log.event("import.begin")
    [end] = log.event("import.end")
    assert begin["file"] == end["file"] == "labels.geojson" and end["request_id"] == "imp"
    assert end["bytes"] == len(raw) and end["features"] == 43
    assert end["made"] == 43 and end["refused"] == 0 and end["dry_run"] is False
    assert post() == 422  # the field's values are not labels: nothing is imported
    [failed] = log.event("import.failed")
    assert failed["level"] == "WARNING" and failed["request_id"] == "imp"
    assert "holds values that are not labels" in failed["message"]
    assert "exception" not in failed


def test_a_publication_logs_the_report_its_items_and_a_refusal(
    app: Flask, configured: Callable[..., Log], make_geotiff: Callable[..., Path]
) -> None:
    room = newsroom(app, make_geotiff(), datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    report = room.report()
    claim = room.claim(report["id"])
    for offset in (0, 40):
        approved = room.annotation("approved", offset_m=offset)
        assert room.link(annotation_id=approved["id"], claim_id=claim["id"]).status_code == 201
    empty = room.report(title="nothing linked")
    log = configured("INFO", "json")
    path = f"/api/v1/reports/{report['id']}/publish"
    made = room.call("POST", path, headers={"X-Request-ID": "pub-1"})
    assert made.status_code == 201, made.get_json()
    [begin] = log.event("publish.begin")
    [end] = log.event("publish.end")
    assert begin["request_id"] == end["request_id"] == "pub-1"
    assert begin["message"] == f"publish begins: report {report['id']}"
    assert end["annotations"] == 2 == made.get_json()["annotations"]
    assert end["message"].startswith(
        f"publish ends: report {report['id']} as publication 1, 2 annotations, 1 images, "
    )
    refused = room.call("POST", f"/api/v1/reports/{empty['id']}/publish")
    assert refused.status_code == 422
    [warning] = [e for e in log.entries() if e["level"] == "WARNING"]
    assert warning["message"] == f"publish of report {empty['id']} refused: nothing linked"


def test_the_command_line_logs_only_when_the_level_is_set(
    tmp_path: Path, shared_data: Path, configured: Callable[..., Log]
) -> None:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    tif = str(shared_data / "sample_geotiff.tif")
    quiet = runner.invoke(main, ["images", "import", tif], env=env)
    assert quiet.exit_code == 0 and quiet.stderr == ""
    out = tmp_path / "out.geojson"
    loud = runner.invoke(
        main,
        ["export", "--format", "geojson", "-o", str(out)],
        env={**env, "ANNOTATOR_LOG_LEVEL": "info", "ANNOTATOR_LOG_FORMAT": "JSON"},
    )
    assert loud.exit_code == 0, loud.output
    entries = [json.loads(line) for line in loud.stderr.splitlines()]
    assert [e["event"] for e in entries] == ["export.begin", "export.end"]
    assert entries[1]["bytes"] == out.stat().st_size and entries[1]["request_id"] is None


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ANNOTATOR_LOG_LEVEL", "LOUD", "ANNOTATOR_LOG_LEVEL='LOUD' is not one of DEBUG, INFO"),
        ("ANNOTATOR_LOG_FORMAT", "xml", "ANNOTATOR_LOG_FORMAT='xml' is not one of text, json"),
    ],
)
def test_a_bad_setting_is_refused_at_start_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    configured: Callable[..., Log],
    variable: str,
    value: str,
    says: str,
) -> None:
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data"), variable: value}
    for args in (["serve", "--port", "5997"], ["init"], ["sites", "list"]):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {says}"), result.stderr
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(says)):
        create_app({"DATA_DIR": str(tmp_path / "data")})


# ------------------------------------------------------------------------ secrets


def test_a_sign_in_logs_no_password_token_cookie_or_csrf_token(
    app: Flask, configured: Callable[..., Log]
) -> None:
    log = configured("DEBUG", "text")
    client = app.test_client()
    csrf = login(client, "editor")
    cookie = client.get_cookie("annotator_session")
    assert cookie is not None
    assert sign_in(app.test_client(), "editor", "not-the-Pa55word") == 401
    token = token_for(app, "analyst")
    client.get("/api/v1/images", headers={"Authorization": f"Bearer {token}"})
    client.post("/logout", headers={"X-CSRF-Token": csrf})
    text = log.text
    assert "signed in: editor (editor) from 127.0.0.1" in text
    assert "sign-in of 'editor' from 127.0.0.1 refused: wrong name or password" in text
    for secret in (PASSWORD, "not-the-Pa55word", token, cookie.value, cookie.value[2:], csrf):
        assert secret not in text, secret
