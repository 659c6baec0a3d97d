"""The app's log: one handler on the root logger, text or JSON lines, a request id on each.

Every module that logs has its own `logging.getLogger(__name__)`; this module only decides
where the lines go and how they look, once per process, from ANNOTATOR_LOG_LEVEL and
ANNOTATOR_LOG_FORMAT: in `annotator serve`'s workers (`annotator.wsgi`) and in the command
line, which logs only when ANNOTATOR_LOG_LEVEL is set (a command's output stays its own lines
otherwise). The level applies to the app's three packages; other libraries say only their
warnings and errors. gunicorn's own lines keep gunicorn's handlers and format.

Each HTTP request gets an id: the client's X-Request-ID when it is short and plain, else a new
one. It is echoed in the response's X-Request-ID header and stamped on every line logged while
the request is served, from any package: it lives in a context variable that a filter on the
handler reads, so `annotations` and `imagery` log with the standard library alone. One access
line per request says the method, the path (never the query string), the status, the time and
the bytes. A read-only key or token in a message is replaced by `[redacted]` (annotator.access).

Text lines escape control characters in what they carry (a user's file name or path cannot
start a line of its own); continuation lines of a traceback are indented. JSON lines are one
object per line, with the fields a call passes in `extra` beside the standard ones.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request
from flask.logging import default_handler

from annotator.access.redact import redact
from annotator.config import choice

log = logging.getLogger(__name__)

#: the packages whose loggers take ANNOTATOR_LOG_LEVEL
PACKAGES = ("annotator", "annotations", "imagery")
#: the id of the request being served in this context, if any
REQUEST_ID: ContextVar[str | None] = ContextVar("annotator_request_id", default=None)
#: an incoming X-Request-ID kept as it is; anything else is replaced by an id of ours
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
HEADER = "X-Request-ID"
#: what every LogRecord has; anything else on a record came in `extra`
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


def request_id_for(incoming: str | None) -> str:
    """The client's id when it is 1-64 of [A-Za-z0-9._-], else a new random one."""
    if incoming is not None and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def printable(text: str) -> str:
    """`text` with line breaks and other control characters escaped (\\n, \\x1b, \\u2028)."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable():
            out.append(c)
        elif c in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[c])
        else:
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return "".join(out)


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served (or None) on each record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-06 14:44:12,345 INFO annotations.exchange.formats [id] message`, one line."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or "-"
        when = self.formatTime(record, self.datefmt)
        message = printable(redact(record.getMessage()))
        line = f"{when} {record.levelname} {record.name} [{request_id}] {message}"
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        # a traceback's lines are indented: only a record's first line starts at column 0
        for part in "\n".join(details).splitlines():
            line += "\n    " + printable(part)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, request_id, message, the record's
    `extra` fields, and the traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class _Handler(logging.StreamHandler[IO[str]]):
    """The app's handler: to `stream`, or to whatever sys.stderr is when a line is written."""

    def __init__(self, stream: IO[str] | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        if self._fixed is None:
            self.stream = sys.stderr
        super().emit(record)


def configure(level: str, fmt: str, stream: IO[str] | None = None) -> logging.Handler:
    """Send the log to `stream` (standard error by default) as `fmt` (text or json), the
    app's packages from `level` up; called again, it replaces what it set before."""
    level = choice("LOG_LEVEL", level)
    fmt = choice("LOG_FORMAT", fmt)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    number = logging.getLevelNamesMapping()[level]
    root.setLevel(max(number, logging.WARNING))
    for package in PACKAGES:
        logging.getLogger(package).setLevel(number)
    # Flask gives the app's logger a handler of its own when none is set up: not needed now
    logging.getLogger("annotator").removeHandler(default_handler)
    return handler


def configure_command(environ: Mapping[str, str]) -> None:
    """For the command line: the log at ANNOTATOR_LOG_LEVEL when that is set; otherwise none
    at all (not even Python's last-resort warnings), so a command says only its own lines."""
    level = environ.get("ANNOTATOR_LOG_LEVEL")
    fmt = environ.get("ANNOTATOR_LOG_FORMAT") or "text"
    if level:
        configure(level, fmt)
        return
    choice("LOG_FORMAT", fmt)  # a wrong word is refused all the same
    for package in PACKAGES:
        logger = logging.getLogger(package)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


# ----------------------------------------------------------------------- requests


def init_app(app: Flask) -> None:
    """A request id and an access line for every request (install before other hooks)."""
    app.before_request(_begin)
    app.after_request(_end)
    app.teardown_request(_forget)


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_id_for(request.headers.get(HEADER))
    g.request_id_token = REQUEST_ID.set(g.request_id)


def _end(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a hook before ours answered: none is made now
        return response
    response.headers[HEADER] = request_id
    if log.isEnabledFor(logging.INFO):
        ms = round((time.perf_counter() - g.request_started) * 1000, 1)
        size = response.content_length
        log.info(
            "%s %s %s %.1f ms %s bytes",
            request.method,
            request.path,
            response.status_code,
            ms,
            "-" if size is None else size,
            extra={
                "event": "request",
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": ms,
                "bytes": size,
            },
        )
    return response


def _forget(_: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        try:
            REQUEST_ID.reset(token)
        except ValueError:  # set in another context (a test client's preserved context)
            REQUEST_ID.set(None)
