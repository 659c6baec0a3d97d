"""A throwaway PostgreSQL + PostGIS cluster for the tests: real server, own port and folder.

PostgreSQL refuses to run as root, so as root every server command runs as the `postgres`
user (`runuser -u postgres -- ...`) in a folder that user owns; as anyone else the commands
run as the current user. The cluster listens on 127.0.0.1 and a socket inside its folder,
trusts local connections, and skips fsync: it is fast, private and disposable.

Nothing survives the session: `stop()` runs from the fixture, again from `atexit`, and a
small watchdog process stops the server and removes the folder if the test process dies
without running either (killed, crashed).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

SERVER_USER = "postgres"
TEMPLATE = "template_postgis"
MAIN_DATABASE = "annotator"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Runs in its own session; stops the cluster once the test process has gone.
_WATCHDOG = """
import os, shutil, signal, subprocess, sys, time
parent, command, folder = int(sys.argv[1]), sys.argv[2:-1], sys.argv[-1]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.5)
subprocess.run(command, cwd=folder, check=False, capture_output=True, timeout=60)
shutil.rmtree(folder, ignore_errors=True)
"""


def _version_key(path: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", Path(path).parent.name)
    return tuple(int(n) for n in numbers) or (0,)


def _has_server(bindir: str | Path) -> bool:
    return all((Path(bindir) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: `pg_config --bindir`, else the newest
    `/usr/lib/postgresql/*/bin` (Debian's libpq-dev pg_config may name a client-only folder)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            if out and _has_server(out):
                return Path(out)
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if _has_server(bindir):
            return Path(bindir)
    return None


def _sharedir(bindir: Path) -> Path | None:
    tool = bindir / "pg_config"
    if tool.is_file():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [str(tool), "--sharedir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
            return Path(out)
    debian = Path("/usr/share/postgresql") / bindir.parent.name
    return debian if debian.is_dir() else None


def missing() -> str | None:
    """Why a cluster cannot be made here (None when it can), for a skip or a CI failure."""
    bindir = find_bindir()
    if bindir is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) were not found; install Debian's "
            "'postgresql' and 'postgresql-postgis' packages (`make system-deps` as root)"
        )
    sharedir = _sharedir(bindir)
    if sharedir is None or not (sharedir / "extension" / "postgis.control").is_file():
        return (
            f"PostGIS is not installed for the PostgreSQL in {bindir}; "
            "install Debian's 'postgresql-postgis' package (`make system-deps` as root)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root, but there is no {SERVER_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root, but `runuser` is missing to run PostgreSQL as 'postgres'"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ClusterError(RuntimeError):
    pass


class ThrowawayCluster:
    """initdb + pg_ctl start on a free port; PostGIS ready in `url` and in fresh databases."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise ClusterError(missing() or "PostgreSQL server binaries not found")
        self.bindir = found
        self.as_root = os.geteuid() == 0
        self.port = 0
        self.url = ""
        self.directory: Path | None = None
        self.timings: dict[str, float] = {}
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._stopped = False
        self._counter = 0
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self._env.update(LC_ALL="C", LANG="C")

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> ThrowawayCluster:
        began = time.perf_counter()
        atexit.register(self.stop)
        # as root the folder's parents must be passable by `postgres`: $TMPDIR may not be
        base = "/tmp" if self.as_root and Path("/tmp").is_dir() else None
        self.directory = Path(tempfile.mkdtemp(prefix="annotator-pg-", dir=base))
        if self.as_root:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.directory),
                "-A",
                "trust",
                "-U",
                SERVER_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            self.timings["initdb_s"] = time.perf_counter() - began
            self._start_server()
            self._start_watchdog()
            self.timings["server_start_s"] = time.perf_counter() - began
            with self.admin() as connection:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
            with self.admin(TEMPLATE) as connection:
                connection.execute("CREATE EXTENSION postgis")
            self.timings["postgis_template_s"] = time.perf_counter() - began
            self.url = self.create_database(MAIN_DATABASE)
        except BaseException:
            self.stop()
            raise
        self.timings["total_s"] = time.perf_counter() - began
        return self

    def _start_server(self) -> None:
        assert self.directory is not None
        last = ""
        for _attempt in range(5):
            self.port = _free_port()
            result = self._pg_ctl_start()
            if result.returncode == 0:
                return
            log = self.directory / "server.log"
            last = result.stdout + result.stderr
            with contextlib.suppress(OSError):
                last += log.read_text(errors="replace")[-4000:]
            if "could not bind" not in last and "already in use" not in last:
                break
        raise ClusterError(f"pg_ctl start failed:\n{last}")

    def _pg_ctl_start(self) -> subprocess.CompletedProcess[str]:
        assert self.directory is not None
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.directory / "server.log"
        return self._run(
            "pg_ctl",
            "-D",
            str(self.directory),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )

    def pause(self) -> None:
        """Stop the server (a fast shutdown: clients are disconnected), keeping its folder
        and port, so that `resume` starts it again as it was."""
        assert self.directory is not None
        self._run("pg_ctl", "-D", str(self.directory), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start a paused server again, on the same port."""
        result = self._pg_ctl_start()
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}")

    def _start_watchdog(self) -> None:
        assert self.directory is not None
        command = self._command("pg_ctl", "-D", str(self.directory), "-m", "immediate", "stop")
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), *command, str(self.directory)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop the server at once and delete its folder; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        directory = self.directory
        if directory is not None and (directory / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(directory), "-m", "immediate", "-w", "stop")
            except (ClusterError, OSError, subprocess.SubprocessError):
                self._kill_postmaster(directory)
        if self._watchdog is not None:
            self._watchdog.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    @staticmethod
    def _kill_postmaster(directory: Path) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((directory / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)  # PostgreSQL's "immediate shutdown"
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- databases ------------------------------------------------------------------------

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str = TEMPLATE) -> str:
        """A fresh database with PostGIS (copied from the template, or from another of the
        cluster's databases that no one is connected to); returns its URL."""
        if name is None:
            self._counter += 1
            name = f"test_{self._counter}"
        if not _NAME.fullmatch(name):
            raise ValueError(f"database name {name!r}: use lower-case letters, digits and '_'")
        command = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
        with self.admin() as connection:
            # the template's last client may have closed its connection while its server
            # process is still ending (PostgreSQL then says the template is in use): again
            for _attempt in range(100):
                try:
                    connection.execute(command)
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.05)
            else:
                connection.execute(command)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def admin(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit connection as the superuser (use it in a `with` block)."""
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SERVER_USER,
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        )

    # -- running the server's tools -------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.bindir / tool), *args]
        if self.as_root:
            return ["runuser", "-u", SERVER_USER, "--", *command]
        return command

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self._command(tool, *args),
            cwd=self.directory,
            env=self._env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterError(
                f"{tool} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result
