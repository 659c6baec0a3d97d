"""Create or upgrade the database schema with Alembic (idempotent)."""

import warnings
from pathlib import Path
from typing import Any

import geoalchemy2  # noqa: F401  (teaches SQLAlchemy PostGIS's types)
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

import annotations.models  # noqa: F401  (every table registered)
from annotations.db import Base, Database
from annotations.errors import AnnotationError

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database) -> str:
    """Bring the schema to the newest revision and return that revision."""
    config = _config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head()


def head() -> str:
    heads = ScriptDirectory.from_config(_config()).get_heads()
    return str(heads[0])


def current(database: Database) -> str | None:
    with database.engine.connect() as connection:
        rev = MigrationContext.configure(connection).get_current_revision()
        return None if rev is None else str(rev)


class SchemaNotReady(AnnotationError):
    """The database cannot be opened, has no tables yet, or older ones than this version's."""


def check_ready(database: Database) -> None:
    """Refuse, with what to do, a database that `annotator init` has not made or upgraded.

    Every command but `init` (and `demo`, which initialises) and the web app call this,
    rather than creating tables themselves: a mistyped ANNOTATOR_DATA_DIR must not quietly
    become a new, empty catalogue, and a shared PostgreSQL is upgraded in one deliberate
    step, not by whichever host happens to run a command first. Nothing is created here:
    a missing SQLite file is not opened (opening would make an empty one).
    """
    url = make_url(database.url)
    if database.is_sqlite:
        where = url.database or ":memory:"
        if url.database and url.database != ":memory:" and not Path(url.database).exists():
            raise SchemaNotReady(_not_initialised(where))
    else:
        where = url.render_as_string(hide_password=True)
    try:
        revision = current(database)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise SchemaNotReady(
            f"cannot open the database {where}: {reason[0] if reason else type(exc).__name__}"
        ) from exc
    if revision is None:
        raise SchemaNotReady(_not_initialised(where))
    newest = head()
    if revision == newest:
        return
    try:
        known = ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except AlembicError:
        known = False
    if not known:
        raise SchemaNotReady(
            f"the database {where} is at schema {revision}, which this version of annotator "
            f"does not know (its newest is {newest}); is the database from a newer version?"
        )
    raise SchemaNotReady(
        f"the database {where} is at schema {revision}, older than this version's {newest}: "
        "run `annotator init` to upgrade it"
    )


def _not_initialised(where: str) -> str:
    return f"the database {where} has no tables yet: run `annotator init` first (it makes them)"


#: objects the migrations make that the models do not describe on purpose
UNMODELLED_TABLES = ("annotations_rtree", "spatial_ref_sys")
UNMODELLED_COLUMNS = {("annotations", "geom")}
#: expression indexes SQLite's reflection cannot read back; tests check them by behaviour
EXPRESSION_INDEXES = ("ix_users_name_lower",)


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    """Leave the backend's spatial index machinery out of model comparisons."""
    if kind == "table" and name and name.startswith(UNMODELLED_TABLES):
        return False
    if kind == "column" and (getattr(obj.table, "name", None), name) in UNMODELLED_COLUMNS:
        return False
    return not (kind == "index" and name in ("ix_annotations_geom", *EXPRESSION_INDEXES))


def differences(database: Database) -> list[Any]:
    """What the database has that the models do not, or the other way round."""
    from alembic.autogenerate import compare_metadata

    with database.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*expression-based index 'ix_users_name_lower'")
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        return list(compare_metadata(context, Base.metadata))
