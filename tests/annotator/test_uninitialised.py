"""A data folder where `annotator init` never ran (or ran with an older version): every
command says in one line to run it and changes nothing; the web app answers 503 saying
the same, and serves once `annotator init` has run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from alembic import command
from click.testing import CliRunner
from flask import Flask
from PIL import Image as PILImage

from annotations.schema import _config, head, upgrade
from annotator import create_app, services
from annotator.cli import main
from tests.conftest import ROOT

#: commands that need no database: `init` and `demo` initialise it, `restore` makes it from
#: a backup (into an empty folder only), `verify` reads a bundle, `keys public` the signing
#: key file only
EXEMPT = {"init", "demo", "restore", "verify", "keys public"}


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[str]:
    found = []
    for name, command_ in group.commands.items():
        if isinstance(command_, click.Group):
            found += commands(command_, (*prefix, name))
        else:
            found.append(" ".join((*prefix, name)))
    return found


def arguments(shared_data: Path, tmp_path: Path) -> dict[str, list[str]]:
    layer = tmp_path / "layer.geojson"
    layer.write_text('{"type": "FeatureCollection", "features": []}')
    picture = tmp_path / "press.png"
    PILImage.new("RGB", (64, 48), "grey").save(picture)
    gcps = ["--gcp", "0,0,35.94,35.42", "--gcp", "64,0,35.95,35.42", "--gcp", "0,48,35.94,35.41"]
    return {
        "serve": ["serve", "--port", "5999"],
        "sites add": ["sites", "add", "Hmeimim", "--lon", "35.95", "--lat", "35.41"],
        "sites list": ["sites", "list"],
        "images import": ["images", "import", str(shared_data / "sample_geotiff.tif")],
        "images list": ["images", "list", "--json"],
        "images georeference": ["images", "georeference", str(picture), *gcps, "--json"],
        "import": ["import", str(layer), "--dry-run"],
        "users add": ["users", "add", "bob", "--role", "viewer", "--password-stdin"],
        "users set": ["users", "set", "bob", "--role", "editor"],
        "users password": ["users", "password", "bob", "--password-stdin"],
        "tokens create": ["tokens", "create", "bob"],
        "tokens revoke": ["tokens", "revoke", "bob"],
        "export": ["export", "--format", "geojson", "-o", str(tmp_path / "out.geojson")],
        "publish": ["publish", "1", "--by", "editor", "-o", str(tmp_path / "published")],
        "backup": ["backup", str(tmp_path / "published")],
        "worker": ["worker"],
    }


def test_every_command_is_in_the_table(shared_data: Path, tmp_path: Path) -> None:
    assert set(commands()) - EXEMPT == set(arguments(shared_data, tmp_path))


@pytest.mark.parametrize("name", sorted(set(commands()) - EXEMPT))
def test_each_command_says_run_init_in_one_line(
    name: str, shared_data: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(main, arguments(shared_data, tmp_path)[name],
                                env={"ANNOTATOR_DATA_DIR": str(data)},
                                input="correct horse battery\n")  # fmt: skip
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "has no tables yet: run `annotator init` first" in lines[0]
    assert not (data / "annotator.db").exists()  # nothing made, not even an empty file
    assert list((data / "images").iterdir()) == [] if (data / "images").exists() else True
    assert not (tmp_path / "out.geojson").exists() and not (tmp_path / "published").exists()


def test_the_real_console_script_refuses_serve_and_import_without_a_traceback(
    shared_data: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "ANNOTATOR_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    script = str(Path(sys.executable).with_name("annotator"))
    for args in (["serve", "--port", "5998"], ["images", "import",
                 str(shared_data / "sample_geotiff.tif")], ["images", "list"]):  # fmt: skip
        result = subprocess.run([script, *args], capture_output=True, text=True, env=env,
                                timeout=120)  # fmt: skip
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [
            f"Error: the database {tmp_path / 'data' / 'annotator.db'} has no tables yet: run "
            "`annotator init` first (it makes them)"
        ]
    assert subprocess.run([script, "init"], env=env, capture_output=True).returncode == 0
    listed = subprocess.run([script, "images", "list"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout == ""


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The console script in its own process (an in-process run would leave its engine's
    PostgreSQL connections open)."""
    script = str(Path(sys.executable).with_name("annotator"))
    return subprocess.run([script, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})  # fmt: skip


def test_an_older_schema_is_refused_with_upgrade_advice(tmp_path: Path, database_url: str) -> None:
    app = create_app({"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url})
    database = services.database(app)
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data"), "ANNOTATOR_DATABASE_URL": database_url}
    result = cli(env, "images", "list")
    assert result.returncode == 1
    assert result.stderr.strip().endswith(
        f"is at schema 0001, older than this version's {head()}: run `annotator init` to upgrade it"
    ), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    response = app.test_client().get("/api/v1/images")
    assert response.status_code == 503
    assert "run `annotator init` to upgrade" in response.get_json()["message"]
    assert cli(env, "init").returncode == 0
    assert cli(env, "images", "list").returncode == 0
    database.dispose()


def test_the_web_app_answers_503_until_init_has_run(tmp_path: Path, database_url: str) -> None:
    app: Flask = create_app({"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url,
                             "SECRET_KEY": "k"})  # fmt: skip
    client = app.test_client()
    api = client.get("/api/v1/images")
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.get_json()["error"] == "database_not_ready"
    assert "has no tables yet: run `annotator init` first" in api.get_json()["message"]
    page = client.get("/login", headers={"Accept": "text/html"})
    assert page.status_code == 503 and b"annotator init" in page.data
    assert page.mimetype == "text/html"
    upgrade(services.database(app))
    assert client.get("/login").status_code == 200
    assert client.get("/api/v1/images").status_code == 401  # served: now it asks who you are
    services.database(app).dispose()
