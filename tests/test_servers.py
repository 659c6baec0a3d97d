"""The tests' own live server: a client that resets its connection while a file is being
sent leaves no file open (werkzeug's handler skipped the close when draining the dropped
socket raised; a later test then failed on the ResourceWarning)."""

from __future__ import annotations

import gc
import socket
import struct
import time
import warnings
from pathlib import Path

from flask import Flask, Response, send_file
from werkzeug.serving import WSGIRequestHandler

from tests.servers import in_thread, wsgi_server


def _unclosed_after_resets(folder: Path, handler: type[WSGIRequestHandler] | None) -> list[str]:
    """The ResourceWarnings left by 20 clients that ask for a file and reset at once."""
    script = folder / "script.js"
    script.write_text("// a script\n" * 400)
    app = Flask(__name__)

    @app.get("/script.js")
    def slow_file() -> Response:
        return send_file(script)

    server = wsgi_server(app) if handler is None else wsgi_server(app, handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with in_thread(server) as url:
            port = int(url.rsplit(":", 1)[1])
            for _ in range(20):
                client = socket.create_connection(("127.0.0.1", port))
                client.sendall(b"GET /script.js HTTP/1.1\r\nHost: test\r\n\r\n")
                client.recv(1)  # the answer has begun: werkzeug now drains the socket
                # close with a reset (linger 0), as a browser does for a page it closed
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
            time.sleep(0.2)
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


def test_werkzeugs_own_handler_leaves_the_file_open(tmp_path: Path) -> None:
    """The case reproduced, so that the next test can fail."""
    assert any(
        "script.js" in message for message in _unclosed_after_resets(tmp_path, WSGIRequestHandler)
    )


def test_a_reset_connection_leaves_no_file_open(tmp_path: Path) -> None:
    assert _unclosed_after_resets(tmp_path, None) == []
