"""Browser sessions end on the server; switched-off users lose tiles; sign-in is throttled;
user names ignore letter case; the last admin stays; `next=` cannot inject headers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from morecantile import tms as tile_matrix_sets
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import BrowserSession, get_user
from annotations.db import Database
from annotations.schema import _config, upgrade
from annotator import create_app, services
from annotator.cli import main
from annotator.intake import Upload, import_images
from tests.conftest import PASSWORD, _csrf_from, login

MERCATOR = tile_matrix_sets.get("WebMercatorQuad")
COOKIE = "annotator_session"


def saved_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """A fresh browser that replays a saved cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def signed_in(client: FlaskClient) -> bool:
    page = client.get("/")
    return page.status_code == 200


def cli(app: Flask, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"ANNOTATOR_DATA_DIR": str(app.config["DATA_DIR"]),
           "ANNOTATOR_DATABASE_URL": str(app.config["DATABASE_URL"]),
           "ANNOTATOR_SECRET_KEY": "test-secret"}  # fmt: skip
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, url: str = "/login",
            **kwargs: Any) -> Any:  # fmt: skip
    token = _csrf_from(client.get("/login").get_data(as_text=True))
    form = {"name": name, "password": password, "csrf_token": token}
    return client.post(url, data=form, **kwargs)


# --- 5: sessions end on the server ------------------------------------------------------


