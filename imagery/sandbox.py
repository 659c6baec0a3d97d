"""Ingest one file in a child process with CPU, memory and wall-time limits.

A hostile GeoTIFF can make GDAL spend minutes of CPU or gigabytes of memory. Run in the
parent (a gunicorn worker, a job consumer, the command line), that would take the whole
process down with it. So `ingest_isolated` hands the child only paths and numbers, and the
child sets its own limits before it reads the file:

- memory: RLIMIT_AS (address space, no cgroup needed), with GDAL's block cache set to
  seven thirty-seconds of it (GDAL_CACHEMAX: 896 MB of the default 4 GB) and at most eight
  malloc arenas (64 MB of address space each), so the cache and the thread arenas fit
  under the limit and an over-large read fails cleanly instead;
- CPU: RLIMIT_CPU (the kernel sends SIGXCPU at the limit, SIGKILL two seconds later);
- wall time: the parent kills the child's process group after `Limits.wall_s`, or at once
  when its `check` raises (a job cancelled, or past its kind's time limit).

The child writes only inside the folder it is given (`workspace`: the COG, rio-cogeo's and
GDAL's temporary files) and sends back the facts, pickled and read back with an unpickler
that builds nothing but plain values and imagery's own dataclasses and errors. Every ending
the parent sees becomes an ordinary `ImageryError` (or OSError for a full disk): one line.

Children are forked from a forkserver that has already imported GDAL (the first ingest of a
process pays about a second for it, the next ones a few milliseconds). A child dies with its
forkserver (PR_SET_PDEATHSIG), which ends with the process that started it, and it watches
that process too, so a killed parent leaves no child running. Its folder, named
`.ingest-<host>-<pid>-<random>` after that parent, is removed by `remove_leftovers` (run at
every worker start and every import) once no process of that pid lives on this host.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import hashlib
import importlib.machinery
import io
import logging
import math
import multiprocessing
import os
import pickle
import re
import resource
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Interleaving
from rasterio.env import set_gdal_config

from imagery.errors import ImageryError, ImageTooLarge, UnreadableImage
from imagery.georef.warp import Height
from imagery.header import nothing_found, read_header
from imagery.ingest import DEFAULT_MAX_PIXELS, ImageFacts, ingest, open_geotiff

log = logging.getLogger(__name__)

#: names of the folders ingests work in, inside the store
PREFIX = ".ingest-"
#: how a COG written before its file's sha256 is known is named, until it is
PROVISIONAL = "unhashed-"
#: how often the parent looks at the child and calls its `check`
POLL_S = 0.2
#: a leftover whose name carries no pid (made before this scheme) goes after this long
LEGACY_AFTER_S = 3600.0
_NAME = re.compile(r"^\.ingest-(?P<host>.+)-(?P<pid>\d+)-[A-Za-z0-9_]+$")
#: header limits (see `check_structure`)
MAX_BANDS = 64
MAX_BLOCK_MB = 64
MAX_BLOCKS = 4_000_000
MAX_OVERVIEWS = 20
MAX_RATIO = 1000
RATIO_FROM_MB = 256
_PR_SET_PDEATHSIG = 1
_M_ARENA_MAX = -8
#: malloc arenas in an ingest's child: one a thread (its few threads: the reader and
#: GDAL's compressors), as glibc would choose, with a bound on their address space. With
#: two a 2-gigapixel ingest and a 1 GB cache reached 1,879 MB resident; mapping every block
#: instead (a fixed 128 kB mmap threshold) kept 896 MB of cache at 1,436 MB but took 1.49x
#: `rio cogeo create`'s time (page faults, and unmapping under threads). Measured on a
#: quiet machine, docs/benchmarks.md, "Ingest at scale"
ARENAS = 8


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one child may use (ANNOTATOR_INGEST_MEMORY_MB, _CPU_S and _WALL_S)."""

    memory_mb: int = 4096
    cpu_s: int = 3600
    wall_s: float = 7200.0

    @property
    def cache_mb(self) -> int:
        """GDAL's block cache: seven thirty-seconds of the memory (896 MB of 4 GB). For a
        2-gigapixel ingest, an eighth took 1.2x `rio cogeo create`'s time (which has 5 % of
        this machine's 24 GB); a quarter came to 1.01-1.09x but 1,690-1,700 MB resident,
        over issue 12's 1.5 GB (see ARENAS)."""
        return max(16, self.memory_mb * 7 // 32)


#: what reading a file's header for the upload form may use (read_header_isolated)
HEADER_LIMITS = Limits(memory_mb=1024, cpu_s=10, wall_s=20.0)


class OverLimit(ImageTooLarge):
    """The child used more memory, CPU or time than its limits allow."""


def check_structure(path: Path, name: str) -> None:
    """Refuse header bombs from the header alone, before any pixel is read (the child runs
    this first, so each costs a few milliseconds of CPU):

    - more than MAX_BANDS (64) bands: the most any multispectral sensor delivers is 16
      (WorldView-3) and the workspace shows three; a hyperspectral cube of hundreds of
      bands is no image to annotate, and a 3,000-band file made a 196 MB COG;
    - a block (one tile or strip of all the bands it holds) over MAX_BLOCK_MB (64 MB), or
      more than MAX_BLOCKS (4,000,000) blocks: GDAL reads whole blocks, and keeps an entry
      per block; a 2-gigapixel scene in 256-pixel tiles has 30,518 per band;
    - more than MAX_OVERVIEWS (20) overview levels: halving a 2-gigapixel scene down to one
      pixel takes 16;
    - pixels that cannot fit in the file: over RATIO_FROM_MB (256 MB) of declared pixels
      in a file MAX_RATIO (1,000) times smaller. Lossless codecs reach 2-10 times on real
      imagery and DEFLATE cannot pass 1,032; only sparse or empty tiles can, and GDAL
      makes every one of their pixels (a 198 KB file declaring 40,000 x 40,000 pixels
      cost 84 s of CPU).
    """
    size = path.stat().st_size
    with contextlib.ExitStack() as stack:
        try:
            dataset = stack.enter_context(open_geotiff(path, name))
        except ImageryError:
            return  # not a raster at all: `ingest` says so in its own words
        bands, width, height = dataset.count, dataset.width, dataset.height
        if bands > MAX_BANDS:
            raise ImageTooLarge(
                f"{name} has {bands:,} bands, over the limit of {MAX_BANDS}; "
                "keep the bands to be seen (gdal_translate -b) and import that"
            )
        itemsize = max((np.dtype(d).itemsize for d in dataset.dtypes), default=1)
        block_y, block_x = dataset.block_shapes[0] if dataset.block_shapes else (height, 1)
        per_block = bands if dataset.interleaving == Interleaving.pixel else 1
        block_mb = block_x * block_y * per_block * itemsize / 2**20
        if block_mb > MAX_BLOCK_MB:
            raise ImageTooLarge(
                f"{name} is stored in blocks of {block_x} x {block_y} pixels "
                f"({block_mb:,.0f} MB each), over the limit of {MAX_BLOCK_MB} MB; "
                "write it tiled (gdal_translate -co TILED=YES) and import that"
            )
        blocks = math.ceil(width / block_x) * math.ceil(height / block_y) * bands // per_block
        if blocks > MAX_BLOCKS:
            raise ImageTooLarge(
                f"{name} is stored in {blocks:,} blocks of {block_x} x {block_y} pixels, "
                f"over the limit of {MAX_BLOCKS:,}; write it with 256-pixel tiles "
                "(gdal_translate -co TILED=YES) and import that"
            )
        levels = len(dataset.overviews(1))
        if levels > MAX_OVERVIEWS:
            raise ImageTooLarge(
                f"{name} declares {levels} overview levels, over the limit of {MAX_OVERVIEWS}; "
                "remove them (gdal_translate without -co COPY_SRC_OVERVIEWS) and import that"
            )
        declared = width * height * bands * itemsize
        if declared > RATIO_FROM_MB * 2**20 and declared > MAX_RATIO * size:
            raise ImageTooLarge(
                f"{name} declares {width:,} x {height:,} pixels ({declared / 2**30:,.1f} GB) "
                f"in a file of {size / 2**10:,.0f} KB, more than {MAX_RATIO:,} times smaller: "
                "its tiles are mostly empty or sparse; refused"
            )


def workspace(store: Path) -> Path:
    """A new folder inside `store` for one import, named after this host and process."""
    store.mkdir(parents=True, exist_ok=True)
    prefix = f"{PREFIX}{socket.gethostname()}-{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=store))


def remove_leftovers(store: Path) -> list[str]:
    """Remove the `.ingest-*` folders (and files) of processes of this host that are gone,
    and those of the old naming older than an hour. Returns the names removed."""
    removed: list[str] = []
    host = socket.gethostname()
    try:
        entries = [e for e in os.scandir(store) if e.name.startswith(PREFIX)]
    except OSError:
        return removed
    for entry in entries:
        match = _NAME.match(entry.name)
        if match:
            if match["host"] != host or _alive(int(match["pid"])):
                continue
        else:
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < LEGACY_AFTER_S:
                    continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(entry.name)
    if removed:
        log.warning("removed %d leftover(s) of killed ingests in %s", len(removed), store)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ingest_isolated(
    path: Path,
    work: Path,
    *,
    original_filename: str | None = None,
    sha256: str | None = None,
    captured: datetime | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    limits: Limits | None = None,
    check: Callable[[], None] | None = None,
    height: Height | None = None,
    on_hashed: Callable[[str], None] | None = None,
) -> ImageFacts:
    """`imagery.ingest.ingest` of `path` in a child limited by `limits`; the COG is left in
    `work` (the caller moves it into the store). `check` is called while the child runs;
    whatever it raises kills the child's process group at once and goes on up.

    With no `sha256`, the file is hashed in a thread of this process while the child writes
    the COG (the one read overlapping the other, not a whole read before it: issue 12); the
    child names its COG provisionally, and it is renamed `<sha256>.tif` here. `on_hashed` is
    called with the sha256 as soon as it is known, the child perhaps still running: what it
    raises stops the child as `check`'s does (a file already catalogued)."""
    limits = limits or Limits()
    name = original_filename or path.name
    hashing = None if sha256 is not None else _Hashing(Path(path))
    job = {
        "path": str(Path(path).absolute()),
        "work": str(Path(work).absolute()),
        "name": name,
        "sha256": sha256 or f"{PROVISIONAL}{secrets.token_hex(8)}",
        "captured": captured,
        "max_pixels": max_pixels,
        "height": height,  # the ground height for RPCs (imagery.georef.warp)
        "limits": limits,
        "parent": os.getpid(),
    }
    if hashing is None:
        return _answer(name, *_run_child(job, name, limits, check), limits)
    hashing.start()
    try:
        facts = _answer(
            name, *_run_child(job, name, limits, hashing.watching(check, on_hashed)), limits
        )
        return hashing.named(facts, Path(work).absolute() / f"{job['sha256']}.tif", on_hashed)
    except BaseException:
        hashing.stop()  # the ingest failed or was stopped: its hash is of no use
        raise


def _answer(name: str, payload: bytes | None, code: int | None, limits: Limits) -> ImageFacts:
    """The facts the child sent, or its failure as an ImageryError (OSError: a full disk)."""
    if payload is None:
        error = _died(name, code, limits)
        logging.getLogger("imagery.ingest").warning("ingest of %s failed: %s", name, error)
        raise error
    outcome, records = _Loader(io.BytesIO(payload)).load()
    _replay(records)
    return _result(name, outcome, limits)


class _Hashing(threading.Thread):
    """The sha256 of a file, read in 1 MiB chunks in a thread while the child writes its COG
    (hashlib and file reads let go of the GIL, so this process still watches the child)."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="ingest-sha256", daemon=True)
        self.path = path
        self.digest: str | None = None
        self.error: OSError | None = None
        self._stop_reading = threading.Event()
        self._told = False

    def run(self) -> None:
        digest = hashlib.sha256()
        try:
            with open(self.path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    if self._stop_reading.is_set():
                        return
                    digest.update(chunk)
        except OSError as exc:
            self.error = exc
            return
        self.digest = digest.hexdigest()

    def stop(self) -> None:
        """Stop reading at the next chunk (the thread then ends with no digest)."""
        self._stop_reading.set()

    def watching(
        self, check: Callable[[], None] | None, on_hashed: Callable[[str], None] | None
    ) -> Callable[[], None]:
        """`check`, then `on_hashed` once, as soon as the hash is known."""

        def watch() -> None:
            if check is not None:
                check()
            if self.digest is not None and not self._told:
                self._told = True
                if on_hashed is not None:
                    on_hashed(self.digest)

        return watch

    def named(
        self, facts: ImageFacts, provisional: Path, on_hashed: Callable[[str], None] | None
    ) -> ImageFacts:
        """The facts and the COG under the file's sha256, once the hash has ended (the child
        may have ended first); `on_hashed` told if it was not yet. The COG is removed if
        that raises, or the file could not be read."""
        try:
            self.join()
            if self.error is not None:
                raise self.error
            if self.digest is None or facts.cog_path != provisional:
                raise UnreadableImage(f"the ingest of {facts.original_filename} went astray")
            if not self._told:
                self._told = True
                if on_hashed is not None:
                    on_hashed(self.digest)
            final = provisional.with_name(f"{self.digest}.tif")
            os.replace(provisional, final)
        except BaseException:
            provisional.unlink(missing_ok=True)
            raise
        return dataclasses.replace(facts, sha256=self.digest, cog_path=final)


def read_header_isolated(path: Path, limits: Limits | None = None) -> dict[str, Any]:
    """`imagery.header.read_header` in a child, under HEADER_LIMITS (or `limits`, where
    less): a hostile header costs a child, never the caller's process, and a child that
    fails or overruns reads as a header that says nothing."""
    allowed = limits or HEADER_LIMITS
    limits = Limits(
        memory_mb=min(allowed.memory_mb, HEADER_LIMITS.memory_mb),
        cpu_s=min(allowed.cpu_s, HEADER_LIMITS.cpu_s),
        wall_s=min(allowed.wall_s, HEADER_LIMITS.wall_s),
    )
    job = {
        "task": "header",
        "path": str(Path(path).absolute()),
        "limits": limits,
        "parent": os.getpid(),
        "work": tempfile.gettempdir(),
    }
    try:
        payload, _code = _run_child(job, path.name, limits, None)
    except OverLimit:
        payload = None
    if payload is not None:
        outcome, _records = _Loader(io.BytesIO(payload)).load()
        if outcome[0] == "ok" and isinstance(outcome[1], dict):
            return outcome[1]
    log.warning("the header of %s could not be read within the limits", path.name)
    return nothing_found()


def _run_child(
    job: dict[str, Any], name: str, limits: Limits, check: Callable[[], None] | None
) -> tuple[bytes | None, int | None]:
    """Run `_child` on `job` until it answers, dies, passes `limits.wall_s` (OverLimit) or
    `check` raises; the child and its process group are killed and reaped however it ends.
    Returns what it sent (None if nothing) and how it ended."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, job), name=job.get("task", "ingest"))
    process.start()
    send.close()
    deadline = time.monotonic() + limits.wall_s
    payload: bytes | None = None
    try:
        while True:
            if receive.poll(POLL_S):
                with contextlib.suppress(EOFError, OSError):
                    payload = receive.recv_bytes()
                break
            if check is not None:
                check()
            if time.monotonic() > deadline:
                raise OverLimit(
                    f"{name} took more than {limits.wall_s:g} s to ingest; refused "
                    "(ANNOTATOR_INGEST_WALL_S)"
                )
        process.join(5.0)
    finally:
        code = _kill(process)
        receive.close()
    return payload, code


