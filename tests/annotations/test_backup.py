"""Backups and restores of a real data folder (SQLite and PostGIS): what comes back is what
went in (rows, annotations through the API, every COG byte for byte), and a changed backup, a
backup from a newer schema, an existing PATH or a non-empty target are refused, changing
nothing."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alembic import command
from flask import Flask
from sqlalchemy import text

from annotations.backup import BackupError, make_backup, restore_backup, verify_backup
from annotations.backup.hashes import HashCache, record
from annotations.catalogue.images import Provenance
from annotations.db import Database, sqlite_url
from annotations.newsroom.signing import stored_key
from annotations.schema import _config, current, head
from annotator import create_app, services
from annotator.intake import Upload, import_images
from tests.annotator.test_full_disk import Disk
from tests.conftest import require
from tests.newsroom import Newsroom, newsroom
from tests.postgis import ThrowawayCluster

LIFTER = {"id": "aircraft.transport.test-lifter", "name": "Test lifter", "colour": "#123456"}


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
    data = Path(app.config["DATA_DIR"])
    (data / "labels.json").write_text(json.dumps([LIFTER]))  # a deployment's own label
    (data / "secret_key").write_text("a secret of the deployment's")
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
        if layout == "folder":  # on the store's filesystem: hard-linked, not copied
            assert (path / "images" / name).stat().st_ino == (source_images / name).stat().st_ino
    # the keys, still private, and the deployment's labels
    key = data_dir / "signing_key"
    assert key.read_bytes() == Path(app.config["SIGNING_KEY_FILE"]).read_bytes()
    assert key.stat().st_mode & 0o777 == 0o600
    assert (data_dir / "secret_key").read_text() == "a secret of the deployment's"
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert services.taxonomy(restored).get(LIFTER["id"]).name == "Test lifter"
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


def test_two_writers_of_the_hash_cache_keep_each_others_entries(tmp_path: Path) -> None:
    """A backup and an ingest (or two ingests) save the cache at once: neither loses the
    other's entries, and a file the backup found gone is dropped."""
    store = tmp_path / "images"
    store.mkdir()
    for name in ("a.tif", "b.tif", "gone.tif"):
        (store / name).write_bytes(name.encode())
    path = tmp_path / "cache" / "store-hashes.json"
    seeded = HashCache(path)
    seeded.sha256(store / "gone.tif")
    seeded.save()
    first, second = HashCache(path), HashCache(path)  # both loaded before either saves
    first.sha256(store / "a.tif")
    (store / "gone.tif").unlink()
    first.forget_except({"a.tif", "b.tif"})
    second.sha256(store / "b.tif")
    second.save()
    first.save()
    assert sorted(HashCache(path).entries) == ["a.tif", "b.tif"]
    assert record(path, store / "a.tif") == hashlib.sha256(b"a.tif").hexdigest()


def test_an_ingest_records_its_cogs_hash_so_no_backup_reads_it_again(
    app: Flask, make_geotiff: Any, tmp_path: Path
) -> None:
    data_dir = Path(app.config["DATA_DIR"])
    [imported] = import_images(
        services.database(app),
        Path(app.config["IMAGES_DIR"]),
        [Upload(make_geotiff("fresh.tif"), "fresh.tif")],
        Provenance(),
        max_pixels=10**9,
    )
    cog = Path(app.config["IMAGES_DIR"]) / imported.image.cog_name
    cache = HashCache(data_dir / "cache" / "store-hashes.json")
    assert cache.entries[cog.name][3] == sha256(cog)
    assert cache.sha256(cog) == (cog.stat().st_size, sha256(cog))
    assert cache.hashed == 0, "the ingest's own hash is used, the COG is not read again"
    manifest = backup_of(app, tmp_path / "first")
    assert {"path": f"images/{cog.name}", "size": cog.stat().st_size, "sha256": sha256(cog)} in (
        manifest["files"]
    )


@pytest.fixture
def sqlite_source(app: Flask, make_geotiff: Any) -> Newsroom:
    second = make_geotiff("second.tif", np.full((3, 300, 400), 7, dtype=np.uint8))
    return filled(app, make_geotiff(), second)


def flip_a_byte(backup: Path, name: str) -> None:
    """Change one bit of `name` in the backup (a folder or a tar), in the middle of it."""
    if backup.is_dir():
        path, offset = backup / name, (backup / name).stat().st_size // 2
    else:
        with tarfile.open(backup) as archive:
            member = archive.getmember(name)
        path, offset = backup, member.offset_data + member.size // 2
    with path.open("r+b") as stream:
        stream.seek(offset)
        byte = stream.read(1)
        stream.seek(offset)
        stream.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize("layout", ["folder", "tar"])
