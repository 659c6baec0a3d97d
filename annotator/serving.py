"""How `annotator serve` serves the app: gunicorn's processes, waitress's buffering channels.

gunicorn's arbiter keeps the pre-fork model (``--workers`` processes, restarted when they
die, a heartbeat, graceful stops). Each worker process runs `WaitressWorker`, which serves
the WSGI app with waitress's channel layer on gunicorn's listening sockets: a single
poll loop per process reads every connection, and a request reaches one of the
``--threads`` application threads only once its headers *and* its whole body have
arrived (bodies spill to an anonymous temporary file past 512 KiB). Responses go the other
way: the thread writes into the channel's buffer and is free again; the loop sends at the
client's pace. Files (`send_file`) are sent from the loop and take no thread at all.

So a client that dribbles its request, or reads its response slowly, costs a socket and
a little memory, never a thread. The sockets are bounded too, by one number, gunicorn's
``--keep-alive`` (``annotator serve --client-timeout``, `CLIENT_TIMEOUT_S` by default):

- a connection idle between requests (or opened and never used) is closed after it;
- a request's headers must all arrive within it of its first byte, and its body must
  then grow by `MIN_BODY_BYTES_PER_S` times it in every such span, or the connection is
  closed;
- an application thread that waits for a client to read its response (only a response of
  more than waitress's 16 MiB buffer mark makes one wait) is freed, by closing the
  connection, once the client has read nothing for that long.

Request bodies larger than the app's upload limit (``MAX_CONTENT_LENGTH``) are refused
before they are buffered, and the bodies being received at once in one process are held to
twice that limit (`MIN_BODY_BUDGET` at least): anyone may send a body before the app has
checked who they are, so this is what bounds the disk they can take. Errors found by the
server itself (a malformed request, headers over 256 KiB, a body over the limit) are answered
in the API's JSON error shape.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gunicorn.workers.base import Worker
from prometheus_client import multiprocess as prometheus_multiprocess
from waitress import create_server, wasyncore  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.server import BaseWSGIServer  # type: ignore[import-untyped]
from waitress.task import ErrorTask, WSGITask  # type: ignore[import-untyped]

from annotator import scratch
from annotator.access.redact import redact

#: prometheus_client's own variable: the folder where every worker keeps its metric values
#: (named here too, not imported from annotator.metrics, so the command line stays light)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: gunicorn's ``--worker-class`` for `annotator serve`.
WORKER_CLASS = "annotator.serving.WaitressWorker"
#: Default of ``annotator serve --client-timeout``: seconds a connection may stay idle, take
#: to send a request's headers, or leave an application thread waiting on an unread response.
CLIENT_TIMEOUT_S = 30
#: After the headers, a body must arrive at this many bytes a second, over every span of
#: the client timeout (only clients that all but stop are cut off).
MIN_BODY_BYTES_PER_S = 1024
#: Request bodies being received are buffered (on disk past 512 KiB). One worker process
#: holds at most twice the upload limit of them, or this much if more: the bodies that
#: started last are cut off first.
MIN_BODY_BUDGET = 64 << 20
#: Largest request head (request line and headers) accepted; larger ones get a 431.
MAX_HEADER_BYTES = 256 * 1024
#: How often the loop wakes to enforce the deadlines, at the latest.
SWEEP_INTERVAL_S = 1.0

access_log = logging.getLogger("gunicorn.access")
error_log = logging.getLogger("gunicorn.error")


def gunicorn_argv(
    host: str, port: int, workers: int, threads: int, client_timeout: int
) -> list[str]:
    """The command line of `annotator serve`, without the interpreter."""
    return [
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        WORKER_CLASS,
        "--keep-alive",
        str(client_timeout),
        "--access-logfile",
        "-",
        "--timeout",
        "120",
        # gunicorn takes the hooks below (child_exit) from this module
        "--config",
        f"python:{__name__}",
        "annotator.wsgi:app",
    ]


# ------------------------------------------------------------------------ metrics
# gunicorn reads this module's names as settings when given `--config python:annotator.serving`:
# only `child_exit` is one (tests/annotator/test_metrics_served.py checks), keep it so


def metrics_folder(tmp_root: Path) -> Path:
    """Set PROMETHEUS_MULTIPROC_DIR for the server about to start, and return it empty.

    Set already: that folder, with what an earlier run left in it (prometheus_client's
    `*.db` files only) removed. Otherwise `metrics/` in this process's own folder under the
    data folder's tmp/, whose lock the gunicorn this process execs, and its workers, hold
    (annotator.scratch): a fresh folder each start, removed once the server has ended."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink(missing_ok=True)
    else:
        folder = scratch.kept_across_exec(tmp_root) / "metrics"
        folder.mkdir(exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook, in the arbiter, after a worker process has ended: its live gauges go
    (its counters and histograms stay in the sums: totals never go backwards)."""
    if os.environ.get(MULTIPROC_ENV):
        prometheus_multiprocess.mark_process_dead(worker.pid)


# ----------------------------------------------------------------------------- tasks


def _printable(text: str) -> str:
    """`text` with control characters escaped, so a request cannot forge log lines."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


class _AccessLogged:
    """Writes one access-log line per request, in gunicorn's default format, once served."""

    channel: Any
    request: Any
    status: str
    content_bytes_written: int

    def service(self) -> None:
        try:
            super().service()  # type: ignore[misc]
        finally:
            if access_log.isEnabledFor(logging.INFO) and access_log.handlers:
                access_log.info(self._access_line())

    def _access_line(self) -> str:
        request = self.request
        headers = request.headers
        first_line = f"{request.command} {request.request_uri} HTTP/{request.version}"
        if not request.command:  # an unparseable request
            first_line = "-"
        host = self.channel.addr[0] if isinstance(self.channel.addr, tuple) else "-"
        when = datetime.now().astimezone().strftime("[%d/%b/%Y:%H:%M:%S %z]")
        referer = headers.get("REFERER", "-")
        agent = headers.get("USER_AGENT", "-")
        status = self.status.split(" ", 1)[0]
        return _printable(  # a key in the query string or the referrer is redacted
            redact(
                f'{host} - - {when} "{first_line}" {status} {self.content_bytes_written} '
                f'"{referer}" "{agent}"'
            )
        )


class _Task(_AccessLogged, WSGITask):
    pass


class _ErrorTask(_AccessLogged, ErrorTask):
    """The server's own refusals (malformed request, too large) in the API's JSON shape."""

    def execute(self) -> None:
        error = self.request.error
        message = str(error.body)
        if error.code == 413:
            limit = self.channel.adj.max_request_body_size
            message = f"the upload is larger than the limit of {limit // (1024 * 1024)} MB"
        code = str(error.reason).lower().replace(" ", "_")
        body = json.dumps({"error": code, "message": message, "details": None}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class Channel(HTTPChannel):
    """waitress's channel with the access log and JSON refusals."""

    task_class = _Task
    error_task_class = _ErrorTask


# ----------------------------------------------------------------------- deadlines


@dataclass
class _Progress:
    """Where a partial request stands: since when, and its body bytes at that moment."""

    request: Any  # the partial request (waitress's parser) this describes
    began: float  # when its first byte was seen
    since: float  # when its headers began, or when its body last made enough progress
    body_mark: int | None = None  # body bytes received at `since`; None while in the headers


class Deadlines:
    """Closes connections whose client is too slow, and bounds the request bodies that are
    being buffered (see the module's docstring)."""

    def __init__(self, timeout_s: float, body_budget: int) -> None:
        self.timeout_s = timeout_s
        self.body_budget = body_budget
        self.progress: dict[Any, _Progress] = {}

    def sweep(self, channels: Iterable[Any], now: float) -> list[tuple[Any, str]]:
        """Mark the channels to close; return them with the reason."""
        marked: list[tuple[Any, str]] = []
        seen: dict[Any, _Progress] = {}
        bodies: list[tuple[float, Any, int]] = []
        for channel in channels:
            if channel.will_close:
                continue
            why = self._why(channel, now, seen)
            if why is not None:
                marked.append((channel, why))
            elif channel in seen and seen[channel].body_mark is not None:
                bodies.append((seen[channel].began, channel, channel.request.body_bytes_received))
        # the bodies that arrived first keep their place; later ones beyond the budget go
        buffered = 0
        for _, channel, size in sorted(bodies, key=lambda item: item[0]):
            buffered += size
            if buffered > self.body_budget:
                buffered -= size
                budget_mib = self.body_budget >> 20
                marked.append((channel, f"request bodies being received exceed {budget_mib} MiB"))
        for channel, _ in marked:
            channel.will_close = True  # the loop closes it (and wakes a waiting thread)
        self.progress = seen
        return marked

    def _why(self, channel: Any, now: float, seen: dict[Any, _Progress]) -> str | None:
        timeout = self.timeout_s
        partial = channel.request
        if partial is not None and not partial.completed:
            known = self.progress.get(channel)
            if known is None or known.request is not partial:
                known = _Progress(partial, now, now)
            seen[channel] = known
            if not partial.headers_finished:
                if now - known.since > timeout:
                    return f"request headers not received within {timeout:g} s"
                return None
            received = int(partial.body_bytes_received)
            if (
                known.body_mark is None
                or received - known.body_mark >= MIN_BODY_BYTES_PER_S * timeout
            ):
                known.since, known.body_mark = now, received  # (re)start the body's window
            elif now - known.since > timeout:
                return f"request body slower than {MIN_BODY_BYTES_PER_S} bytes/s for {timeout:g} s"
            return None
        idle = now - channel.last_activity > timeout
        if channel.requests:  # a thread is serving it
            waiting = channel.total_outbufs_len > channel.adj.outbuf_high_watermark
            if waiting and idle:
                return f"response not read for {timeout:g} s"
            return None
        if idle:
            return f"idle for {timeout:g} s"
        return None


# -------------------------------------------------------------------------- worker


def connection_limit(wanted: int) -> int:
    """Open connections one process accepts: `wanted`, within the descriptors it may open
    (the soft limit is raised towards the hard one first; some are kept for files, the
    database and the listening sockets)."""
    spare = 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted + spare:
        target = wanted + spare if hard == resource.RLIM_INFINITY else min(hard, wanted + spare)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - spare))


