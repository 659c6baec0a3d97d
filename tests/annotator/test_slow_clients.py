"""Slow clients against a real `annotator serve` (issue 10, item 3).

64 raw sockets attack the server the slow way for 30 s: most dribble a request's headers,
a header line every couple of seconds; some send complete headers and then dribble the body;
some ask for the stored COG and never read the answer (a tiny receive window). Meanwhile
ordinary clients (the sign-in page, an authenticated API list, a tile) must each get their
answer, while every slow connection is still open. Afterwards the server must drop the slow
connections by itself, within its client timeout, and keep none of them open.

With gunicorn's gthread workers (2 workers x 4 threads) eight such clients were enough to stop
every other request.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import morecantile
import pytest
from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
from waitress.parser import HTTPRequestParser  # type: ignore[import-untyped]

from annotator.serving import CLIENT_TIMEOUT_S, Deadlines

ANNOTATOR = Path(sys.executable).parent / "annotator"
CENTRE = (-84.4789, 33.6384)  # inside sample_geotiff.tif (Atlanta)
PASSWORD = "slow-clients-password"

HOLD_S = 30.0
HEADER_DRIBBLERS = 40
BODY_DRIBBLERS = 16
NON_READERS = 8
DRIBBLE_EVERY_S = 2.0
#: Generous: an answer counts if it comes within this, on a machine shared with others.
REQUEST_TIMEOUT_S = 10.0
START_TIMEOUT_S = 60.0
#: How long after its first byte a slow connection may still be open (the server's client
#: timeout, its once-a-second sweep, and slack for a loaded machine).
DROP_BOUND_S = CLIENT_TIMEOUT_S + 20.0

#: a server started by the tests
Process = subprocess.Popen[bytes]


@dataclass
class Served:
    port: int
    token: str
    image_id: str
    log: Path
    process: subprocess.Popen[bytes]

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(ANNOTATOR), *args], env=env, input=stdin, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"annotator {' '.join(args)}: {done.stderr}"
    return done.stdout


def answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/login")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def annotator_serve(
    env: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`annotator serve` on a free port, once it answers; the whole process group (master and
    workers) is killed however the test ends."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(ANNOTATOR), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not answers(port):
            tail = log.read_text(errors="replace")[-3000:]
            assert process.poll() is None, f"the server exited:\n{tail}"
            assert time.monotonic() < deadline, f"the server did not answer:\n{tail}"
            time.sleep(0.3)
        yield process, port
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path, shared_data: Path) -> Iterator[Served]:
    """A data folder made by `annotator init`, an image, a viewer's token, `annotator serve`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANNOTATOR_")}
    env["ANNOTATOR_DATA_DIR"] = str(tmp_path / "instance")
    run_cli(env, "init")
    imported = run_cli(env, "images", "import", str(shared_data / "sample_geotiff.tif"),
                       "--json", "--provider", "SpaceNet")  # fmt: skip
    image_id = json.loads(imported)[0]["id"]
    run_cli(env, "users", "add", "watcher", "--role", "viewer", "--password-stdin", stdin=PASSWORD)
    token = run_cli(env, "tokens", "create", "watcher").strip().splitlines()[-1].strip()
    with annotator_serve(env, tmp_path / "serve.log") as (process, port):
        yield Served(port, token, image_id, tmp_path / "serve.log", process)


# ----------------------------------------------------------------------- the attack


@dataclass
class SlowClient:
    kind: str  # "headers", "body" or "reader"
    sock: socket.socket
    port: int  # its own (client-side) port
    closed_at: float | None = None  # when the server was seen closing it


@dataclass
class Attack:
    clients: list[SlowClient] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    began: float = 0.0

    def open_dribblers(self) -> int:
        with self.lock:
            return sum(1 for c in self.clients if c.kind != "reader" and c.closed_at is None)


