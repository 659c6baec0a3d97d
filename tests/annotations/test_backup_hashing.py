"""The SQLite copy of a folder backup is hashed while SQLite writes it (annotations.backup
.following): the hashes the manifest lists are those of the file's bytes, whatever the
writers of the live database do meanwhile, past SQLite's lock page (1 GiB) too; and what
those hashes guard is guarded: a changed first page, a byte more, pieces that do not add up."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask

from annotations.backup import BackupError, verify_backup
from annotations.backup.manifest import MANIFEST, MANIFEST_HASH
from annotations.backup.snapshot import copy_sqlite
from tests.annotations.test_backup import backup_of, filled, restore_into, rewrite_manifest
from tests.newsroom import Newsroom


def live_database(path: Path, rows: int, blob: str) -> None:
    """A WAL database shaped as the snapshot reads it (a schema revision, an image table)
    and `rows` rows of 3000 bytes (random, or zeros: quicker to make) to make it big."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        connection.execute("INSERT INTO alembic_version VALUES ('0006')")
        connection.execute("CREATE TABLE images (cog_name TEXT)")
        connection.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB)")
        fill = {"random": "randomblob(3000)", "zeros": "zeroblob(3000)"}[blob]
        numbers = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        connection.execute(f"{numbers}INSERT INTO filler (data) SELECT {fill} FROM n", (rows,))  # noqa: S608
    connection.close()


def pieces_of(path: Path, first: int) -> list[tuple[int, str]]:
    """The sha256 of the file's first `first` bytes and of the rest, read afresh."""
    with path.open("rb") as stream:
        head = hashlib.sha256(stream.read(first)).hexdigest()
        rest = hashlib.file_digest(stream, "sha256").hexdigest()
    return [(first, head), (path.stat().st_size - first, rest)]


