"""Hash a file while another thread writes it front to back: the SQLite copy of a backup.

SQLite's backup API, in one step into a new file, writes every page but the first exactly
once and in page order: the copy's pages go into the destination's page cache in order, a
full cache spills its oldest page (the lowest) to the file, and the commit writes what is
left, sorted; only page 1 (which the destination's b-tree holds while the copy runs) is
written last, and written again when the copy leaves WAL mode. So whatever lies below the
file's growing end is final, and can be hashed as it appears: the sha256 of the copy costs
no pass of its own (it was 10 s of a 30 s backup of an 8.4 GB database).

`Following` hashes from an offset (the page size) to the end while the writer works, a
little behind the end (`MARGIN`: a page being written may be half there); `finish()` hashes
the rest once the writer is done. The caller hashes the first page itself, last, and checks
that the file is as long as what was hashed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path

from annotations.backup.manifest import CHUNK

#: how far behind the file's end the hashing stays while the writer works
MARGIN = 1 << 20
#: how long the hashing waits for the file to grow
POLL_S = 0.005
#: the hashing thread's niceness: below the server's workers, which it must not slow
NICE = 10
_READ = 8 * CHUNK


class Following:
    """The sha256 of `path` from byte `start` on, computed in a thread of its own while
    another thread writes the file in order."""

    def __init__(self, path: Path, start: int) -> None:
        self.start = start
        self._fd = os.open(path, os.O_RDONLY)
        self._digest = hashlib.sha256()
        self._position = start
        self._written = threading.Event()  # the writer is done
        self._abandoned = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="backup-follow", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # the hashing keeps up with SQLite with time to spare: it yields the CPU to the
        # server's workers (tile requests) rather than slow them (Linux: per thread)
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        buffer = memoryview(bytearray(_READ))
        try:
            while not self._abandoned:
                finished = self._written.is_set()  # before the size: then the size is final
                end = os.fstat(self._fd).st_size
                self._hash_to(end if finished else end - MARGIN, buffer)
                if finished:
                    return
                self._written.wait(POLL_S)
        except BaseException as exc:  # handed to finish()
            self._error = exc

    def _hash_to(self, limit: int, buffer: memoryview) -> None:
        while self._position < limit and not self._abandoned:
            count = os.preadv(
                self._fd, [buffer[: min(len(buffer), limit - self._position)]], self._position
            )
            if not count:
                raise OSError(f"the copy being hashed shrank below {self._position} bytes")
            self._digest.update(buffer[:count])
            self._position += count

    def finish(self) -> tuple[int, str]:
        """Once the writer is done: the size and sha256 of the bytes from `start` on."""
        self._written.set()
        self._thread.join()
        os.close(self._fd)
        if self._error is not None:
            raise self._error
        return self._position - self.start, self._digest.hexdigest()

    def abandon(self) -> None:
        """Stop hashing (the copy failed) and let go of the file."""
        self._abandoned = True
        self._written.set()
        self._thread.join()
        os.close(self._fd)