def _kill(process: multiprocessing.process.BaseProcess) -> int | None:
    """Kill the child and anything it started (its own process group), reap it, and
    return how it ended (its exit code, or minus the signal that ended it)."""
    if process.pid is not None and process.exitcode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, signal.SIGKILL)
    process.join()
    code = process.exitcode
    with contextlib.suppress(ValueError):
        process.close()
    return code


def _died(name: str, code: int | None, limits: Limits) -> ImageryError:
    if code == -signal.SIGXCPU:
        return OverLimit(
            f"{name} used more than {limits.cpu_s} s of CPU while being ingested; refused "
            "(ANNOTATOR_INGEST_CPU_S)"
        )
    how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
    return UnreadableImage(
        f"the ingest of {name} stopped ({how}) before it ended; refused: "
        "the file may be corrupt or hostile"
    )


def _result(name: str, outcome: tuple[Any, ...], limits: Limits) -> ImageFacts:
    kind = outcome[0]
    if kind == "ok" and isinstance(outcome[1], ImageFacts):
        return outcome[1]
    if kind == "memory":
        return _raise(
            OverLimit(
                f"{name} used more than {limits.memory_mb} MB of memory while being "
                "ingested; refused (ANNOTATOR_INGEST_MEMORY_MB)"
            )
        )
    if kind == "refused":
        return _raise(_error(str(outcome[1]), str(outcome[2])))
    if kind == "oserror":
        raise OSError(int(outcome[1]), str(outcome[2]))
    return _raise(UnreadableImage(f"the ingest of {name} failed: {str(outcome[1])[:200]}; refused"))


