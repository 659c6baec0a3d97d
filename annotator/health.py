"""`/healthz` (the process answers) and `/readyz` (what it needs is reachable), for probes.

Both need no sign-in and say nothing about the data: no counts, no paths, no versions.
They answer even before `annotator init` (annotator/readiness.py lets them through), when
`/readyz` says why the database is not ready.

`/readyz` runs each check (the database, the image store; the intake issue's queue is
added with `add_check(app, "queue", check)`) and answers 200 when all pass, 503 when any
fails, with one entry per check: its name, ok, and a short reason. A check is a function of
the app that returns when all is well and raises `NotReady` with the reason otherwise.

Each check runs in a thread of its own and is given `CHECK_TIMEOUT_S`: a database that
does not answer (a lock held, a server that accepts connections and says nothing, a hung
network file system) makes the check fail in that time, never the probe hang. A check still
running from an earlier probe is not started again beside itself. The checks bound
themselves as well: SQLite waits at most 1 s for a lock (the app itself waits 30 s), and
PostgreSQL gets a 2 s connect timeout (libpq's shortest) and statement timeout. The full
reason a check fails is logged (once, when it starts failing); the answer carries only a
short one.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from annotations.schema import head
from annotator import readiness, services

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

#: the longest one check may take before it counts as failed
CHECK_TIMEOUT_S = 3.0
#: SQLite: how long the check waits for a lock
SQLITE_TIMEOUT_S = 1.0
#: PostgreSQL: connect_timeout (libpq's shortest that works: 2) and statement_timeout
POSTGRES_TIMEOUT_S = 2
_CHECKS = "annotator.health.checks"
_STATE = "annotator.health.state"
#: this version's schema revision: read from the migration scripts once (22 ms each time)
_head = functools.cache(head)

Check = Callable[[Flask], None]


class NotReady(Exception):
    """A check failed: `reason` is short and safe to show; `detail` goes to the log."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class _State:
    """Per app: the checks still running after their time, and what each said last."""

    lock: threading.Lock
    running: dict[str, threading.Thread]
    last_ok: dict[str, bool]
    postgres: Engine | None = None


def init_app(app: Flask) -> None:
    app.extensions[_CHECKS] = []
    app.extensions[_STATE] = _State(threading.Lock(), {}, {})
    add_check(app, "database", check_database)
    add_check(app, "images", check_image_store)
    app.register_blueprint(bp)


def add_check(app: Flask, name: str, check: Check) -> None:
    """One more line in `/readyz`; `check(app)` raises NotReady(reason) when not ready."""
    app.extensions[_CHECKS].append((name, check))


@bp.get("/healthz")
@readiness.exempt
def healthz() -> Response:
    """The process is alive and answers; nothing is checked."""
    return _uncached(jsonify({"status": "ok"}))


