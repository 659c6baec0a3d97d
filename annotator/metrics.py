"""Prometheus metrics: the metric objects, the request hooks that feed them, and `/metrics`.

Every metric is named `annotator_...`. The places that count import this module and move a
metric where the event happens (tiles, ingest, export, sign-in); requests are counted by
hooks on the app, and annotation writes by listeners on SQLAlchemy sessions, once their
transaction has committed (a rolled-back write is not counted).

Across processes: `annotator serve` runs several gunicorn workers, and a scrape reaches one
of them. With PROMETHEUS_MULTIPROC_DIR set (`annotator serve` sets it, see
annotator/serving.py) prometheus_client keeps each process's values in files there and
`/metrics` sums them, dead workers' counts included. Without it (one process: the Flask
test client, `flask run`) the values live in this process.

Labels are bounded: a request's route is its URL rule (`/api/v1/annotations/<annotation_id>`),
never the path asked for, and an unknown method is `other`; a sign-in failure says why, never
who. `/metrics` is open unless ANNOTATOR_METRICS_TOKEN is set; then it needs
`Authorization: Bearer <token>`.

Queue depth (the intake issue): a value read when scraped, not counted as things happen, so
it is a `prometheus_client` Collector added with `add_collector(app, collector)`; `/metrics`
collects it in the scraping process.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from annotations.history import BULK_WRITTEN, Revision
from annotator import readiness

#: where prometheus_client keeps every process's values when several processes serve
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: no `_created` samples: a multiprocess scrape has none, so one process's has none either
disable_created_metrics()
#: the metric objects' own registry: without the platform and process collectors of the
#: default one (the Python version, command line and such are nobody's business)
REGISTRY = CollectorRegistry(auto_describe=True)
#: request methods kept as a label value; anything else is `other`
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"
_COLLECTORS = "annotator.metrics.collectors"

REQUESTS = Counter(
    "annotator_http_requests",
    "HTTP requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "annotator_http_request_duration_seconds",
    "Time from a request's arrival in the app to its response (a streamed body's sending "
    "not included), by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0),
    registry=REGISTRY,
)
TILES = Counter(
    "annotator_tiles",
    "Tile answers by where they came from: rendered (a cache miss), cache (the tile cache "
    "held it) or not_modified (the client's copy was current: 304).",
    ["source"],
    registry=REGISTRY,
)
TILE_RENDER_SECONDS = Histogram(
    "annotator_tile_render_duration_seconds",
    "Time to render one tile that was not in the cache.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
LONG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
INGEST_SECONDS = Histogram(
    "annotator_ingest_duration_seconds",
    "Time to check and convert one image file into a COG (a file already catalogued is "
    "not ingested again), by outcome (ok, failed).",
    ["outcome"],
    buckets=LONG_BUCKETS,
    registry=REGISTRY,
)
EXPORT_SECONDS = Histogram(
    "annotator_export_duration_seconds",
    "Time to write one export over HTTP (before it is streamed), by format and outcome "
    "(ok, refused, stopped, failed).",
    ["format", "outcome"],
    buckets=LONG_BUCKETS,
    registry=REGISTRY,
)
ANNOTATION_WRITES = Counter(
    "annotator_annotation_writes",
    "Committed annotation writes by kind, the history's action: create (a new annotation, "
    "imports included), edit, status (review moves), delete, restore.",
    ["action"],
    registry=REGISTRY,
)
SIGNIN_FAILURES = Counter(
    "annotator_signin_failures",
    "Sign-ins refused, by reason: credentials (wrong name or password), throttled (too many "
    "attempts: 429), busy (too many password checks at once: 503).",
    ["reason"],
    registry=REGISTRY,
)


def multiprocess() -> bool:
    """Whether the values are kept in PROMETHEUS_MULTIPROC_DIR for several processes."""
    return bool(os.environ.get(MULTIPROC_ENV))


# ----------------------------------------------------------------------------- requests


def init_app(app: Flask) -> None:
    """Count every request (install before hooks that may answer early, such as readiness),
    count annotation writes, and serve `/metrics`."""
    app.extensions[_COLLECTORS] = []
    app.before_request(_begin)
    app.after_request(_end)
    _listen_for_writes()
    app.register_blueprint(bp)


def add_collector(app: Flask, collector: Collector) -> None:
    """Have `/metrics` also collect `collector` (values read at scrape time: queue depth)."""
    app.extensions[_COLLECTORS].append(collector)


def _begin() -> None:
    g.metrics_started = time.perf_counter()


def _end(response: Response) -> Response:
    started = g.get("metrics_started")
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    method = request.method if request.method in METHODS else "other"
    status = str(response.status_code)
    REQUESTS.labels(route, method, status).inc()
    if started is not None:
        REQUEST_SECONDS.labels(route, method, status).observe(time.perf_counter() - started)
    return response


# ---------------------------------------------------------------------- annotation writes

_PENDING = "annotator.metrics.pending_writes"


def _listen_for_writes() -> None:
    """Count the annotations' revisions each session writes, published when it commits.

    Every annotation write appends a `Revision` (annotations/history.py): one ORM object, or
    many rows inserted at once by an import, which the domain tallies in the session's
    `BULK_WRITTEN`. Listening on the Session class reaches every writer in this process."""
    if event.contains(Session, "after_commit", _committed):
        return
    event.listen(Session, "after_flush", _flushed)
    event.listen(Session, "do_orm_execute", _executed)
    event.listen(Session, "after_commit", _committed)
    event.listen(Session, "after_rollback", _rolled_back)


def _pending(session: Session) -> Tally[str]:
    found: Tally[str] | None = session.info.get(_PENDING)
    if found is None:
        found = session.info[_PENDING] = Tally()
    return found


def _flushed(session: Session, _context: Any) -> None:
    revisions = [obj.action for obj in session.new if isinstance(obj, Revision)]
    if revisions:
        _pending(session).update(revisions)


def _executed(state: ORMExecuteState) -> None:
    table = getattr(state.statement, "table", None)
    if not state.is_insert or getattr(table, "name", None) != Revision.__tablename__:
        return
    given: Any = state.parameters
    rows = [given] if isinstance(given, Mapping) else list(given or ())
    actions = [row.get("action") for row in rows if isinstance(row, Mapping)]
    _pending(state.session).update(str(a) for a in actions if a)


def _committed(session: Session) -> None:
    pending: Tally[str] | None = session.info.pop(_PENDING, None)
    bulk: Tally[str] | None = session.info.pop(BULK_WRITTEN, None)  # an import's, by COPY
    for action, n in ((pending or Tally()) + (bulk or Tally())).items():
        ANNOTATION_WRITES.labels(action).inc(n)


def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(BULK_WRITTEN, None)


# --------------------------------------------------------------------------- the page

bp = Blueprint("metrics", __name__)


class _Local(Collector):
    """This process's values (no PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self) -> Iterable[Any]:
        return REGISTRY.collect()


def _scrape(collectors: Iterable[Collector]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_Local())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), str(token).encode())


@bp.get("/metrics")
@readiness.exempt
def metrics() -> Response:
    """The Prometheus text format; needs the metrics token when one is configured."""
    if not _authorised():
        response = jsonify(
            {
                "error": "unauthorized",
                "message": "send Authorization: Bearer <ANNOTATOR_METRICS_TOKEN>",
                "details": None,
            }
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = _scrape(current_app.extensions[_COLLECTORS])
    response = Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
