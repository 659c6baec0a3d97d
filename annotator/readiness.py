"""The web app on a database `annotator init` has not made: one clear 503, not 500s.

`annotator serve` refuses to start on such a database (one line, exit 1). A server started
another way (gunicorn annotator.wsgi:app) answers every request with a 503 that says what
to do, and checks again on the next request, so it serves as soon as `annotator init` has
run; once the schema is found ready it is not looked at again.

Views marked `exempt` (health, readiness and metrics: annotator/health.py, metrics.py) are
served all the same: a probe must hear why the app is not ready, not the 503 itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, request

from annotations import disk
from annotations.schema import SchemaNotReady, check_ready
from annotator import services
from annotator.errors import OUT_OF_SPACE, error_response

log = logging.getLogger(__name__)
READY = "annotator.schema_ready"
F = TypeVar("F", bound=Callable[..., Any])


def exempt(view: F) -> F:
    """Serve `view` even while the schema is not ready."""
    view.serves_before_init = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    app.extensions[READY] = False

    @app.before_request
    def _schema_ready() -> Response | None:
        if app.extensions[READY]:
            return None
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "serves_before_init", False):
            return None
        try:
            check_ready(services.database(app))
        except SchemaNotReady as exc:
            log.error("not serving: %s", exc.message)
            if disk.is_out_of_space(exc):  # a new process cannot open SQLite on a full disk
                return error_response(*OUT_OF_SPACE, disk.MESSAGE)
            response = error_response(503, "database_not_ready", exc.message)
            response.headers["Retry-After"] = "30"
            return response
        app.extensions[READY] = True
        return None