def connect(port: int, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:  # before connect(), so that the window stays small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(REQUEST_TIMEOUT_S)
    sock.connect(("127.0.0.1", port))
    return sock


def start_attack(server: Served) -> Attack:
    attack = Attack()
    auth = f"Authorization: Bearer {server.token}\r\n".encode()
    for _ in range(HEADER_DRIBBLERS):
        sock = connect(server.port)
        sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        attack.clients.append(SlowClient("headers", sock, sock.getsockname()[1]))
    for _ in range(BODY_DRIBBLERS):
        sock = connect(server.port)
        sock.sendall(
            b"POST /api/v1/annotations HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth
            + b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        )  # fmt: skip
        attack.clients.append(SlowClient("body", sock, sock.getsockname()[1]))
    for _ in range(NON_READERS):
        sock = connect(server.port, receive_buffer=4096)
        cog = f"GET /api/v1/images/{server.image_id}/cog HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        sock.sendall(cog.encode() + auth + b"\r\n")
        attack.clients.append(SlowClient("reader", sock, sock.getsockname()[1]))
    attack.began = time.monotonic()
    threading.Thread(target=dribble, args=(attack,), daemon=True).start()
    return attack


def dribble(attack: Attack) -> None:
    """Every DRIBBLE_EVERY_S, one more header line or body byte on each dribbling socket;
    note the ones the server has closed. Bounded by the caller's stop event."""
    round_no = 0
    while not attack.stop.wait(DRIBBLE_EVERY_S):
        round_no += 1
        for client in attack.clients:
            if client.kind == "reader" or client.closed_at is not None:
                continue
            header = f"X-Slow-{round_no}: {round_no}\r\n".encode()
            piece = header if client.kind == "headers" else b" "
            if server_closed(client.sock, piece):
                with attack.lock:
                    client.closed_at = time.monotonic()


def server_closed(sock: socket.socket, piece: bytes) -> bool:
    """Send `piece`; True when the server has closed (or reset) the connection."""
    try:
        sock.setblocking(False)
        try:
            if sock.recv(4096, socket.MSG_PEEK) == b"":
                return True
        except BlockingIOError:
            pass  # nothing to read: still open
        sock.setblocking(True)
        sock.settimeout(REQUEST_TIMEOUT_S)
        sock.sendall(piece)
    except OSError:
        return True
    return False


def established_from(port: int, client_ports: set[int]) -> int:
    """Server-side sockets on `port` still ESTABLISHED to one of `client_ports`."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if state == "01" and int(local.split(":")[1], 16) == port:
            count += int(remote.split(":")[1], 16) in client_ports
    return count


# ------------------------------------------------------------------------ the test


@dataclass
class Outcome:
    what: str
    status: int | None
    error: str | None
    open_dribblers: int


def ordinary(server: Served, attack: Attack, what: str, path: str, auth: bool) -> Outcome:
    headers = {"Authorization": f"Bearer {server.token}"} if auth else {}
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_S)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        finally:
            connection.close()
    except OSError as exc:
        return Outcome(what, None, f"{type(exc).__name__}: {exc}", attack.open_dribblers())
    return Outcome(what, status, None, attack.open_dribblers())


def test_slow_clients_do_not_stop_the_server(served: Served) -> None:
    tms = morecantile.tms.get("WebMercatorQuad")
    tile = tms.tile(*CENTRE, 17)
    requests = [
        ("sign-in page", "/login", False),
        ("API list", "/api/v1/images", True),
        ("tile", f"/tiles/{served.image_id}/{tile.z}/{tile.x}/{tile.y}.png", True),
    ]
    dribblers = HEADER_DRIBBLERS + BODY_DRIBBLERS
    attack = start_attack(served)
    outcomes: list[Outcome] = []
    try:
        time.sleep(3 * DRIBBLE_EVERY_S)  # every slow client has its request under way
        # ordinary clients, one after another, until shortly before the hold ends
        while time.monotonic() - attack.began < HOLD_S - 2 * DRIBBLE_EVERY_S - 2:
            for what, path, auth in requests:
                outcomes.append(ordinary(served, attack, what, path, auth))
        held = time.monotonic() - attack.began
        still_open = attack.open_dribblers()
        while time.monotonic() - attack.began < HOLD_S:
            time.sleep(0.2)

        # afterwards, the server drops every slow connection by itself, and keeps none
        client_ports = {c.port for c in attack.clients}
        deadline = attack.began + DROP_BOUND_S
        while time.monotonic() < deadline and (
            attack.open_dribblers() or established_from(served.port, client_ports)
        ):
            time.sleep(0.5)
        left_open = attack.open_dribblers()
        left_established = established_from(served.port, client_ports)
    finally:
        attack.stop.set()
        for client in attack.clients:
            client.sock.close()

    assert outcomes, "no ordinary request was made"
    failed = [o for o in outcomes if o.status != 200]
    assert not failed, (
        f"{len(failed)} of {len(outcomes)} ordinary requests were not answered with 200 "
        f"during the attack, e.g. {failed[:3]}\n{served.tail()}"
    )
    # answered while the slow ones were still connected
    assert all(o.open_dribblers == dribblers for o in outcomes), [
        o.open_dribblers for o in outcomes
    ]
    assert still_open == dribblers, f"only {still_open} slow clients still open after {held:.0f} s"
    assert served.process.poll() is None, f"the server exited:\n{served.tail()}"
    assert left_open == 0, f"{left_open} dribbling connections still open:\n{served.tail()}"
    assert left_established == 0, f"{left_established} slow connections kept by the server"
    assert "request headers not received within" in served.log.read_text()


# ------------------------------------------------- the deadlines, on waitress's own parser


class Channel:
    """The parts of a waitress channel that `Deadlines` reads, around a real parser."""

    def __init__(self, data: bytes) -> None:
        self.adj = Adjustments()
        self.request = HTTPRequestParser(self.adj)
        self.requests: list[object] = []
        self.will_close = False
        self.last_activity = 0.0
        self.total_outbufs_len = 0
        self.feed(data)

    def feed(self, data: bytes) -> None:
        while data:  # as the channel does: the parser takes what belongs to this request
            data = data[self.request.received(data) :]


def test_deadlines_bound_heads_bodies_and_their_total() -> None:
    deadlines = Deadlines(30.0, body_budget=1000)
    head = Channel(b"GET / HTTP/1.1\r\nHost: x\r\n")
    first = Channel(b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 600)
    assert deadlines.sweep([head, first], 100.0) == []
    # a second body that takes the bodies being received past the budget is the one cut off
    second = Channel(b"POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"x" * 600)
    closed = deadlines.sweep([second, head, first], 101.0)
    assert [channel for channel, _ in closed] == [second] and second.will_close
    assert "request bodies being received exceed" in closed[0][1]
    # headers not complete within the timeout of their first byte; a body stalled as long
    assert deadlines.sweep([head, first], 129.0) == []
    assert {why for _, why in deadlines.sweep([head, first], 130.5)} == {
        "request headers not received within 30 s",
        "request body slower than 1024 bytes/s for 30 s",
    }

    # a body must keep growing: 30 KiB in every 30 s here, however much came before
    deadlines = Deadlines(30.0, body_budget=10**9)
    body = Channel(b"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
    assert deadlines.sweep([body], 0.0) == []
    body.feed(b"y" * 40_000)
    assert deadlines.sweep([body], 29.0) == []  # enough: the window starts again
    body.feed(b"y" * 100)
    assert deadlines.sweep([body], 58.0) == []
    assert [why for _, why in deadlines.sweep([body], 59.5)] == [
        "request body slower than 1024 bytes/s for 30 s"
    ]
