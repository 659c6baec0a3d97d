"""A full disk, recognised in each of the forms it reaches the app.

The operating system says ENOSPC (or EDQUOT, a quota); SQLite says SQLITE_FULL, "database
or disk is full"; PostgreSQL says SQLSTATE 53100 (disk_full); SQLAlchemy wraps the last
two, and the domain code wraps what it catches (`raise ... from exc`). So the whole chain
of causes is searched. Nothing is half-written when this happens: database writes are
transactions, and files are written beside their place and moved in only when complete.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

#: what a user is told, in the API (507 Insufficient Storage) and on the command line
MESSAGE = (
    "the server is out of disk space: nothing was saved. Free some space on the disk that "
    "holds the data folder (or the database), then try again"
)
#: OSError numbers meaning "no room": the disk is full, or the user's quota is spent
ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: SQLite's primary result code SQLITE_FULL
SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE disk_full (class 53, insufficient resources)
POSTGRES_DISK_FULL = "53100"
#: SQLite's SQLITE_IOERR: what opening a database on a full disk gives (its shared-memory
#: index cannot grow), where writes give SQLITE_FULL
SQLITE_IOERR = 10
#: below this many free bytes, an I/O error from SQLite on that disk counts as "full"
NEARLY_FULL = 1 << 20
#: the folders holding SQLite databases this process opened (see `watch`)
_WATCHED: set[Path] = set()


def watch(folder: Path) -> None:
    """Note a folder that holds an SQLite database: an SQLite I/O error while its disk has
    (almost) no free bytes is then a full disk too."""
    _WATCHED.add(folder)


def is_out_of_space(exc: BaseException | None) -> bool:
    """Whether `exc`, or anything that caused it, says that the disk is full."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _says_full(current):
            return True
        # SQLAlchemy keeps the driver's error as `orig`; Python's chain as cause and context
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


def _says_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in ERRNOS:
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code == SQLITE_FULL or "disk is full" in str(exc):
            return True
        io_error = code == SQLITE_IOERR or "disk I/O error" in str(exc)
        return io_error and any(_free_bytes(folder) < NEARLY_FULL for folder in _WATCHED)
    # psycopg's DiskFull and any driver error carrying the SQLSTATE, without importing one
    return getattr(exc, "sqlstate", None) == POSTGRES_DISK_FULL or (
        getattr(exc, "pgcode", None) == POSTGRES_DISK_FULL
    )


def _free_bytes(folder: Path) -> int:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return NEARLY_FULL
    return stats.f_bavail * stats.f_frsize