@bp.get("/readyz")
@readiness.exempt
def readyz() -> Response:
    """200 when every check passes, else 503; one entry per check."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    results = run_checks(app)
    ready = all(ok for _, ok, _ in results)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": [{"name": name, "ok": ok, "reason": reason} for name, ok, reason in results],
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    return _uncached(response)


def _uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def run_checks(app: Flask) -> list[tuple[str, bool, str]]:
    """(name, ok, reason) of every check, each in its own thread, all within the timeout."""
    state: _State = app.extensions[_STATE]
    outcomes: dict[str, tuple[bool, str]] = {}
    started: list[tuple[str, threading.Thread]] = []
    for name, check in app.extensions[_CHECKS]:
        with state.lock:
            earlier = state.running.get(name)
            if earlier is not None and earlier.is_alive():
                outcomes[name] = (False, f"no answer yet (over {CHECK_TIMEOUT_S:g} s)")
                continue
        thread = threading.Thread(
            target=_run_one, args=(app, name, check, outcomes), name=f"readyz-{name}", daemon=True
        )
        thread.start()
        started.append((name, thread))
    deadline = time.monotonic() + CHECK_TIMEOUT_S
    for name, thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            with state.lock:
                state.running[name] = thread
            outcomes.setdefault(name, (False, f"no answer within {CHECK_TIMEOUT_S:g} s"))
    results = []
    for name, _ in app.extensions[_CHECKS]:
        ok, reason = outcomes.get(name, (False, "the check failed"))
        results.append((name, ok, reason))
        with state.lock:
            changed = state.last_ok.get(name, True) != ok
            state.last_ok[name] = ok
        if changed and ok:
            log.info("ready again: %s", name)
        elif changed and reason.startswith("no answer"):
            log.warning("not ready: %s: %s", name, reason)
    return results


def _run_one(app: Flask, name: str, check: Check, outcomes: dict[str, tuple[bool, str]]) -> None:
    state: _State = app.extensions[_STATE]
    try:
        check(app)
    except NotReady as failed:
        outcome = (False, failed.reason)
        if state.last_ok.get(name, True):
            log.warning("not ready: %s: %s", name, failed.detail or failed.reason)
    except Exception:  # a check's own fault must not make the probe a 500
        outcome = (False, "the check failed")
        log.exception("the %s check failed", name)
    else:
        outcome = (True, "ok")
    outcomes.setdefault(name, outcome)


# ----------------------------------------------------------------------------- checks


def check_database(app: Flask) -> None:
    """The database answers, and its schema is this version's (as `annotator init` left it).

    A connection of its own, never the app's pool: a pooled SQLite connection still reads a
    database file that has been moved away, and a pool may wait for a free connection."""
    database = services.database(app)
    if database.is_sqlite:
        revision = _sqlite_revision(make_url(database.url).database)
    else:
        revision = _postgres_revision(app, database.url)
    if revision is None:
        raise NotReady("no tables yet: run `annotator init`")
    if revision != _head():
        raise NotReady(
            "the schema is not this version's: run `annotator init` to upgrade an older one",
            f"the database is at schema {revision}, this version's is {_head()}",
        )


def _sqlite_revision(path: str | None) -> str | None:
    if not path or path == ":memory:":
        raise NotReady("no database file is configured")
    if not os.path.exists(path):
        raise NotReady("the database file is missing", f"{path} does not exist")
    try:
        # mode=rw: a missing file is an error, never quietly made anew
        connection = sqlite3.connect(
            f"file:{quote(path)}?mode=rw", uri=True, timeout=SQLITE_TIMEOUT_S
        )
    except sqlite3.Error as exc:
        raise NotReady("the database file cannot be opened", f"{path}: {exc}") from exc
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if "no such table" in message:
            return None
        if "locked" in message or "busy" in message:
            raise NotReady(
                f"the database stayed locked for over {SQLITE_TIMEOUT_S:g} s", message
            ) from exc
        raise NotReady("the database file cannot be read", f"{path}: {message}") from exc
    except sqlite3.Error as exc:
        raise NotReady("the database file cannot be read", f"{path}: {exc}") from exc
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _postgres_revision(app: Flask, url: str) -> str | None:
    state: _State = app.extensions[_STATE]
    with state.lock:
        if state.postgres is None:
            # no pool: each probe opens a connection, as a new worker would
            state.postgres = create_engine(
                url,
                poolclass=NullPool,
                connect_args={
                    "connect_timeout": POSTGRES_TIMEOUT_S,
                    "options": f"-c statement_timeout={POSTGRES_TIMEOUT_S * 1000}",
                },
            )
        engine = state.postgres
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        raise NotReady("cannot connect to the database", _first_line(exc)) from exc
    with connection:
        try:
            exists = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            if exists is None:
                return None
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError as exc:
            raise NotReady("the database did not answer the check", _first_line(exc)) from exc
    return None if revision is None else str(revision)


def _first_line(exc: SQLAlchemyError) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_image_store(app: Flask) -> None:
    """The image store is a folder this process may read and write."""
    store = Path(app.config["IMAGES_DIR"])
    try:
        if not store.is_dir():
            raise NotReady("the image store is missing", f"{store} is not a folder")
    except OSError as exc:
        raise NotReady("the image store cannot be reached", f"{store}: {exc}") from exc
    if not os.access(store, os.R_OK | os.W_OK | os.X_OK):
        raise NotReady("the image store is not writable", f"{store}: permission denied")