def test_sign_out_ends_a_saved_cookie(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    client = app.test_client()
    csrf = login(client, "analyst")
    saved = saved_cookie(client)
    assert signed_in(with_cookie(app, saved))
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 302
    replay = with_cookie(app, saved)
    assert not signed_in(replay), "a cookie saved before sign-out must not work after it"
    assert replay.get("/api/v1/sites").status_code == 401
    wrote = replay.post("/api/v1/sites", json={"name": "x", "lon": 1, "lat": 1},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert wrote.status_code in (400, 401)


def test_cookie_holds_only_a_random_id_and_is_not_renewed(app: Flask) -> None:
    client = app.test_client()
    csrf = login(client, "viewer")
    value = saved_cookie(client)
    assert csrf not in value
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    with pytest.raises(Exception, match=r"[Ss]ignature"):
        serializer.loads(value)  # Flask's readable signed cookie is gone
    assert value.startswith("s.") and len(value) == 45
    page = client.get("/")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers, "the cookie is set at sign-in and never renewed"
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    with services.database(app).read() as session:
        stored = session.scalars(text("SELECT id_sha256 FROM browser_sessions")).all()
    assert value[2:] not in stored, "only a hash of the id is stored"
    assert len(stored) == 1


def test_secure_flag_when_configured(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "SECRET_KEY": "k", "TESTING": True,
                      "SECURE_COOKIES": True})  # fmt: skip
    database = services.database(app)
    upgrade(database)
    response = app.test_client().get("/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    database.dispose()


def _age_sessions(app: Flask, **columns: timedelta) -> None:
    database = services.database(app)
    with database.write() as session:
        for row in session.query(BrowserSession).all():
            for column, delta in columns.items():
                setattr(row, column, getattr(row, column) - delta)


def test_idle_and_absolute_lifetimes(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    rules = app.extensions["annotator.session_rules"]
    assert rules.lifetime == timedelta(hours=12) and rules.idle == timedelta(hours=2)
    idle = app.test_client()
    login(idle, "viewer")
    _age_sessions(app, last_seen_at=rules.idle - timedelta(minutes=5))
    assert signed_in(idle), "used within the idle time: still signed in, and noted as seen"
    _age_sessions(app, last_seen_at=rules.idle - timedelta(minutes=5))
    assert signed_in(idle), "the last request renewed the idle time"
    _age_sessions(app, last_seen_at=rules.idle + timedelta(minutes=1))
    assert not signed_in(idle), "idle for longer than the idle time"

    old = app.test_client()
    login(old, "viewer")
    _age_sessions(app, created_at=rules.lifetime + timedelta(minutes=1))
    assert not signed_in(old), "older than the lifetime, however busy"


def test_new_password_ends_sessions_api_and_cli(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    viewer = app.test_client()
    login(viewer, "viewer")
    admin = app.test_client()
    csrf = login(admin, "admin")
    changed = admin.patch("/api/v1/users/viewer", json={"password": "a new long password"},
                          headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert not signed_in(viewer)
    again = app.test_client()
    assert sign_in(again, "viewer", "a new long password").status_code == 302
    assert signed_in(again)
    short = admin.patch("/api/v1/users/viewer", json={"password": "short"},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert short.status_code == 422

    code, output = cli(app, "users", "password", "viewer", "--password-stdin",
                       stdin="yet another password\n")  # fmt: skip
    assert code == 0, output
    assert "1 session ended" in output
    assert not signed_in(again)
    assert sign_in(app.test_client(), "viewer", "yet another password").status_code == 302


# --- 6: a switched-off user loses tiles at once -----------------------------------------


@pytest.fixture
def image_id(app_on_each_backend: Flask, shared_data: Path) -> str:
    app = app_on_each_backend
    results = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(shared_data / "RGB.byte.tif", "RGB.byte.tif")],
        Provenance(),
        max_pixels=10**9,
    )
    return results[0].image.id


def test_switched_off_user_loses_tiles_and_tilejson(app_on_each_backend: Flask,
                                                    image_id: str) -> None:  # fmt: skip
    app = app_on_each_backend
    tile = MERCATOR.tile(-77.8, 24.65, 9)
    tile_url = f"/tiles/{image_id}/9/{tile.x}/{tile.y}.png"
    viewer = app.test_client()
    login(viewer, "viewer")
    assert viewer.get(tile_url).status_code == 200  # now cached as valid for a few seconds
    assert viewer.get(f"/tiles/{image_id}/tilejson.json").status_code == 200
    admin = app.test_client()
    csrf = login(admin, "admin")
    off = admin.patch("/api/v1/users/viewer", json={"active": False},
                      headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert off.status_code == 200
    assert viewer.get(tile_url).status_code == 401
    assert viewer.get(f"/tiles/{image_id}/tilejson.json").status_code == 401
    assert not signed_in(viewer)

    analyst = app.test_client()
    csrf_a = login(analyst, "analyst")
    assert analyst.get(tile_url).status_code == 200
    analyst.post("/logout", data={"csrf_token": csrf_a})
    assert analyst.get(tile_url).status_code == 401, "sign-out clears the tile cache"


def test_cli_switch_off_ends_sessions(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    viewer = app.test_client()
    login(viewer, "viewer")
    code, output = cli(app, "users", "set", "VIEWER", "--inactive")
    assert code == 0, output
    assert "viewer: viewer, switched off" in output
    assert not signed_in(viewer)
    assert sign_in(app.test_client(), "viewer").status_code == 401
    code, output = cli(app, "users", "set", "viewer", "--active", "--role", "analyst")
    assert code == 0 and "viewer: analyst, active" in output


# --- 8: sign-in throttle -----------------------------------------------------------------


def test_forty_wrong_passwords_lock_the_account_not_others(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    attacker = app.test_client()
    here = {"REMOTE_ADDR": "10.0.0.1"}
    answers = [sign_in(attacker, "analyst", f"guess {n}", environ_base=here) for n in range(40)]
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 30
    wait = int(answers[-1].headers["Retry-After"])
    assert 0 < wait <= 15 * 60
    assert "Too many sign-in attempts" in answers[-1].get_data(as_text=True)
    right = sign_in(attacker, "Analyst", PASSWORD, environ_base=here)
    assert right.status_code == 429, "the right password is refused while locked"
    elsewhere = {"REMOTE_ADDR": "10.0.0.2"}
    assert sign_in(app.test_client(), "analyst", environ_base=elsewhere).status_code == 429
    other = app.test_client()
    assert sign_in(other, "editor", environ_base=elsewhere).status_code == 302
    assert signed_in(other)
    json_client = app.test_client()
    token = _csrf_from(json_client.get("/login").get_data(as_text=True))
    refused = json_client.post("/login", headers={"Accept": "application/json"},
                               data={"name": "analyst", "password": PASSWORD,
                                     "csrf_token": token})  # fmt: skip
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.get_json()["error"] == "too_many_requests"


def test_counts_are_shared_by_every_worker_process(app_on_each_backend: Flask,
                                                   tmp_path: Path) -> None:  # fmt: skip
    """A second app on the same database (as a second gunicorn worker is) sees the counts."""
    app = app_on_each_backend
    second = create_app({"DATA_DIR": str(tmp_path / "second"), "SECRET_KEY": "test-secret",
                         "DATABASE_URL": app.config["DATABASE_URL"]})  # fmt: skip
    try:
        first_client, second_client = app.test_client(), second.test_client()
        for n in range(5):
            assert sign_in(first_client, "viewer", f"wrong {n}").status_code == 401
        for n in range(5):
            assert sign_in(second_client, "viewer", f"wrong {n}").status_code == 401
        assert sign_in(first_client, "viewer").status_code == 429
        assert sign_in(second_client, "viewer").status_code == 429
    finally:
        services.database(second).dispose()


def test_per_address_limit(tmp_path: Path) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "d"), "SECRET_KEY": "k", "TESTING": True,
                      "SIGNIN_ADDRESS_LIMIT": "3 per hour"})  # fmt: skip
    database = services.database(app)
    upgrade(database)
    try:
        spray = {"REMOTE_ADDR": "10.9.9.9"}
        statuses = [sign_in(app.test_client(), f"user{n}", "x" * 12, environ_base=spray)
                    .status_code for n in range(5)]  # fmt: skip
        assert statuses == [401, 401, 401, 429, 429]
        calm = {"REMOTE_ADDR": "10.1.1.1"}
        assert sign_in(app.test_client(), "user9", "x" * 12, environ_base=calm).status_code == 401
    finally:
        database.dispose()


def test_bad_limit_setting_is_one_clear_error(tmp_path: Path) -> None:
    from annotator.config import ConfigError

    with pytest.raises(ConfigError, match="ANNOTATOR_SIGNIN_ACCOUNT_LIMIT"):
        create_app({"DATA_DIR": str(tmp_path / "d"), "SECRET_KEY": "k",
                    "SIGNIN_ACCOUNT_LIMIT": "lots"})  # fmt: skip


@pytest.fixture
def busy_slots(app: Flask) -> Iterator[threading.BoundedSemaphore]:
    """Every password-check slot of this process taken, as by slow concurrent sign-ins."""
    slots: threading.BoundedSemaphore = app.extensions["annotator.sign_in_throttle"].slots
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    assert taken == app.config["SIGNIN_CONCURRENCY"] == 1
    yield slots
    for _ in range(taken):
        slots.release()


def test_password_checks_are_bounded(app: Flask, busy_slots: threading.BoundedSemaphore) -> None:
    reader = app.test_client()
    busy_slots.release()  # one free slot, to sign the reader in
    login(reader, "viewer")
    assert busy_slots.acquire(blocking=False)
    refused = sign_in(app.test_client(), "analyst")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert reader.get("/").status_code == 200, "signed-in people are not held up"


# --- 15: user names ignore case; the last admin stays ------------------------------------


def test_user_names_ignore_letter_case(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    admin = app.test_client()
    csrf = login(admin, "admin")
    taken = admin.post("/api/v1/users", json={"name": "Editor", "role": "viewer",
                       "password": "a long password"}, headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert taken.status_code == 409
    assert "taken by 'editor'" in taken.get_json()["message"]
    code, output = cli(app, "users", "add", "EDITOR", "--role", "viewer", "--password-stdin",
                       stdin="a long password\n")  # fmt: skip
    assert code == 1 and output.strip().count("\n") == 0 and "taken by 'editor'" in output
    assert sign_in(app.test_client(), "EdItOr").status_code == 302
    renamed = admin.patch("/api/v1/users/EDITOR", json={"role": "analyst"},
                          headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "editor"
    database: Database = services.database(app)
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(text("INSERT INTO users (name, role_name, active, created_at) "
                             "VALUES ('ANALYST', 'viewer', true, CURRENT_TIMESTAMP)"))  # fmt: skip


def test_migration_refuses_names_that_differ_only_in_case(database_url: str) -> None:
    database = Database(database_url)
    config = _config()
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
            connection.execute(text("INSERT INTO users (name, role_name, active, created_at) "
                                    "VALUES ('Bob', 'viewer', true, CURRENT_TIMESTAMP), "
                                    "('bob', 'admin', true, CURRENT_TIMESTAMP)"))  # fmt: skip
        with pytest.raises(ValueError, match=r"Bob \(id \d+\) and bob \(id \d+\)"):
            upgrade(database)
        with database.engine.begin() as connection:
            connection.execute(text("UPDATE users SET name = 'bob-2' WHERE name = 'Bob'"))
        upgrade(database)
        with database.engine.begin() as connection:  # and back down, and up again
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        upgrade(database)
        with database.read() as session:
            assert get_user(session, "BOB").name == "bob"
    finally:
        database.dispose()


def test_the_last_admin_stays(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    admin = app.test_client()
    csrf = login(admin, "admin")
    headers = {"X-CSRF-Token": csrf}
    demote = admin.patch("/api/v1/users/admin", json={"role": "editor"}, headers=headers)
    assert demote.status_code == 422
    assert "last active admin" in demote.get_json()["message"]
    off = admin.patch("/api/v1/users/ADMIN", json={"active": False}, headers=headers)
    assert off.status_code == 422
    code, output = cli(app, "users", "set", "admin", "--role", "viewer")
    assert code == 1 and "last active admin" in output and output.strip().count("\n") == 0
    code, output = cli(app, "users", "set", "admin", "--inactive")
    assert code == 1 and "last active admin" in output
    promoted = admin.patch("/api/v1/users/editor", json={"role": "admin"}, headers=headers)
    assert promoted.status_code == 200
    assert admin.patch("/api/v1/users/admin", json={"role": "editor"},
                       headers=headers).status_code == 200  # fmt: skip
    code, output = cli(app, "users", "set", "editor", "--role", "viewer")
    assert code == 1 and "last active admin" in output


def test_a_switched_off_admin_does_not_count(app_on_each_backend: Flask) -> None:
    app = app_on_each_backend
    code, output = cli(app, "users", "add", "second", "--role", "admin", "--password-stdin",
                       stdin="a long password\n")  # fmt: skip
    assert code == 0, output
    assert cli(app, "users", "set", "second", "--inactive")[0] == 0
    code, output = cli(app, "users", "set", "admin", "--role", "editor")
    assert code == 1 and "last active admin" in output


# --- 10 (part): next= after sign-in --------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/sites%0D%0ASet-Cookie:%20x=1", "/%0AX-Evil:%201", "/a%09b", "/%5Cevil.example",
     "/%5C%5Cevil.example", "http://[evil", "//evil.example", "/%7F"],
)  # fmt: skip
def test_next_with_control_characters_goes_home(app: Flask, target: str) -> None:
    client = app.test_client()
    response = sign_in(client, "viewer", url=f"/login?next={target}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers) and "X-Evil" not in response.headers


def test_next_on_the_app_is_kept(app: Flask) -> None:
    client = app.test_client()
    response = sign_in(client, "viewer", url="/login?next=/sites%3Fq%3D1")
    assert response.headers["Location"] == "/sites?q=1"
