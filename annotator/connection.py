"""Whether the client of the current request has closed its connection.

A long request (an export) does its work before it writes a byte of the answer, so a
client that leaves is not noticed by a failed write. Instead the request asks the socket:
both gunicorn (`gunicorn.socket`) and Werkzeug's server (`werkzeug.socket`) put the
client's socket in the WSGI environ. A poll with no wait says whether the peer has hung
up (POLLRDHUP: it sent its FIN; POLLHUP/POLLERR: reset). Bytes waiting to be read (a
pipelined request) are not a hang-up. Behind a reverse proxy this sees the proxy's
connection, which nginx and its kind close when their client leaves. Under waitress
(`annotator serve`) the channel's socket is reached through its `client_disconnected`.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable, Mapping
from typing import Any

_HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL | getattr(select, "POLLRDHUP", 0)


def client_gone(environ: Mapping[str, Any]) -> Callable[[], bool]:
    """A check that says True once the request's client has gone away (always False when
    the server does not expose the socket, e.g. Flask's test client)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    # waitress: its own flag (set when its loop reads the end of the stream), and the
    # channel's socket to ask directly, since the loop does not read while a task runs
    waitress = environ.get("waitress.client_disconnected")
    if sock is None and waitress is not None:
        sock = getattr(getattr(waitress, "__self__", None), "socket", None)
    if sock is None:
        return lambda: False

    def gone() -> bool:
        if waitress is not None and waitress():
            return True
        try:
            fd = int(sock.fileno())  # asked each time: -1 once the server closed it
        except (OSError, ValueError):
            return True
        if fd < 0:
            return True
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI | _HANGUP)
        try:
            events = poller.poll(0)
        except OSError:
            return True
        flags = events[0][1] if events else 0
        if flags & _HANGUP:
            return True
        if flags & select.POLLIN and not hasattr(select, "POLLRDHUP"):
            return _peek_end(sock)  # no POLLRDHUP on this system: look for the end of stream
        return False

    return gone


def _peek_end(sock: Any) -> bool:
    try:
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"")
    except (BlockingIOError, InterruptedError, ValueError):
        return False  # nothing to read after all, or an SSL socket (which cannot peek)
    except OSError:
        return True
