"""PostGIS backups through the server's own tools: pg_dump (custom format) and pg_restore.

The tools come from the server's major version (`SHOW server_version_num`): Debian keeps them
in /usr/lib/postgresql/<major>/bin; else PATH; or the folder given (ANNOTATOR_PG_BINDIR).
The dump is taken in a snapshot exported by a REPEATABLE READ transaction that also reads the
counts and the COG names, so the manifest describes exactly what the dump holds.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from annotations.backup.manifest import BackupError
from annotations.backup.snapshot import SKIPPED_TABLES, Contents
from annotations.db import Database

DEBIAN_BINDIR = "/usr/lib/postgresql/{major}/bin"
TOOL_TIMEOUT_S = 30
_VERSION = re.compile(r"\(PostgreSQL\)\s*(\d+)")

#: tables of the database's own (not an extension's, not the system's)
USER_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""


def server_major(connection: Connection) -> int:
    number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10000 if number >= 100000 else number // 100


def find_tool(name: str, major: int, bindir: Path | None) -> Path:
    """`name` (pg_dump, pg_restore) for a server of `major`, or one line on what to install."""
    if bindir is not None:
        candidates = [bindir / name]
        where = f"in {bindir} (ANNOTATOR_PG_BINDIR)"
    else:
        candidates = [Path(DEBIAN_BINDIR.format(major=major)) / name]
        found = shutil.which(name)
        if found:
            candidates.append(Path(found))
        where = f"in {candidates[0].parent} or on PATH"
    too_old = []
    for candidate in candidates:
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        version = _tool_major(candidate)
        if version is not None and version >= major:
            return candidate
        too_old.append(f"{candidate} is for PostgreSQL {version or 'unknown'}")
    reason = f"; {', '.join(too_old)}" if too_old else ""
    raise BackupError(
        f"{name} for PostgreSQL {major} was not found {where}{reason}: install "
        f"postgresql-client-{major}, or set ANNOTATOR_PG_BINDIR to the folder that holds it"
    )


def _tool_major(tool: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(out)
    return int(match.group(1)) if match else None


def libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """The --dbname argument and environment that point a libpq tool at `url` (the password
    goes in the environment, not on a command line others can read)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    conninfo = parsed.set(drivername="postgresql", password=None)
    return [f"--dbname={conninfo.render_as_string(hide_password=False)}"], env


def _first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    wanted = [line for line in lines if "error" in line.lower()] or lines or ["no message"]
    return " ".join(wanted[0].split())


def _run(command: list[str], env: dict[str, str], what: str, where: Path) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if "No space left on device" in result.stderr:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        raise BackupError(f"{what} failed: {_first_error(result.stderr)}")
    return result.stdout


def dump(database: Database, target: Path, bindir: Path | None) -> Contents:
    """pg_dump the database to `target` (custom format), in a snapshot whose counts and
    COG names are returned with it."""
    engine = database.engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as connection, connection.begin():
        tool = find_tool("pg_dump", server_major(connection), bindir)
        snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        contents = _contents(connection)
        args, env = libpq(database.url)
        command = [
            str(tool),
            "--format=custom",
            f"--snapshot={snapshot}",
            "--no-password",
            f"--file={target}",
            *args,
        ]
        _run(command, env, "pg_dump", target)
    return contents


def _contents(connection: Connection) -> Contents:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise BackupError("the database has no schema yet: run `annotator init` first")
    schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    quote = connection.dialect.identifier_preparer.quote
    counts = {}
    for namespace, name in connection.execute(text(USER_TABLES)):
        if namespace != schema or name.startswith(SKIPPED_TABLES):
            continue
        query = f"SELECT count(*) FROM {quote(namespace)}.{quote(name)}"  # noqa: S608
        counts[name] = int(connection.execute(text(query)).scalar_one())
    cogs = connection.execute(text("SELECT cog_name FROM images ORDER BY 1")).scalars()
    return Contents(revision=str(revision), counts=counts, cog_names=[str(c) for c in cogs])


def check_empty(url: str) -> int:
    """The target database's major version, once it is known to hold no tables of its own."""
    database = Database(url)
    where = make_url(url).render_as_string(hide_password=True)
    try:
        with database.engine.connect() as connection:
            major = server_major(connection)
            tables = [f"{n}.{t}" for n, t in connection.execute(text(USER_TABLES))]
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise BackupError(f"cannot open the database {where}: {reason}") from None
    finally:
        database.dispose()
    if tables:
        shown = ", ".join(tables[:3]) + (", ..." if len(tables) > 3 else "")
        raise BackupError(
            f"the database {where} is not empty ({len(tables)} tables: {shown}): restore into "
            "a new database"
        )
    return major


def dump_revision(dump_file: Path, major: int, bindir: Path | None) -> str | None:
    """The schema revision a dump records (its alembic_version row), read without restoring."""
    tool = find_tool("pg_restore", major, bindir)
    command = [str(tool), "--data-only", "--table=alembic_version", "--file=-", str(dump_file)]
    out = _run(command, dict(os.environ), "pg_restore", dump_file)
    rows = _copy_rows(out)
    return rows[0] if rows else None


def _copy_rows(sql: str) -> list[str]:
    rows: list[str] = []
    inside = False
    for line in sql.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            inside = True
        elif inside and line == "\\.":
            break
        elif inside:
            rows.append(line.strip())
    return rows


def restore(url: str, dump_file: Path, major: int, bindir: Path | None) -> None:
    """pg_restore the dump into the (empty) database, all of it or nothing."""
    tool = find_tool("pg_restore", major, bindir)
    args, env = libpq(url)
    command = [
        str(tool),
        "--no-owner",
        "--no-privileges",
        "--no-comments",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
        *args,
        str(dump_file),
    ]
    _run(command, env, "pg_restore", dump_file)
