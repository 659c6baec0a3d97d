"""`annotator backup PATH` and `annotator restore PATH`, run as a user runs them (the console
script in a process of its own): what they print, and one line on stderr with exit 1 when
they refuse or fail (an existing PATH, a changed backup, a non-empty target, a full disk, no
pg_dump), leaving no backup that looks complete."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from annotations.backup.manifest import MANIFEST
from annotator import services
from tests.annotator.test_full_disk import ANNOTATOR, Disk, ready_app, small_scene, upload
from tests.annotator.test_roles import feature
from tests.conftest import ROOT, require, token_for
from tests.postgis import ThrowawayCluster


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    return subprocess.run(
        [*ANNOTATOR, *args],
        capture_output=True,
        text=True,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        timeout=300,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def filled(data_dir: Path, tmp_path: Path, url: str | None = None, size: int = 256) -> Flask:
    app = ready_app(data_dir, url)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'analyst')}"}
    made = upload(client, headers, small_scene(tmp_path, "scene.tif", size))
    assert made.status_code == 201, made.get_json()
    for _ in range(3):
        body = feature(made.get_json()["id"])
        assert client.post("/api/v1/annotations", json=body, headers=headers).status_code == 201
    services.database(app).dispose()
    return app


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    filled(tmp_path / "data", tmp_path)
    return {"ANNOTATOR_DATA_DIR": str(tmp_path / "data"), "ANNOTATOR_SECRET_KEY": "test-secret"}


def test_backup_and_restore_say_what_they_did(data: dict[str, str], tmp_path: Path) -> None:
    made = run(data, "backup", str(tmp_path / "b1"))
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    line = made.stdout.strip()
    assert line.startswith(f"backup {tmp_path / 'b1'}: sqlite database at schema ")
    assert ", 3 annotations, 1 image, 2 files, " in line  # no key files: the secret is set

    as_json = run(data, "backup", str(tmp_path / "b2.tar"), "--json")
    assert as_json.returncode == 0, as_json.stderr
    manifest = json.loads(as_json.stdout)
    assert manifest["format"] == "annotator-backup/2" and manifest["counts"]["annotations"] == 3
    assert {entry["path"] for entry in manifest["files"]} >= {"database.sqlite"}

    checked = run({}, "restore", "--check", str(tmp_path / "b2.tar"))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"OK {tmp_path / 'b2.tar'}: every hash checks out")

    target = {"ANNOTATOR_DATA_DIR": str(tmp_path / "restored")}
    restored = run(target, "restore", str(tmp_path / "b2.tar"), "--json")
    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["data_dir"] == str(tmp_path / "restored")
    assert result["engine"] == "sqlite" and result["counts"] == manifest["counts"]
    assert result["schema_revision"] == result["backup_schema_revision"]
    assert (result["images"], result["files"]) == (1, len(manifest["files"]))
    listed = run({**target, "ANNOTATOR_SECRET_KEY": "x"}, "images", "list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1

    text = run({"ANNOTATOR_DATA_DIR": str(tmp_path / "again")}, "restore", str(tmp_path / "b1"))
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == (
        f"restored {tmp_path / 'b1'} into {tmp_path / 'again'} (sqlite sqlite:///"
        f"{tmp_path / 'again' / 'annotator.db'}): schema {result['schema_revision']}, "
        "3 annotations, 1 image; all 2 files matched their sha256"
    )


def test_refusals_are_one_line_and_change_nothing(data: dict[str, str], tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    assert run(data, "backup", str(backup)).returncode == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    assert "exists already" in one_line_error(run(data, "backup", str(backup)))
    # a non-empty data folder: the one the backup came from
    assert "is not empty" in one_line_error(run(data, "restore", str(backup)))
    # a changed backup
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["counts"]["annotations"] += 1
    (backup / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    target = tmp_path / "restored"
    refused = one_line_error(run({"ANNOTATOR_DATA_DIR": str(target)}, "restore", str(backup)))
    assert "does not match manifest.sha256" in refused
    assert "does not match" in one_line_error(run({}, "restore", "--check", str(backup)))
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Disk]:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    mounted = Disk(tmp_path / "disk", "2m").mount()
    try:
        yield mounted
    finally:
        mounted.unmount()


def test_a_backup_to_a_full_disk_fails_and_leaves_nothing(small_disk: Disk, tmp_path: Path) -> None:
    # a COG of noise (about 4 MB) that a 2 MB disk cannot take; the database fits
    filled(tmp_path / "data", tmp_path, size=1200)
    env = {"ANNOTATOR_DATA_DIR": str(tmp_path / "data"), "ANNOTATOR_SECRET_KEY": "test-secret"}
    for name in ("backup", "backup.tar"):
        line = one_line_error(run(env, "backup", str(small_disk.path / name)))
        holding = f"Error: no room for the backup on the disk holding {small_disk.path}:"
        assert line.startswith(holding)
        assert os.listdir(small_disk.path) == []
    small_disk.fill()  # now not even the database fits
    for name in ("backup", "backup.tar"):
        line = one_line_error(run(env, "backup", str(small_disk.path / name)))
        assert "no room for the backup" in line
        assert os.listdir(small_disk.path) == ["filler"]
    small_disk.free()
    assert run(env, "backup", str(tmp_path / "elsewhere")).returncode == 0  # the data is fine
    # a restore onto that disk: into a new folder, and into the (empty) disk itself
    for target in (small_disk.path / "data", small_disk.path):
        restored = run({"ANNOTATOR_DATA_DIR": str(target)}, "restore", str(tmp_path / "elsewhere"))
        assert one_line_error(restored).startswith(f"Error: no room to restore into {target}:")
        assert os.listdir(small_disk.path) == []


@pytest.fixture
def postgis_data(tmp_path: Path, postgis_cluster: ThrowawayCluster) -> dict[str, Any]:
    url = postgis_cluster.create_database()
    filled(tmp_path / "data", tmp_path, url)
    return {
        "ANNOTATOR_DATA_DIR": str(tmp_path / "data"),
        "ANNOTATOR_DATABASE_URL": url,
        "ANNOTATOR_SECRET_KEY": "test-secret",
    }


def test_postgis_backup_names_the_missing_tools(
    postgis_data: dict[str, str], tmp_path: Path, postgis_cluster: ThrowawayCluster
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    env = {**postgis_data, "ANNOTATOR_PG_BINDIR": str(empty)}
    line = one_line_error(run(env, "backup", str(tmp_path / "backup")))
    assert line.startswith("Error: pg_dump for PostgreSQL ") and str(empty) in line
    assert "install postgresql-client-" in line
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == []
    # without a PATH to find them on, the tools come from the server's own version's folder
    made = run({**postgis_data, "PATH": str(empty)}, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup {tmp_path / 'backup'}: postgresql database at")
    target = {
        "ANNOTATOR_DATA_DIR": str(tmp_path / "restored"),
        "ANNOTATOR_DATABASE_URL": postgis_cluster.create_database(),
        "PATH": str(empty),
    }
    restored = run(target, "restore", str(tmp_path / "backup"), "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["counts"]["annotations"] == 3
    listed = run({**target, "ANNOTATOR_SECRET_KEY": "x"}, "images", "list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