@pytest.mark.parametrize("where", ["database", "cog", "manifest"])
def test_a_tampered_backup_is_refused(
    sqlite_source: Newsroom, tmp_path: Path, layout: str, where: str
) -> None:
    path = tmp_path / ("backup.tar" if layout == "tar" else "backup")
    manifest = backup_of(sqlite_source.app, path)
    cog = next(e["path"] for e in manifest["files"] if e["path"].startswith("images/"))
    flip_a_byte(
        path, {"database": "database.sqlite", "cog": cog, "manifest": "manifest.json"}[where]
    )
    message = (
        "does not match its sha256" if where != "manifest" else "does not match manifest.sha256"
    )
    with pytest.raises(BackupError, match=message) as refused:
        verify_backup(path)
    assert "\n" not in str(refused.value)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match=message):
        restore_into(path, target)
    assert not target.exists()


def rewrite_manifest(backup: Path, change: Any) -> None:
    """Edit a folder backup's manifest and give it a matching manifest.sha256, so that only
    the checks of what it says can catch the edit."""
    manifest = json.loads((backup / "manifest.json").read_bytes())
    change(manifest)
    raw = (json.dumps(manifest, indent=2) + "\n").encode()
    (backup / "manifest.json").write_bytes(raw)
    (backup / "manifest.sha256").write_text(hashlib.sha256(raw).hexdigest() + "\n")


def test_a_backup_from_a_newer_schema_is_refused(sqlite_source: Newsroom, tmp_path: Path) -> None:
    said = tmp_path / "says-newer"
    backup_of(sqlite_source.app, said)
    rewrite_manifest(said, lambda m: m.update(schema_revision="9999"))
    assert verify_backup(said)["schema_revision"] == "9999"  # every hash matches
    with pytest.raises(BackupError, match="schema 9999, which this version of annotator does"):
        restore_into(said, tmp_path / "one")
    assert not (tmp_path / "one").exists()

    # the database itself at a revision this version does not know, its hashes made good
    holds = tmp_path / "holds-newer"
    backup_of(sqlite_source.app, holds)
    database = holds / "database.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    size, digest = database.stat().st_size, sha256(database)

    def new_hash(manifest: dict[str, Any]) -> None:
        for entry in manifest["files"]:
            if entry["path"] == "database.sqlite":
                entry.pop("sha256_parts", None)  # one sha256 for the whole file will do
                entry.update(size=size, sha256=digest)

    rewrite_manifest(holds, new_hash)
    verify_backup(holds)
    with pytest.raises(BackupError, match="its database is at schema 9999, which this version"):
        restore_into(holds, tmp_path / "two")
    assert not (tmp_path / "two").exists()


def test_a_non_empty_target_is_refused(
    source: Newsroom, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    app = source.app
    path = tmp_path / "backup.tar"
    backup_of(app, path)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("someone's")
    url = target_url(app, occupied, request)
    with pytest.raises(BackupError, match=f"the data folder {occupied} is not empty"):
        restore_backup(path, data_dir=occupied, database_url=url, signing_key=occupied / "k")
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    if not services.database(app).is_sqlite:  # a database with tables of its own
        empty = tmp_path / "empty"
        with pytest.raises(BackupError, match=r"is not empty .* restore into a new database"):
            restore_backup(
                path,
                data_dir=empty,
                database_url=services.database(app).url,
                signing_key=empty / "signing_key",
            )
        assert not empty.exists()


def test_a_backup_restores_only_into_its_own_engine(
    sqlite_source: Newsroom, tmp_path: Path, postgis_cluster: ThrowawayCluster
) -> None:
    path = tmp_path / "backup"
    backup_of(sqlite_source.app, path)
    url = postgis_cluster.create_database()
    target = tmp_path / "restored"
    with pytest.raises(
        BackupError,
        match=r"holds a sqlite database and the target is postgresql .* SQLite in",
    ):
        restore_backup(path, data_dir=target, database_url=url, signing_key=target / "k")
    assert not target.exists()
    database = Database(url)
    assert current(database) is None  # no tables were made
    database.dispose()


def test_an_older_backup_comes_back_at_the_newest_schema(
    tmp_path: Path, database_url: str, request: pytest.FixtureRequest
) -> None:
    old = tmp_path / "old"
    (old / "images").mkdir(parents=True)
    database = Database(database_url)
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sites (slug, name, area_geojson, created_at, min_lon, min_lat, "
                "max_lon, max_lat) VALUES ('old-site', 'Old site', '{}', '2024-01-01', 0, 0, 1, 1)"
            )
        )
    manifest = make_backup(
        database,
        data_dir=old,
        images_dir=old / "images",
        signing_key=old / "signing_key",
        target=tmp_path / "backup",
    )
    database.dispose()
    assert manifest["schema_revision"] == "0005" != head()
    new = tmp_path / "new"
    if database_url.startswith("sqlite"):
        url = sqlite_url(new / "annotator.db")
    else:
        url = request.getfixturevalue("postgis_cluster").create_database()
    result = restore_backup(
        tmp_path / "backup", data_dir=new, database_url=url, signing_key=new / "signing_key"
    )
    assert (result["backup_schema_revision"], result["schema_revision"]) == ("0005", head())
    restored = Database(url)
    assert current(restored) == head()
    with restored.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM sites")).scalars().all() == ["Old site"]
    restored.dispose()


