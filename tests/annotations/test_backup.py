"""Backups and restores of a real data folder (SQLite and PostGIS): what comes back is what
went in (rows, annotations through the API, every COG byte for byte), and a changed backup, a
backup from a newer schema, an existing PATH or a non-empty target are refused, changing
nothing."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import text

from annotations.backup import BackupError, make_backup, restore_backup, verify_backup
from annotations.backup.hashes import HashCache
from annotations.catalogue.images import Provenance
from annotations.db import Database, sqlite_url
from annotations.newsroom.signing import stored_key
from annotations.schema import head
from annotator import create_app, services
from annotator.intake import Upload, import_images
from tests.newsroom import Newsroom, newsroom
from tests.postgis import ThrowawayCluster


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def backup_of(app: Flask, target: Path) -> dict[str, Any]:
    return make_backup(
        services.database(app),
        data_dir=Path(app.config["DATA_DIR"]),
        images_dir=Path(app.config["IMAGES_DIR"]),
        signing_key=Path(app.config["SIGNING_KEY_FILE"]),
        target=target,
    )


def restore_into(source: Path, data_dir: Path, url: str | None = None) -> dict[str, Any]:
    return restore_backup(
        source,
        data_dir=data_dir,
        database_url=url or sqlite_url(data_dir / "annotator.db"),
        signing_key=data_dir / "signing_key",
    )


def counts(database: Database, tables: list[str]) -> dict[str, int]:
    with database.engine.connect() as connection:
        return {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())  # noqa: S608
            for table in tables
        }


def filled(app: Flask, geotiff: Path, second: Path) -> Newsroom:
    """A newsroom with two images, annotations in several states, a report and its links."""
    room = newsroom(app, geotiff, datetime(2024, 12, 13, 8, 21, tzinfo=UTC))
    import_images(
        services.database(app),
        Path(app.config["IMAGES_DIR"]),
        [Upload(second, second.name)],
        Provenance(provider="Second"),
        max_pixels=10**9,
    )
    approved = room.annotation("approved")
    room.annotation("draft", offset_m=40)
    room.annotation("in_review", offset_m=80, label="vehicle.truck")
    report = room.report()
    claim = room.claim(report["id"])
    made = room.link(annotation_id=approved["id"], claim_id=claim["id"], note="seen")
    assert made.status_code == 201, made.get_json()
    stored_key(Path(app.config["SIGNING_KEY_FILE"]))  # made once, as publishing would
    return room


@pytest.fixture
def source(app_on_each_backend: Flask, make_geotiff: Any) -> Newsroom:
    second = make_geotiff("second.tif", np.full((3, 300, 400), 7, dtype=np.uint8))
    return filled(app_on_each_backend, make_geotiff(), second)


def target_url(source_app: Flask, data_dir: Path, request: pytest.FixtureRequest) -> str:
    if services.database(source_app).is_sqlite:
        return sqlite_url(data_dir / "annotator.db")
    cluster: ThrowawayCluster = request.getfixturevalue("postgis_cluster")
    return cluster.create_database()


def restored_app(data_dir: Path, url: str) -> Flask:
    return create_app({"DATA_DIR": str(data_dir), "DATABASE_URL": url, "TESTING": True})


@pytest.mark.parametrize("layout", ["folder", "tar"])
def test_a_restore_brings_back_everything(
    source: Newsroom, tmp_path: Path, layout: str, request: pytest.FixtureRequest
) -> None:
    app = source.app
    path = tmp_path / ("backup.tar" if layout == "tar" else "backup")
    manifest = backup_of(app, path)
    assert path.is_file() if layout == "tar" else path.is_dir()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
    assert manifest["schema_revision"] == head()
    assert manifest["engine"] == ("sqlite" if services.database(app).is_sqlite else "postgresql")
    assert manifest["counts"]["annotations"] == 3 and manifest["counts"]["images"] == 2
    assert verify_backup(path) == manifest

    data_dir = tmp_path / "restored"
    url = target_url(app, data_dir, request)
    result = restore_backup(
        path, data_dir=data_dir, database_url=url, signing_key=data_dir / "signing_key"
    )
    assert result["schema_revision"] == head() and result["images"] == 2
    restored = restored_app(data_dir, url)
    tables = sorted(manifest["counts"])
    assert counts(services.database(restored), tables) == counts(services.database(app), tables)
    # every COG the catalogue names, byte for byte
    source_images = Path(app.config["IMAGES_DIR"])
    cogs = sorted(p.name for p in source_images.iterdir())
    assert cogs and sorted(p.name for p in (data_dir / "images").iterdir()) == cogs
    for name in cogs:
        assert sha256(data_dir / "images" / name) == sha256(source_images / name)
    # the keys, still private
    key = data_dir / "signing_key"
    assert key.read_bytes() == Path(app.config["SIGNING_KEY_FILE"]).read_bytes()
    assert key.stat().st_mode & 0o777 == 0o600
    # annotations through the API, as they were
    client = restored.test_client()
    headers = source.as_("editor")  # its token was made before the backup
    for path_ in ("/api/v1/annotations?include_deleted=true", "/api/v1/reports", "/api/v1/images"):
        before = source.client.get(path_, headers=source.as_("editor"))
        after = client.get(path_, headers=headers)
        assert before.status_code == after.status_code == 200
        assert after.get_json() == before.get_json()
    services.database(restored).dispose()


def test_an_existing_path_is_never_overwritten(source: Newsroom, tmp_path: Path) -> None:
    folder = tmp_path / "there"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    archive = tmp_path / "there.tar"
    archive.write_bytes(b"not mine to replace")
    for path in (folder, archive):
        with pytest.raises(BackupError, match="exists already"):
            backup_of(source.app, path)
    assert (folder / "keep.txt").read_text() == "mine"
    assert archive.read_bytes() == b"not mine to replace"
    assert sorted(p.name for p in tmp_path.iterdir() if "there" in p.name) == [
        "there",
        "there.tar",
    ]


def test_the_hash_cache_hashes_a_changed_file_again(tmp_path: Path) -> None:
    store = tmp_path / "images"
    store.mkdir()
    cog = store / "a.tif"
    cog.write_bytes(b"first bytes")
    cache = HashCache(tmp_path / "cache" / "store-hashes.json")
    assert cache.sha256(cog) == (11, hashlib.sha256(b"first bytes").hexdigest())
    cache.save()
    again = HashCache(tmp_path / "cache" / "store-hashes.json")
    assert again.sha256(cog)[1] == hashlib.sha256(b"first bytes").hexdigest()
    assert again.hashed == 0  # read from the cache
    # same name and size, other bytes and mtime: hashed anew
    cog.write_bytes(b"other bytes")
    os.utime(cog, ns=(1_000_000_000, 1_000_000_000))
    assert again.sha256(cog) == (11, hashlib.sha256(b"other bytes").hexdigest())
    assert again.hashed == 1
