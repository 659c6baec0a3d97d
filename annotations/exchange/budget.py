"""What one export may spend: chips, bytes on disk and seconds, and a way to call it off.

An export over HTTP is given a `Budget`; the writers call `check` as they go (every batch
of annotations, every image chip), so an export that would run too long, write too much
or whose client has gone away stops within one batch or chip, raising `ExportStopped`.
The caller removes what was written (see `annotator/api/exports.py`). The CLI's exports have
no budget: they run as long as the person at the terminal lets them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from annotations.errors import AnnotationError

#: how often (seconds) a folder's size is measured when the writer does not count bytes
MEASURE_EVERY = 0.5


class ExportStopped(AnnotationError):
    """The export was stopped before it finished: a budget ran out or it was cancelled.
    `reason` is "chips", "bytes", "seconds" or "cancelled"."""

    def __init__(self, message: str, reason: str, details: object = None) -> None:
        super().__init__(message, details)
        self.reason = reason


class TooManyChips(AnnotationError):
    """The chip settings would cut more chips than the budget allows; said before any."""


@dataclass
class Budget:
    """Limits for one export. `cancelled` is asked at every check (e.g. whether the
    client closed its connection); `folder` is where the export writes, measured now and
    then for formats whose writer (GDAL) does not report its bytes."""

    max_chips: int | None = None
    max_bytes: int | None = None
    max_seconds: float | None = None
    cancelled: Callable[[], bool] | None = None
    folder: Path | None = None
    started: float = field(default_factory=time.monotonic)
    chips: int = 0
    counted_bytes: int = 0  # bytes the writer reported (image chips)
    measured_bytes: int = 0  # the folder's size when last measured
    _measured_at: float = -1.0

    @property
    def bytes(self) -> int:
        return max(self.counted_bytes, self.measured_bytes)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def check_chip_plan(self, planned: int, size: int, *, exact: bool = True) -> None:
        """Refuse, before any chip is cut, settings that would cut more than the limit
        (`exact`: the plan is the count, else the most it can be)."""
        if self.max_chips is not None and planned > self.max_chips:
            most = "" if exact else "up to "
            raise TooManyChips(
                f"these settings would cut {most}{planned:,} chips of {size} px; an export over "
                f"HTTP cuts at most {self.max_chips:,} (ANNOTATOR_EXPORT_MAX_CHIPS): use a "
                "larger chip_size, leave out empty chips, narrow the filters, or use "
                "'annotator export'",
                details={"chips": planned, "limit": self.max_chips, "chip_size": size},
            )

    def add_chip(self, size: int) -> None:
        """One chip of `size` bytes written; then `check`."""
        self.chips += 1
        self.counted_bytes += size
        if self.max_chips is not None and self.chips > self.max_chips:
            raise self._stopped(
                "chips", f"it cut more than {self.max_chips:,} chips (ANNOTATOR_EXPORT_MAX_CHIPS)"
            )
        self.check()

    def check(self) -> None:
        """Raise `ExportStopped` if the client went away or a budget ran out."""
        if self.cancelled is not None and self.cancelled():
            raise ExportStopped(
                "the export was cancelled: the client went away",
                "cancelled",
                {"chips": self.chips, "bytes": self.bytes},
            )
        if self.max_seconds is not None and self.elapsed() > self.max_seconds:
            raise self._stopped(
                "seconds",
                f"it ran for more than {self.max_seconds:g} s (ANNOTATOR_EXPORT_MAX_SECONDS)",
            )
        if self.max_bytes is not None:
            self._measure()
            if self.bytes > self.max_bytes:
                raise self._stopped(
                    "bytes",
                    f"it wrote more than {_megabytes(self.max_bytes)} (ANNOTATOR_EXPORT_MAX_MB)",
                )

    def check_file(self, path: Path) -> None:
        """The finished file (the one sent) within the byte budget."""
        self.measured_bytes = path.stat().st_size
        self._measured_at = time.monotonic()
        self.check()

    def _measure(self) -> None:
        now = time.monotonic()
        if self.folder is None or (
            self._measured_at >= 0 and now - self._measured_at < MEASURE_EVERY
        ):
            return
        self._measured_at = now
        self.measured_bytes = folder_size(self.folder)

    def _stopped(self, reason: str, why: str) -> ExportStopped:
        return ExportStopped(
            f"the export was stopped: {why}; narrow the filters, choose larger chips, or use "
            "'annotator export' on the server",
            reason,
            {"chips": self.chips, "bytes": self.bytes, "seconds": round(self.elapsed(), 1)},
        )


def folder_size(folder: Path) -> int:
    """Bytes of the files under `folder` (0 if it is gone)."""
    total = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def _megabytes(value: int) -> str:
    return f"{value / (1024 * 1024):g} MB"
