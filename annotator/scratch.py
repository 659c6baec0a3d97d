"""The data folder's temporary space: one folder per process, and leftovers removed at start.

Uploads, imports and exports write their temporary files under `TMP_DIR`. A worker that is
killed (kill -9, the OOM killer, a gunicorn timeout) cannot remove what it was writing. So
each process gets its own folder, `tmp/proc-<pid>-<random>/`, beside a lock file
`tmp/proc-<pid>-<random>.lock` that the process holds locked (flock) for as long as it
lives; the kernel drops the lock when the process dies, however it dies. At start, every
process folder whose lock can be taken belongs to a dead process and is removed, with its
lock file.

Why locks rather than removing entries older than the longest export: several gunicorn
workers start at once, a CLI import may run for an hour beside the server, and an upload
over a slow link may take longer than any export. An age rule would have to guess; a lock
held by a live process is a fact. Entries that are not process folders (from before this
scheme, or put there by hand) are removed only once nothing in them has changed for
`stale_after` seconds.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
import weakref
from pathlib import Path

from flask import Flask

#: entries that are not process folders are removed once unchanged for this long
STALE_AFTER = 24 * 3600.0
PROCESS_FOLDER = re.compile(r"^proc-\d+-[0-9a-f]{8}$")
#: (pid, temporary root) -> this process's folder and its open, locked lock file
_OWN: dict[tuple[int, Path], tuple[Path, int]] = {}
#: (pid, temporary root) -> how many apps use the folder
_USERS: dict[tuple[int, Path], int] = {}


def init_app(app: Flask, root: Path) -> None:
    """Clean `root` of dead processes' leftovers and give `app` this process's folder as
    its TMP_DIR; the folder and its lock go when the last app of the process using them
    is collected (tests make many apps; a server makes one)."""
    remove_leftovers(root, STALE_AFTER)
    app.config["TMP_ROOT"] = root
    app.config["TMP_DIR"] = process_folder(root)
    key = (os.getpid(), Path(root))
    _USERS[key] = _USERS.get(key, 0) + 1
    weakref.finalize(app, _release, key)


def _release(key: tuple[int, Path]) -> None:
    if key[0] != os.getpid():
        return  # a forked child: the parent's folder is not its to remove
    _USERS[key] = _USERS.get(key, 1) - 1
    if _USERS[key] > 0:
        return
    del _USERS[key]
    held = _OWN.pop(key, None)
    if held is not None:
        folder, fd = held
        shutil.rmtree(folder, ignore_errors=True)
        Path(f"{folder}.lock").unlink(missing_ok=True)
        os.close(fd)


def process_folder(root: Path) -> Path:
    """This process's own folder under `root`, made and locked on first use."""
    root = Path(root)
    key = (os.getpid(), root)
    held = _OWN.get(key)
    if held is not None and held[0].is_dir():
        return held[0]
    if held is not None:  # removed under us (a test's tmp_path): start again
        os.close(held[1])
        del _OWN[key]
    root.mkdir(parents=True, exist_ok=True)
    while True:
        name = f"proc-{os.getpid()}-{secrets.token_hex(4)}"
        lock = root / f"{name}.lock"
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        # a cleaner starting at the same moment may have taken the new, not yet locked,
        # file for a dead process's and removed it: then the lock guards nothing; again
        try:
            same = os.path.samestat(os.stat(lock), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    folder = root / name
    folder.mkdir()
    _OWN[key] = (folder, fd)
    return folder


def kept_across_exec(root: Path) -> Path:
    """This process's folder under `root`, its lock handed on to the program this process
    execs next and to that program's children (`annotator serve` execs gunicorn, which forks
    its workers): the folder stays while any of them lives, and goes once all have ended."""
    folder = process_folder(root)
    os.set_inheritable(_OWN[(os.getpid(), Path(root))][1], True)
    return folder


def remove_leftovers(root: Path, stale_after: float) -> list[Path]:
    """Remove what dead processes left under `root`; returns what was removed."""
    root = Path(root)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    own = {folder.name for (pid, _), (folder, _) in _OWN.items() if pid == os.getpid()}
    now = time.time()
    for entry in sorted(root.iterdir()):
        stem = entry.name.removesuffix(".lock")
        if PROCESS_FOLDER.match(stem):
            is_lock = entry.name.endswith(".lock")
            if stem in own or (not is_lock and (root / f"{stem}.lock").exists()):
                continue  # ours, or a folder judged by its lock file
            if is_lock:
                if _remove_if_unlocked(entry, root / stem):
                    removed.append(root / stem)
            else:  # a process folder without its lock file: nobody can hold it
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        elif now - _newest_change(entry) > stale_after:
            _remove(entry)
            removed.append(entry)
    return removed


def _remove_if_unlocked(lock: Path, folder: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its process is alive
        shutil.rmtree(folder, ignore_errors=True)
        lock.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _newest_change(entry: Path) -> float:
    """The latest modification time of `entry` and anything in it."""
    try:
        newest = entry.lstat().st_mtime
    except FileNotFoundError:
        return time.time()
    if entry.is_dir() and not entry.is_symlink():
        for folder, _, files in os.walk(entry):
            for name in (folder, *(os.path.join(folder, f) for f in files)):
                try:
                    newest = max(newest, os.lstat(name).st_mtime)
                except FileNotFoundError:
                    continue
    return newest


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
