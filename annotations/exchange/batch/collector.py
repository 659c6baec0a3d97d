"""Python's garbage collector paused while an import builds and stores its features.

An import of 100,000 features makes millions of small objects (dicts, strings, geometries)
that live until it ends; each time the young generation fills, the collector walks them
again, about 6 s of such an import's 26 s. None of them are cycles that need collecting
before the import ends, so the automatic collection is switched off, and switched back on
when the last import running in this process ends (imports in two threads at once leave it
as it was). An explicit gc.collect() still works meanwhile."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_running = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()
