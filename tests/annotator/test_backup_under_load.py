"""A backup under load loses nothing, on SQLite and on PostGIS.

Twenty writers create and edit annotations through a real `annotator serve` (gunicorn, two
workers) while `annotator backup PATH` runs as a subprocess. Writes keep being acknowledged
while the backup runs (the test proves that: the backup is online). `annotator restore
PATH` then brings the backup into a new data folder (and, on PostGIS, a fresh database),
and the restored catalogue must hold every write acknowledged before the backup began, at
its acknowledged version and content; be one consistent moment (each annotation's history
ends at its version; no half of a write); pass the database's own checks; hold every COG
its catalogue names, byte for byte the live store's; and be served by `annotator serve`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sqlite3
import subprocess
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from morecantile import tms as tile_matrix_sets
from sqlalchemy import func, select, table, text

from annotations.db import Database
from annotations.schema import current, differences, head
from tests.annotator.test_durability import (
    ANNOTATOR,
    CENTRE,
    REQUEST_TIMEOUT_S,
    Instance,
    Outcome,
    feature,
    join_all,
    merged,
    prepare,
    serving,
)
from tests.postgis import ThrowawayCluster

WRITERS = 20
WARM_UP_WRITES = 100  # acknowledged before the backup starts
CREATE_EVERY = 3  # a writer creates one annotation, then edits two of its own, and so on
CLI_TIMEOUT_S = 300.0
MERCATOR = tile_matrix_sets.get("WebMercatorQuad")


# --------------------------------------------------------------------------- writers


@dataclass(frozen=True)
class Ack:
    """One acknowledged write: 201 for a create, 200 for an edit, at this version."""

    annotation_id: str
    version: int
    notes: str
    sent: float  # time.monotonic() when the request was sent
    acked: float  # ... and when its answer had been read


@dataclass
class Ledger(Outcome):
    """What one writer saw; `acknowledged` holds the ids it created."""

    acks: list[Ack] = field(default_factory=list)


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)


def create_and_edit(
    instance: Instance, port: int, number: int, stop: threading.Event, ledger: Ledger
) -> None:
    """Create an annotation, edit two of this writer's own (If-Match), repeat until `stop`."""
    headers = {"Authorization": f"Bearer {instance.token}", "Content-Type": "application/json"}
    mine: list[tuple[str, str]] = []  # (id, ETag) of this writer's annotations
    conn = connect(port)
    step = 0
    try:
        while not stop.is_set():
            notes = f"writer {number} step {step}"
            if step % CREATE_EVERY == 0:
                slot = None
                method, path, extra = "POST", "/api/v1/annotations", {}
                body = feature(instance.image_id, notes)
            else:
                slot = step % len(mine)
                annotation_id, etag = mine[slot]
                method, path = "PATCH", f"/api/v1/annotations/{annotation_id}"
                extra = {"If-Match": etag}
                body = json.dumps({"type": "Feature", "properties": {"notes": notes}}).encode()
            sent = time.monotonic()
            try:
                conn.request(method, path, body=body, headers={**headers, **extra})
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                ledger.errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                return  # the outcome of that write is unknown: this writer stops here
            acked = time.monotonic()
            ledger.latencies.append(acked - sent)
            answer = payload.decode("utf-8", errors="replace")
            if response.status != (201 if slot is None else 200):
                ledger.bad.append((response.status, answer[:300], None))
                return
            written = json.loads(payload)
            version = int(written["properties"]["version"])
            ledger.acks.append(Ack(written["id"], version, notes, sent, acked))
            etag = str(response.getheader("ETag"))
            if slot is None:
                ledger.acknowledged.append(written["id"])
                mine.append((written["id"], etag))
            else:
                mine[slot] = (written["id"], etag)
            step += 1
            if response.will_close:
                conn.close()
                conn = connect(port)
    finally:
        conn.close()