def _raise(error: ImageryError) -> ImageFacts:
    raise error


def _error(class_name: str, message: str) -> ImageryError:
    """The child's error again, as the same class of imagery error where there is one."""
    pending: list[type[ImageryError]] = [ImageryError]
    while pending:
        cls = pending.pop()
        if cls.__qualname__ == class_name:
            with contextlib.suppress(Exception):
                return cls(message)
        pending.extend(cls.__subclasses__())
    return ImageryError(message)


class _Loader(pickle.Unpickler):
    """Unpickles only plain values, paths, times and imagery's dataclasses: a child that a
    file took over cannot make the parent run anything."""

    ALLOWED = {
        ("pathlib", "PosixPath"),
        ("pathlib", "Path"),
        ("datetime", "datetime"),
        ("datetime", "timezone"),
        ("datetime", "timedelta"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        if module.startswith("imagery.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        raise pickle.UnpicklingError(f"the ingest process sent a {module}.{name}")


class _Keep(logging.Handler):
    """Keeps the child's log records (message, level, extras) for the parent to log."""

    SKIP = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        extra = {
            k: v
            for k, v in vars(record).items()
            if k not in self.SKIP and isinstance(v, (str, int, float, type(None)))
        }
        self.records.append((record.name, record.levelno, record.getMessage(), extra))


def _replay(records: object) -> None:
    if not isinstance(records, list):
        return
    for logger, level, message, extra in records:
        logging.getLogger(str(logger)).log(int(level), "%s", message, extra=dict(extra))


def prepare() -> None:
    """Start the forkserver the children are forked from, GDAL imported and warmed up, now
    rather than at the first ingest (a job worker calls this as it starts, in a thread: an
    upload's job then starts its child at once; issue 12)."""
    _context()
    try:
        forkserver.ensure_running()
    except Exception:  # the first ingest tries again, and says what fails
        log.exception("the ingest processes' forkserver could not be started")


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["imagery.sandbox"])
    main = sys.modules["__main__"]
    name = getattr(getattr(main, "__spec__", None), "name", None)
    path = getattr(main, "__file__", None)
    if name is not None:
        os.environ[_MAIN_ENV] = f"name:{name}"
    elif path is not None:
        os.environ[_MAIN_ENV] = f"path:{os.path.normpath(os.path.abspath(path))}"
    return context


#: how the forkserver learns the main module of the process that starts it (see _as_main)
_MAIN_ENV = "ANNOTATOR_SANDBOX_MAIN"


def _as_main() -> None:
    """In the forkserver: make its `__main__` pass for the starting process's own, so that a
    child does not run that process's main script again before it ingests.

    multiprocessing sends each child the parent's main module (its path, for a console
    script such as `annotator`), and the child runs it again as `__mp_main__` unless its
    own `__main__` already is that module. The forkserver was meant to have run it once
    for all its children, but Python 3.11's forkserver never receives the path (it asks
    for a `main_path` that `get_preparation_data` names `init_main_from_path`), so every
    child of `annotator images import`, or of a job worker, imported the whole app again:
    some 3 s of CPU and 100 MB each. A child needs nothing from it: its target and
    arguments are imagery's own."""
    main = os.environ.pop(_MAIN_ENV, "")
    kind, _, value = main.partition(":")
    module = sys.modules["__main__"]
    if kind == "path":
        module.__file__ = value
    elif kind == "name":
        module.__spec__ = importlib.machinery.ModuleSpec(value, None)


def _about_memory(exc: BaseException) -> bool:
    """Whether an error, or one it was raised from, is GDAL or numpy running out of memory
    (GDAL's text is often only in the error its "See previous exception" points to)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, MemoryError) or "OutOfMemory" in type(seen).__name__:
            return True
        if re.search(r"out of memory|cannot allocate|unable to allocate", str(seen), re.I):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _check_logged(path: Path, name: str) -> None:
    """`check_structure`, its refusal logged as ingest's own refusals are."""
    started = time.perf_counter()
    try:
        check_structure(path, name)
    except ImageryError as exc:
        seconds = round(time.perf_counter() - started, 3)
        logging.getLogger("imagery.ingest").warning(
            "ingest of %s failed after %.2f s: %s",
            name,
            seconds,
            exc,
            extra={"event": "ingest.failed", "file": name, "seconds": seconds},
        )
        raise


def _let_the_forkserver_go() -> None:
    """A forkserver's child inherits the write end of the pipe whose closing tells the
    forkserver that the process it serves has gone; closed here, the forkserver ends with
    that process, and this child with the forkserver (PR_SET_PDEATHSIG)."""
    server = getattr(forkserver, "_forkserver", None)
    handle = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(handle, int):
        with contextlib.suppress(OSError):
            os.close(handle)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]


def _watch(parent: int) -> None:
    """Kill this child's process group once the process that asked for it has gone."""
    while _alive(parent):
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


def _warm_up() -> None:
    """In the forkserver only, once: open, read and place a small image in memory, so that
    every child starts with GDAL's drivers registered and PROJ's database open (each child
    would otherwise pay for them, some 0.3 s). Nothing with threads: a thread pool does not
    survive a fork."""
    from rasterio.io import MemoryFile

    with MemoryFile() as memory:
        profile = {"driver": "GTiff", "width": 64, "height": 64, "count": 1, "dtype": "uint8"}
        with memory.open(
            **profile, crs="EPSG:32636", transform=Affine(0.5, 0, 790000, 0, -0.5, 0)
        ) as dataset:
            dataset.write(np.ones((1, 64, 64), dtype="uint8"))
        with memory.open() as dataset:
            dataset.read(out_shape=(1, 8, 8))
            Transformer.from_crs(dataset.crs, "EPSG:4326", always_xy=True).transform(0, 0)
            dataset.crs.to_epsg()


def _in_the_forkserver() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename.endswith("multiprocessing/forkserver.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _child(conn: Connection, job: dict[str, Any]) -> None:
    """The child: limits first, then the ingest; sends (outcome, log records)."""
    limits: Limits = job["limits"]
    os.setpgid(0, 0)
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    libc.mallopt(_M_ARENA_MAX, ARENAS)
    _let_the_forkserver_go()
    threading.Thread(target=_watch, args=(job["parent"],), daemon=True).start()
    address = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address, address))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 2))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    work = job["work"]
    os.environ.update(GDAL_CACHEMAX=str(limits.cache_mb), CPL_TMPDIR=work, TMPDIR=work)
    # GDAL read GDAL_CACHEMAX once, in the forkserver's warm-up (its default: 5 % of the RAM,
    # whatever the limit): set again here, in bytes
    set_gdal_config("GDAL_CACHEMAX", limits.cache_mb * 2**20)
    tempfile.tempdir = work
    keep = _Keep()
    logger = logging.getLogger("imagery")
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    outcome: tuple[Any, ...]
    try:
        if job.get("task") == "header":
            outcome = ("ok", read_header(Path(job["path"])))
            conn.send_bytes(pickle.dumps((outcome, keep.records)))
            conn.close()
            os._exit(0)
        _check_logged(Path(job["path"]), job["name"])
        facts = ingest(
            Path(job["path"]),
            Path(work),
            original_filename=job["name"],
            sha256=job["sha256"],
            captured=job["captured"],
            max_pixels=job["max_pixels"],
            height=job.get("height"),
        )
        outcome = ("ok", facts)
    except MemoryError:
        outcome = ("memory",)
    except ImageryError as exc:
        if _about_memory(exc):
            outcome = ("memory",)
        else:
            outcome = ("refused", type(exc).__qualname__, str(exc))
    except OSError as exc:
        outcome = ("oserror", exc.errno or 0, exc.strerror or str(exc))
    except Exception as exc:
        outcome = ("crash", f"{type(exc).__name__}: {exc}")
    conn.send_bytes(pickle.dumps((outcome, keep.records)))
    conn.close()
    os._exit(0)  # nothing to tidy: the parent owns the folder, and GDAL's exit is slow


if _in_the_forkserver():
    _as_main()
    with contextlib.suppress(Exception):
        _warm_up()