class Writer(threading.Thread):
    """Inserts and rewrites rows of the live database until stopped, as a busy server does."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stopped = threading.Event()
        self.commits = 0

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30)
        try:
            while not self.stopped.is_set():
                connection.execute("INSERT INTO filler (data) VALUES (randomblob(5000))")
                connection.execute(
                    "UPDATE filler SET data = randomblob(2000) WHERE id = abs(random()) % 2000"
                )
                connection.commit()
                self.commits += 1
        finally:
            connection.close()


def test_the_copy_hashed_as_it_is_written_is_the_file_while_writers_write(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.db"
    live_database(live, 20_000, "random")  # ~80 MB: ten times the page cache
    writer = Writer(live)
    writer.start()
    try:
        sizes = []
        for number in range(3):
            target = tmp_path / f"copy-{number}.sqlite"
            copied = copy_sqlite(live, target, hash_while_copying=True)
            assert copied.parts is not None
            assert copied.parts == pieces_of(target, 4096)
            sizes.append(target.stat().st_size)
            assert copied.contents.counts["filler"] >= 20_000
    finally:
        writer.stopped.set()
        writer.join()
    assert writer.commits > 0  # the copies were made while the database changed
    assert len(set(sizes)) > 1


def test_a_copy_past_sqlites_lock_page_is_hashed_right(tmp_path: Path) -> None:
    """SQLite never writes the page holding byte 1 GiB (the lock page); the file has a hole
    there, which the hashing reads as the zeros the finished file holds."""
    live = tmp_path / "live.db"
    # zero-filled blobs are quick to write; every page still differs (its rows' ids)
    live_database(live, 380_000, "zeros")
    assert live.stat().st_size > (1 << 30) + (64 << 20)
    target = tmp_path / "copy.sqlite"
    copied = copy_sqlite(live, target, hash_while_copying=True)
    assert copied.parts == pieces_of(target, 4096)
    assert copied.contents.counts["filler"] == 380_000


def test_without_hashing_the_copy_has_no_pieces(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    live_database(live, 100, "random")
    assert copy_sqlite(live, tmp_path / "copy.sqlite").parts is None


@pytest.fixture
def room(app: Flask, make_geotiff: Any) -> Newsroom:
    second = make_geotiff("second.tif", np.full((3, 300, 400), 7, dtype=np.uint8))
    return filled(app, make_geotiff(), second)


def database_entry(backup: Path) -> dict[str, Any]:
    manifest = json.loads((backup / MANIFEST).read_bytes())
    entry: dict[str, Any] = next(e for e in manifest["files"] if e["path"] == "database.sqlite")
    return entry


def test_a_folder_backup_lists_its_database_in_pieces(room: Newsroom, tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    manifest = backup_of(room.app, backup)
    assert manifest["format"] == "annotator-backup/2"
    entry = database_entry(backup)
    assert set(entry) == {"path", "size", "sha256_parts"}
    database = backup / "database.sqlite"
    assert entry["size"] == database.stat().st_size
    assert [(p["size"], p["sha256"]) for p in entry["sha256_parts"]] == pieces_of(database, 4096)
    assert verify_backup(backup)["counts"]["annotations"] == 3
    restored = restore_into(backup, tmp_path / "restored")
    assert restored["counts"]["annotations"] == 3
    # a tar's copy is hashed as it is copied in: one sha256
    tar = tmp_path / "backup.tar"
    listed = backup_of(room.app, tar)["files"]
    assert set(next(e for e in listed if e["path"] == "database.sqlite")) == {
        "path",
        "size",
        "sha256",
    }


@pytest.mark.parametrize("change", ["first page", "a byte more"])
def test_a_changed_copy_is_found_by_its_pieces(room: Newsroom, tmp_path: Path, change: str) -> None:
    backup = tmp_path / "backup"
    backup_of(room.app, backup)
    database = backup / "database.sqlite"
    with database.open("r+b") as stream:
        if change == "first page":
            stream.seek(100)
            byte = stream.read(1)
            stream.seek(100)
            stream.write(bytes([byte[0] ^ 0x01]))
        else:
            stream.seek(0, 2)
            stream.write(b"\0")
    with pytest.raises(BackupError, match=r"database\.sqlite does not match its sha256"):
        verify_backup(backup)
    with pytest.raises(BackupError, match="does not match its sha256"):
        restore_into(backup, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_a_backup_of_format_1_still_restores(room: Newsroom, tmp_path: Path) -> None:
    """Before the pieces, every file had one sha256 (annotator-backup/1)."""
    backup = tmp_path / "backup"
    backup_of(room.app, backup)
    whole = hashlib.sha256((backup / "database.sqlite").read_bytes()).hexdigest()

    def as_format_1(manifest: dict[str, Any]) -> None:
        manifest["format"] = "annotator-backup/1"
        for entry in manifest["files"]:
            if entry.pop("sha256_parts", None) is not None:
                entry["sha256"] = whole

    rewrite_manifest(backup, as_format_1)
    assert verify_backup(backup)["format"] == "annotator-backup/1"
    assert restore_into(backup, tmp_path / "restored")["counts"]["annotations"] == 3


@pytest.mark.parametrize(
    "pieces",
    [
        "do not add up",
        "are empty",
        "have a bad sha256",
        "have an extra key",
    ],
)
def test_a_manifest_with_bad_pieces_is_refused(room: Newsroom, tmp_path: Path, pieces: str) -> None:
    backup = tmp_path / "backup"
    backup_of(room.app, backup)

    def spoil(manifest: dict[str, Any]) -> None:
        entry = next(e for e in manifest["files"] if "sha256_parts" in e)
        listed = entry["sha256_parts"]
        if pieces == "do not add up":
            listed[1]["size"] -= 1
        elif pieces == "are empty":
            entry["sha256_parts"] = []
        elif pieces == "have a bad sha256":
            listed[0]["sha256"] = "not-a-hash"
        else:
            listed[0]["offset"] = 0

    rewrite_manifest(backup, spoil)
    assert (backup / MANIFEST_HASH).exists()
    with pytest.raises(BackupError, match=r"manifest\.json has a bad sha256 for database\.sqlite"):
        verify_backup(backup)