def start_writers(
    instance: Instance, port: int, stop: threading.Event
) -> tuple[list[threading.Thread], list[Ledger]]:
    ledgers = [Ledger() for _ in range(WRITERS)]
    threads = [
        threading.Thread(
            target=create_and_edit,
            args=(instance, port, n, stop, ledgers[n]),
            name=f"writer-{n}",
            daemon=True,
        )
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    return threads, ledgers


def acknowledged(ledgers: list[Ledger]) -> int:
    return sum(len(ledger.acks) for ledger in ledgers)


# --------------------------------------------------------------------------- the CLI


def run(instance: Instance, *args: str) -> dict[str, Any]:
    """`annotator ARGS --json` as a user runs it; its stdout is a JSON object."""
    done = subprocess.run(
        [str(ANNOTATOR), *args, "--json"],
        env=instance.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, (
        f"annotator {' '.join(args)} exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


# --------------------------------------------------------------------------- the restored catalogue


@dataclass
class Catalogue:
    """What a restored database holds, read with SQL (not through the app)."""

    rows: dict[str, tuple[int, str]]  # annotation id -> (version, notes)
    # annotation id -> [(version, action, before, after)] in the order they were written
    revisions: dict[str, list[tuple[int, str, Any, Any]]]
    counts: dict[str, int]
    cogs: list[str]


def read_catalogue(database: Database, tables: list[str]) -> Catalogue:
    with database.engine.connect() as conn:
        rows = {
            row.id: (int(row.version), row.notes)
            for row in conn.execute(text("SELECT id, version, notes FROM annotations"))
        }
        revisions: dict[str, list[tuple[int, str, Any, Any]]] = {}
        query = text(
            "SELECT annotation_id, version, action, before_json, after_json "
            "FROM revisions ORDER BY id"
        )
        for row in conn.execute(query):
            before = None if row.before_json is None else json.loads(row.before_json)
            after = None if row.after_json is None else json.loads(row.after_json)
            revisions.setdefault(row.annotation_id, []).append(
                (int(row.version), row.action, before, after)
            )
        counts = {
            name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in tables
        }
        cogs = [str(name) for name in conn.execute(text("SELECT cog_name FROM images")).scalars()]
    return Catalogue(rows, revisions, counts, cogs)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def integrity(database: Database) -> list[str]:
    """The engine's own checks of the restored database; [] when it passes them."""
    if database.is_sqlite:
        path = database.url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(path)) as conn:
            checked = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            keys = [repr(row) for row in conn.execute("PRAGMA foreign_key_check")]
        return ([] if checked == ["ok"] else checked) + keys
    # PostgreSQL: amcheck verifies every B-tree index against its table's rows
    problems = []
    with database.engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
        indexes = conn.execute(
            text(
                "SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'"
            )
        ).all()
        assert indexes, "no B-tree index to check in the restored database"
        for oid, name in indexes:
            try:
                with conn.begin_nested():
                    conn.execute(text("SELECT bt_index_check(:oid, true)"), {"oid": oid})
            except Exception as exc:  # every failing index is reported
                problems.append(f"{name}: {exc}")
        conn.execute(text("DROP EXTENSION amcheck"))
    return problems


# --------------------------------------------------------------------------- engines


@dataclass
class Backend:
    """Where the live catalogue is, where a restore puts a new one, and the backup's form:
    a folder on SQLite, a .tar on PostGIS (both forms under load, at no extra cost)."""

    name: str
    cluster: ThrowawayCluster | None

    @property
    def target(self) -> str:
        return "backup" if self.cluster is None else "backup.tar"

    def live_url(self) -> str:
        return "" if self.cluster is None else self.cluster.create_database()

    def restored(self, live: Instance, data_dir: Path) -> Instance:
        url = "" if self.cluster is None else self.cluster.create_database()
        return Instance(data_dir, data_dir / "annotator.db", live.token, live.image_id, url)


@pytest.fixture(params=["sqlite", "postgis"])
def backend(request: pytest.FixtureRequest) -> Backend:
    cluster = None if request.param == "sqlite" else request.getfixturevalue("postgis_cluster")
    return Backend(request.param, cluster)


# --------------------------------------------------------------------------- the test


def test_a_backup_under_load_loses_nothing(
    backend: Backend, tmp_path: Path, shared_data: Path
) -> None:
    live = prepare(tmp_path, shared_data, backend.live_url(), more_images=("RGB.byte.tif",))
    target = tmp_path / backend.target
    stop = threading.Event()
    with serving(live, "live") as server:
        threads, ledgers = start_writers(live, server.port, stop)
        try:
            deadline = time.monotonic() + 120
            while acknowledged(ledgers) < WARM_UP_WRITES and time.monotonic() < deadline:
                assert all(t.is_alive() for t in threads), merged(ledgers).bad[:3]
                time.sleep(0.05)
            began = time.monotonic()
            manifest = run(live, "backup", str(target))
            finished = time.monotonic()
        finally:
            stop.set()
            join_all(threads, REQUEST_TIMEOUT_S + 5)
        log = server.tail()
    total = merged(ledgers)
    acks = [ack for ledger in ledgers for ack in ledger.acks]
    before = [ack for ack in acks if ack.acked < began]
    during = [ack for ack in acks if began < ack.sent and ack.acked < finished]
    print(
        f"\n{backend.name}: backup took {finished - began:.2f} s; {len(acks)} writes "
        f"acknowledged, {len(before)} before it began, {len(during)} sent and acknowledged "
        f"while it ran; the backup holds {manifest['counts']['annotations']} annotations, "
        f"{manifest['counts']['revisions']} revisions"
    )
    assert not total.errors, f"requests without an answer: {total.errors[:3]}\n{log}"
    assert not total.bad, f"{len(total.bad)} writes refused, e.g. {total.bad[:3]}\n{log}"
    assert len(before) >= WARM_UP_WRITES
    assert during, "no write was acknowledged while the backup ran: it was not online"
    assert any(ack.version == 1 for ack in during) and any(ack.version > 1 for ack in during)
    assert target.is_dir() if backend.cluster is None else target.is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(target.name)) == [
        target.name
    ], "something partial was left beside the backup"
    assert manifest["schema_revision"] == head()
    assert manifest["engine"] == ("sqlite" if backend.cluster is None else "postgresql")

    restored = backend.restored(live, tmp_path / "restored")
    run(restored, "restore", str(target))

    # the restored database: at head, the models' schema, and its engine's own checks
    database = Database(restored.url)
    try:
        assert current(database) == head()
        assert differences(database) == []
        catalogue = read_catalogue(database, sorted(manifest["counts"]))
        assert integrity(database) == []
    finally:
        database.dispose()
    assert catalogue.counts == manifest["counts"]
    kept = [a for a in during if catalogue.rows.get(a.annotation_id, (0, ""))[0] >= a.version]
    print(f"{len(kept)} of the {len(during)} writes acknowledged while it ran are in the backup")

    # every write acknowledged before the backup began is there, at its version or later
    history: dict[str, dict[int, str]] = {}  # what each annotation was at each version
    for ack in acks:
        history.setdefault(ack.annotation_id, {})[ack.version] = ack.notes
    last_before: dict[str, Ack] = {}
    for ack in sorted(before, key=lambda a: a.version):
        last_before[ack.annotation_id] = ack
    missing = sorted(set(last_before) - set(catalogue.rows))
    assert not missing, f"{len(missing)} acknowledged annotations lost, e.g. {missing[:3]}"
    older = {
        annotation_id: (ack.version, catalogue.rows[annotation_id][0])
        for annotation_id, ack in last_before.items()
        if catalogue.rows[annotation_id][0] < ack.version
    }
    assert not older, f"{len(older)} annotations restored at an older version: {older}"

    # one consistent moment: each annotation is a version its writer was told of, and its
    # history runs 1..version, each revision's "after" the next one's "before"
    unknown = sorted(set(catalogue.rows) - set(history))
    assert not unknown, f"annotations nobody was told of: {unknown[:3]}"
    orphans = sorted(set(catalogue.revisions) - set(catalogue.rows))
    assert not orphans, f"revisions of annotations not in the backup: {orphans[:3]}"
    for annotation_id, (version, notes) in catalogue.rows.items():
        assert history[annotation_id].get(version) == notes, (annotation_id, version, notes)
        revisions = catalogue.revisions[annotation_id]
        assert [r[0] for r in revisions] == list(range(1, version + 1)), annotation_id
        assert [r[1] for r in revisions] == ["create"] + ["edit"] * (version - 1)
        afters = [r[3] for r in revisions]
        assert [r[2] for r in revisions] == [None, *afters[:-1]], annotation_id
        assert afters[-1]["properties"]["version"] == version
        assert afters[-1]["properties"]["notes"] == notes
    # ... and that history holds each acknowledged version as it was acknowledged
    for annotation_id, ack in last_before.items():
        after = catalogue.revisions[annotation_id][ack.version - 1][3]
        assert after["properties"]["notes"] == ack.notes, (annotation_id, ack)

    # every COG the restored catalogue names, byte for byte the live store's, and no other
    assert len(catalogue.cogs) == 2
    store = restored.data_dir / "images"
    assert sorted(p.name for p in store.iterdir()) == sorted(catalogue.cogs)
    for name in catalogue.cogs:
        assert sha256(store / name) == sha256(live.data_dir / "images" / name), name
    # the keys, so sessions and signatures made before the backup still hold
    for key in ("secret_key", "signing_key"):
        if (live.data_dir / key).exists():
            assert (restored.data_dir / key).read_bytes() == (live.data_dir / key).read_bytes()

    # a real server on the restored folder serves it: annotations, their history, tiles
    sample = sorted(last_before.values(), key=lambda a: -a.version)[:10]
    assert any(ack.version > 1 for ack in sample)
    headers = {"Authorization": f"Bearer {live.token}"}
    with serving(restored, "restored") as again, closing(connect(again.port)) as conn:
        for ack in sample:
            version, notes = catalogue.rows[ack.annotation_id]
            conn.request("GET", f"/api/v1/annotations/{ack.annotation_id}", headers=headers)
            response = conn.getresponse()
            body: Any = json.loads(response.read())
            assert response.status == 200, body
            assert response.getheader("ETag") == f'"{ack.annotation_id}-v{version}"'
            assert body["properties"]["notes"] == notes
            conn.request("GET", f"/api/v1/annotations/{ack.annotation_id}/history", headers=headers)
            response = conn.getresponse()
            revisions = json.loads(response.read())["revisions"]
            assert response.status == 200
            assert [r["version"] for r in revisions] == list(range(1, version + 1))
        tile = MERCATOR.tile(*CENTRE, 16)
        conn.request("GET", f"/tiles/{live.image_id}/16/{tile.x}/{tile.y}.png", headers=headers)
        response = conn.getresponse()
        picture = response.read()
        assert response.status == 200, picture[:300]
        assert response.getheader("Content-Type") == "image/png"