def test_a_truncated_tar_is_refused(sqlite_source: Newsroom, tmp_path: Path) -> None:
    path = tmp_path / "backup.tar"
    backup_of(sqlite_source.app, path)
    whole = path.read_bytes()
    with tarfile.open(path) as archive:
        last = archive.getmember("manifest.sha256").offset_data + 10
    for cut in (len(whole) // 2, last, 700):
        path.write_bytes(whole[:cut])
        with pytest.raises(BackupError) as refused:
            verify_backup(path)
        assert str(refused.value).startswith(f"backup {path}")
        assert "\n" not in str(refused.value)
        with pytest.raises(BackupError):
            restore_into(path, tmp_path / "restored")
        assert not (tmp_path / "restored").exists()


def test_progress_and_the_store_hash_cache(sqlite_source: Newsroom, tmp_path: Path) -> None:
    app = sqlite_source.app
    steps: list[tuple[str, float]] = []
    manifest = make_backup(
        services.database(app),
        data_dir=Path(app.config["DATA_DIR"]),
        images_dir=Path(app.config["IMAGES_DIR"]),
        signing_key=Path(app.config["SIGNING_KEY_FILE"]),
        target=tmp_path / "first",
        progress=lambda step, fraction: steps.append((step, fraction)),
    )
    assert [s for s, _ in steps] == [
        "database",
        "images",
        "images",
        "database",
        "keys",
        "originals",
        "done",
    ]
    assert steps[-1] == ("done", 1.0)
    # the COGs' hashes are remembered beside the store (in the cache folder, never backed up)
    cache = json.loads((Path(app.config["DATA_DIR"]) / "cache" / "store-hashes.json").read_text())
    cogs = {e["path"][7:]: e["sha256"] for e in manifest["files"] if e["path"][:7] == "images/"}
    assert {name: entry[3] for name, entry in cache["files"].items()} == cogs
    again = backup_of(app, tmp_path / "second")
    assert [e for e in again["files"] if e["path"][:7] == "images/"] == [
        e for e in manifest["files"] if e["path"][:7] == "images/"
    ]


def test_on_another_filesystem_the_cogs_are_copied(sqlite_source: Newsroom, tmp_path: Path) -> None:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    disk = Disk(tmp_path / "disk", "16m").mount()
    try:
        manifest = backup_of(sqlite_source.app, disk.path / "backup")
        store = Path(sqlite_source.app.config["IMAGES_DIR"])
        for entry in manifest["files"]:
            if entry["path"].startswith("images/"):
                copied = disk.path / "backup" / entry["path"]
                assert copied.stat().st_nlink == 1
                assert sha256(copied) == entry["sha256"] == sha256(store / copied.name)
        assert verify_backup(disk.path / "backup") == manifest
    finally:
        disk.unmount()


def test_a_press_pictures_original_is_backed_up_and_restored(app: Flask, tmp_path: Path) -> None:
    """The original of a georeferenced press picture (the evidence, kept as received under
    its sha256) travels with the backup and comes back byte for byte; a manifest naming
    anything else under originals/ is refused."""
    from annotator.georeference.placing import Details, original_path, place_press
    from imagery.press.fit import parse_points
    from tests.press_pictures import capture, gps_exif, press_picture

    press = press_picture(capture(tmp_path / "capture.tif"), tmp_path / "press.jpg",
                          exif=gps_exif())  # fmt: skip
    place_press(
        services.database(app), app.config, tmp_path / "press.jpg", "press.jpg",
        parse_points(press.points(4, 0.0)), "affine", Details(source_url="https://example.org/a"),
    )  # fmt: skip
    kept = original_path(app.config, sha256(tmp_path / "press.jpg"))
    assert kept.read_bytes() == (tmp_path / "press.jpg").read_bytes()
    manifest = backup_of(app, tmp_path / "backup")
    assert f"originals/{kept.name}" in [entry["path"] for entry in manifest["files"]]
    restored = tmp_path / "restored"
    restore_into(tmp_path / "backup", restored)
    assert (restored / "originals" / kept.name).read_bytes() == kept.read_bytes()

    def smuggle(manifest: dict[str, Any]) -> None:
        entry = next(e for e in manifest["files"] if e["path"].startswith("originals/"))
        entry["path"] = "originals/notes.txt"

    rewrite_manifest(tmp_path / "backup", smuggle)
    with pytest.raises(BackupError):
        restore_into(tmp_path / "backup", tmp_path / "again")
    assert not (tmp_path / "again").exists()
