"""Real servers for tests, run in a thread on a free loopback port."""

from __future__ import annotations

import contextlib
import http.server
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

#: where `_remembering` keeps a request's response body for `_ClosingHandler`
_BODY = "tests.servers.body"


@contextlib.contextmanager
def in_thread(server: socketserver.BaseServer) -> Iterator[str]:
    """Serve `server` (bound to 127.0.0.1, port 0) in a thread; yields its base URL, and
    shuts it down however the test ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[index]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Quiet(http.server.BaseHTTPRequestHandler):
    """A request handler that keeps the test's output clean (no line per request)."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on a free loopback port, in a thread; yields the base URL."""
    with in_thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as url:
        yield url


class _ClosingHandler(WSGIRequestHandler):
    """werkzeug's request handler, closing the response body when the client drops the
    connection. werkzeug's own handler closes it in a `finally` that first drains the
    socket, and a client that resets the connection (a page closed while its scripts
    load) makes that drain raise, so a file being sent stayed open until the garbage
    collector found it (a ResourceWarning in whichever test ran then)."""

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        body = (environ or {}).get(_BODY)
        if body is not None and hasattr(body, "close"):
            body.close()


def _remembering(app: Any) -> Any:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        body = app(environ, start_response)
        environ[_BODY] = body
        return body

    return wsgi


def wsgi_server(app: Any, handler: type[WSGIRequestHandler] = _ClosingHandler) -> BaseWSGIServer:
    """`app` behind werkzeug's threaded server on a free loopback port (not yet serving:
    hand it to `in_thread`)."""
    return make_server("127.0.0.1", 0, _remembering(app), threaded=True,
                       request_handler=handler)  # fmt: skip