class WaitressWorker(Worker):
    """A gunicorn worker process that serves the app with waitress (see the module)."""

    def run(self) -> None:
        socket_map: dict[int, Any] = {}
        limit = getattr(self.wsgi, "config", {}).get("MAX_CONTENT_LENGTH") or 1 << 30
        timeout = float(self.cfg.keepalive) if self.cfg.keepalive > 0 else CLIENT_TIMEOUT_S
        server = create_server(
            self.wsgi,
            map=socket_map,
            sockets=[listener.sock for listener in self.sockets],
            threads=self.cfg.threads,
            backlog=self.cfg.backlog,
            connection_limit=connection_limit(self.cfg.worker_connections),
            channel_timeout=int(timeout) + 1,  # ours (`Deadlines`) acts first
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=int(limit),
            asyncore_use_poll=True,  # select() stops at 1024 descriptors
            ident="annotator",
            # only a reverse proxy on this machine is believed, and only about two things: that
            # it took HTTPS, and who its client was (the one address it appends to
            # X-Forwarded-For), so the sign-in throttle counts clients, not the proxy
            trusted_proxy="127.0.0.1",
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
            clear_untrusted_proxy_headers=True,
        )
        servers = [d for d in socket_map.values() if isinstance(d, BaseWSGIServer)]
        for listener in servers:
            listener.channel_class = Channel
        deadlines = Deadlines(timeout, max(2 * int(limit), MIN_BODY_BUDGET))
        self.log.info(
            "Serving with waitress: %s threads, client timeout %g s", self.cfg.threads, timeout
        )
        try:
            next_sweep = 0.0
            while self.alive:
                wasyncore.loop(SWEEP_INTERVAL_S, True, socket_map, 1)
                if time.monotonic() < next_sweep:
                    continue  # a busy loop wakes often: the chores need doing once a second
                next_sweep = time.monotonic() + SWEEP_INTERVAL_S
                self.notify()
                self._sweep(servers, deadlines)
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
            self._drain(servers, socket_map, deadlines)
        finally:
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(socket_map)

    def _sweep(self, servers: list[Any], deadlines: Deadlines) -> None:
        channels = [c for listener in servers for c in list(listener.active_channels.values())]
        for channel, why in deadlines.sweep(channels, time.time()):
            peer = channel.addr[0] if isinstance(channel.addr, tuple) else "-"
            self.log.info("closing a connection from %s: %s", peer, why)

    def _drain(self, servers: list[Any], socket_map: dict[int, Any], deadlines: Deadlines) -> None:
        """Stop accepting; let requests in progress finish within the graceful timeout."""
        for listener in servers:
            listener.accepting = False
            listener.del_channel()
        end = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < end:
            busy = [
                c
                for listener in servers
                for c in listener.active_channels.values()
                if c.requests or c.total_outbufs_len
            ]
            if not busy:
                break
            self.notify()
            wasyncore.loop(0.2, True, socket_map, 1)
            self._sweep(servers, deadlines)
