"""Durability of annotation writes against a real gunicorn server on SQLite.

Fifty concurrent writers must lose nothing and never see "database is locked"; a
SIGKILL of the whole server in the middle of writes must keep every write that was
acknowledged with a 201, and leave a database that passes PRAGMA integrity_check.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role, add_user, create_token, get_user
from annotations.db import sqlite_url
from annotations.measure import box_polygon
from annotations.schema import upgrade
from annotator import create_app, services
from annotator.intake import Upload, import_images
from tests.conftest import PASSWORD

CENTRE = (-84.4789, 33.6384)  # inside sample_geotiff.tif (Atlanta, 0.5 m)
ANNOTATOR = Path(sys.executable).parent / "annotator"
STARTUP_TIMEOUT_S = 120.0  # a guard against a server that never answers; under load boots are slow
REQUEST_TIMEOUT_S = 60.0


# --------------------------------------------------------------------------- helpers


@dataclass
class Instance:
    data_dir: Path
    db_path: Path
    token: str
    image_id: str
    database_url: str = ""  # empty: the SQLite file at db_path

    @property
    def url(self) -> str:
        return self.database_url or sqlite_url(self.db_path)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
        env["ANNOTATOR_DATA_DIR"] = str(self.data_dir)
        env["ANNOTATOR_DATABASE_URL"] = self.url
        return env


def prepare(
    tmp_path: Path, shared_data: Path, database_url: str = "", more_images: tuple[str, ...] = ()
) -> Instance:
    """A data folder with the schema, the Atlanta image (and `more_images` from shared_data)
    and an analyst with a token; on SQLite unless a `database_url` is given."""
    data_dir = tmp_path / "instance"
    db_path = data_dir / "annotator.db"
    url = database_url or sqlite_url(db_path)
    app = create_app({"DATA_DIR": str(data_dir), "DATABASE_URL": url})
    database = services.database(app)
    names = ("sample_geotiff.tif", *more_images)
    try:
        upgrade(database)
        result = import_images(
            database,
            app.config["IMAGES_DIR"],
            [Upload(shared_data / name, name) for name in names],
            Provenance(provider="SpaceNet", licence="CC BY-SA 4.0"),
            max_pixels=10**9,
        )
        with database.write() as session:
            add_user(session, "w", Role.analyst, PASSWORD)
            token = create_token(session, get_user(session, "w"), "durability")
    finally:
        database.dispose()
    return Instance(data_dir, db_path, token, result[0].image.id, database_url)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        with suppress(ProcessLookupError):  # start_new_session: pid == process group id
            os.killpg(self.process.pid, sig)


def _answers(port: int) -> bool:
    try:
        with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) as conn:
            conn.request("GET", "/login")
            return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False


@contextmanager
def serving(instance: Instance, name: str) -> Iterator[Server]:
    """`annotator serve --workers 2` in its own process group; always killed afterwards."""
    port = free_port()
    log = instance.data_dir.parent / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(ANNOTATOR), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2"],
            env=instance.env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _answers(port):
            assert process.poll() is None, (
                f"server exited with {process.returncode}:\n{server.tail()}"
            )
            assert time.monotonic() < deadline, f"server did not answer:\n{server.tail()}"
            time.sleep(0.1)
        yield server
    finally:
        server.kill_group(signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def feature(image_id: str, note: str) -> bytes:
    box = box_polygon(*CENTRE, length_m=68.96, width_m=73.3, heading_deg=172)
    body = {
        "type": "Feature",
        "geometry": json.loads(json.dumps(mapping(box))),
        "properties": {
            "label": "aircraft.transport.an-124",
            "image_id": image_id,
            "shape": "rotated-box",
            "confidence": "confirmed",
            "notes": note,
        },
    }
    return json.dumps(body).encode()


@dataclass
class Outcome:
    """What one writer saw; merged by the test after the threads have finished."""

    acknowledged: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    # (status, body, Retry-After) of every response other than 201
    bad: list[tuple[int, str, str | None]] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # transport errors (no response)


def writer(
    instance: Instance, port: int, number: int, stop: threading.Event, outcome: Outcome
) -> None:
    """POST annotations on one keep-alive connection until `stop` is set."""
    headers = {
        "Authorization": f"Bearer {instance.token}",
        "Content-Type": "application/json",
        "Connection": "keep-alive",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    sequence = 0
    try:
        while not stop.is_set():
            body = feature(instance.image_id, f"writer {number} write {sequence}")
            sequence += 1
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/annotations", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                outcome.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                if stop.is_set():
                    return
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
                time.sleep(0.05)
                continue
            outcome.latencies.append(time.perf_counter() - started)
            text = payload.decode("utf-8", errors="replace")
            if "database is locked" in text:
                outcome.locked.append(text[:300])
            if response.status == 201:
                outcome.acknowledged.append(json.loads(payload)["id"])
            else:
                outcome.bad.append((response.status, text[:300], response.getheader("Retry-After")))
            if response.getheader("Connection", "").lower() == "close" or response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    finally:
        conn.close()


def start_writers(
    instance: Instance, port: int, count: int, stop: threading.Event
) -> tuple[list[threading.Thread], list[Outcome]]:
    outcomes = [Outcome() for _ in range(count)]
    threads = [
        threading.Thread(
            target=writer, args=(instance, port, n, stop, outcomes[n]), name=f"w{n}", daemon=True
        )
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads, outcomes


def join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"writer threads still running: {alive}"


def merged(outcomes: Sequence[Outcome]) -> Outcome:
    total = Outcome()
    for one in outcomes:
        total.acknowledged += one.acknowledged
        total.latencies += one.latencies
        total.bad += one.bad
        total.locked += one.locked
        total.errors += one.errors
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def stored(db_path: Path) -> tuple[str, int, set[str]]:
    """integrity_check, row count and ids, read straight from the SQLite file."""
    with closing(sqlite3.connect(db_path, timeout=30)) as conn:
        integrity = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        (count,) = conn.execute("SELECT count(*) FROM annotations").fetchone()
        ids = {row[0] for row in conn.execute("SELECT id FROM annotations")}
    return integrity, int(count), ids


# --------------------------------------------------------------------------- tests


def test_fifty_concurrent_writers_lose_nothing(tmp_path: Path, shared_data: Path) -> None:
    writers, duration = 50, 20.0
    instance = prepare(tmp_path, shared_data)
    stop = threading.Event()
    with serving(instance, "server") as server:
        threads, outcomes = start_writers(instance, server.port, writers, stop)
        started = time.monotonic()
        try:
            time.sleep(duration)
        finally:
            stop.set()
            join_all(threads, REQUEST_TIMEOUT_S + 5)
        elapsed = time.monotonic() - started
        server.kill_group(signal.SIGTERM)  # a graceful stop before reading the file
        server.process.wait(timeout=30)
        log = server.tail()
    total = merged(outcomes)
    acknowledged = set(total.acknowledged)
    responses = len(total.latencies)
    print(
        f"\n{writers} writers, {elapsed:.1f} s: {len(acknowledged)} acknowledged writes, "
        f"{len(acknowledged) / elapsed:.1f} writes/s, "
        f"latency p50 {percentile(total.latencies, 0.50) * 1000:.1f} ms, "
        f"p99 {percentile(total.latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(total.latencies) * 1000:.1f} ms; "
        f"{len(total.bad)} non-201 responses, {len(total.errors)} transport errors"
    )
    assert responses > 0, f"no response at all:\n{log}"
    assert not total.locked, (
        f"'database is locked' in {len(total.locked)} responses: {total.locked[:3]}"
    )
    server_errors = [b for b in total.bad if b[0] >= 500]
    assert not server_errors, f"{len(server_errors)} 5xx responses, e.g. {server_errors[:3]}"
    assert not total.bad, f"{len(total.bad)} responses were not 201, e.g. {total.bad[:3]}"
    assert not total.errors, f"{len(total.errors)} requests got no response: {total.errors[:3]}"
    assert len(acknowledged) == len(total.acknowledged), "the server handed out an id twice"

    integrity, count, ids = stored(instance.db_path)
    assert integrity == "ok"
    assert count == len(acknowledged), f"{count} rows for {len(acknowledged)} acknowledged writes"
    missing = acknowledged - ids
    assert not missing, f"{len(missing)} acknowledged writes are not in the database"


def test_kill_9_mid_writes_keeps_every_acknowledged_write(
    tmp_path: Path, shared_data: Path
) -> None:
    writers, duration = 8, 4.0
    instance = prepare(tmp_path, shared_data)
    stop = threading.Event()
    with serving(instance, "server") as server:
        threads, outcomes = start_writers(instance, server.port, writers, stop)
        try:
            time.sleep(duration)
            # the whole process group, master and workers, while requests are in flight
            server.kill_group(signal.SIGKILL)
            stop.set()
        finally:
            stop.set()
            join_all(threads, REQUEST_TIMEOUT_S + 5)
        server.process.wait(timeout=10)
        assert server.process.returncode == -signal.SIGKILL
    total = merged(outcomes)
    acknowledged = set(total.acknowledged)
    assert len(acknowledged) == len(total.acknowledged)
    assert acknowledged, f"no write was acknowledged before the kill:\n{server.tail()}"
    assert not total.locked, total.locked[:3]
    assert not total.bad, f"{len(total.bad)} responses were not 201, e.g. {total.bad[:3]}"

    integrity, count, ids = stored(instance.db_path)
    missing = acknowledged - ids
    print(
        f"\nkill -9 after {duration:.0f} s with {writers} writers: "
        f"{len(acknowledged)} acknowledged, {count} rows on disk "
        f"({count - len(acknowledged & ids)} unacknowledged but kept), "
        f"{len(total.errors)} requests cut off, integrity_check {integrity!r}"
    )
    assert total.errors, "no request was in flight when the server was killed"
    assert integrity == "ok"
    assert not missing, f"{len(missing)} acknowledged writes lost: {sorted(missing)[:5]}"

    # the last write each writer had acknowledged: the ones closest to the kill
    latest = [one.acknowledged[-1] for one in outcomes if one.acknowledged]
    with serving(instance, "restarted") as again:
        headers = {"Authorization": f"Bearer {instance.token}"}
        with closing(http.client.HTTPConnection("127.0.0.1", again.port, timeout=30)) as conn:
            for annotation_id in latest:
                conn.request("GET", f"/api/v1/annotations/{annotation_id}", headers=headers)
                response = conn.getresponse()
                body: Any = json.loads(response.read())
                assert response.status == 200, body
                assert body["id"] == annotation_id
                assert body["properties"]["label"] == "aircraft.transport.an-124"
