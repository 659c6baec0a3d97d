"""Append-only history: every change to an annotation, a report, a claim, an event or a
link is a revision saying who, when, what before, what after, and why.

Annotations keep their versioned `Revision` rows; reports, claims, events, links and
publications share one `Change` table keyed by what changed (`subject`, `subject_id`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.db import Base, UTCDateTime, utcnow

ACTIONS = ("create", "edit", "status", "delete", "restore")


class Trail:
    """Who changed what, when and why: the columns every kind of revision shares."""

    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    before_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    after_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    def trail(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "comment": self.comment,
            "before": None if self.before_json is None else json.loads(self.before_json),
            "after": None if self.after_json is None else json.loads(self.after_json),
        }


def _encoded(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


class Revision(Base, Trail):
    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.id, "version": self.version, "action": self.action, **self.trail()}


def record(
    session: Session,
    annotation_id: str,
    version: int,
    action: str,
    actor: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    comment: str | None = None,
) -> Revision:
    if action not in ACTIONS:
        raise ValueError(f"unknown revision action {action!r}")
    revision = Revision(
        annotation_id=annotation_id,
        version=version,
        action=action,
        actor=actor,
        comment=comment,
        before_json=_encoded(before),
        after_json=_encoded(after),
    )
    session.add(revision)
    return revision


@dataclass(frozen=True)
class Creation:
    """A new annotation's first revision: its id, its Feature as JSON text, and why."""

    annotation_id: str
    after_text: str
    comment: str | None = None


def record_creations(session: Session, created: list[Creation], actor: str, at: datetime) -> None:
    """The `create` revisions of many new annotations, inserted at once (for imports) by
    `insert_columns`, not through the ORM: their number is added to the session's
    `BULK_WRITTEN` tally, for whoever counts the writes a transaction commits (metrics)."""
    insert_columns(
        session,
        Revision.__tablename__,
        len(created),
        {
            "annotation_id": [c.annotation_id for c in created],
            "version": Same(1),
            "action": Same("create"),
            "actor": Same(actor),
            "at": Same(at),
            "comment": [c.comment for c in created],
            "before_json": Same(None),
            "after_json": [c.after_text for c in created],
        },
    )
    tally: Counter[str] = session.info.setdefault(BULK_WRITTEN, Counter())
    tally["create"] += len(created)


#: the key, in a session's `info`, of a Counter of the revisions (by action) written without
#: ORM statements, which a listener of the ORM's inserts does not see
BULK_WRITTEN = "annotations.history.bulk_written"


def insert_rows(session: Session, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Many rows (dicts with the same keys) at once, as `insert_columns` stores them."""
    if rows:
        names = list(rows[0])
        insert_columns(
            session, table_name, len(rows), {name: [row[name] for row in rows] for name in names}
        )


@dataclass(frozen=True)
class Same:
    """A column's value in every row of an `insert_columns`."""

    value: Any


def insert_columns(
    session: Session, table_name: str, count: int, columns: dict[str, list[Any] | Same]
) -> None:
    """`count` rows at once, given column by column (a list of `count` values, or `Same`
    value in every row), stored as an ORM or Core insert would store them, with each
    distinct value converted once (a batch shares its times): every column's own bind
    processing (UTCDateTime to naive UTC; on SQLite then the text the sqlite3 module's
    default adapter makes of a time), then on SQLite one executemany of plain tuples, on
    PostgreSQL one COPY (`_copy`). No dict per row is made."""
    if not count:
        return
    connection = session.connection()
    dialect = connection.dialect
    table = Base.metadata.tables[table_name]
    names = list(columns)
    if dialect.name == "postgresql":
        _copy(connection, table_name, names, _values(table, names, count, columns, dialect))
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup or names) if compiled.positional else names
    values = _values(table, order, count, columns, dialect)
    if not compiled.positional:
        values = [dict(zip(order, row, strict=True)) for row in values]
    connection.exec_driver_sql(compiled.string, values)


def _values(
    table: Any, names: list[str], count: int, columns: dict[str, list[Any] | Same], dialect: Any
) -> list[Any]:
    """Each row's values in the order of `names`, as tuples, bind-processed column by column."""
    sqlite = dialect.name == "sqlite"
    ordered: list[Any] = []
    for name in names:
        column = columns[name]
        # a column the models leave out (schema.UNMODELLED_COLUMNS) is written as given
        processor = table.c[name].type.bind_processor(dialect) if name in table.c else None
        if isinstance(column, Same):
            value = column.value if processor is None else processor(column.value)
            ordered.append(repeat(_as_stored(value, sqlite), count))
            continue
        if len(column) != count:
            raise ValueError(f"column {name} has {len(column)} values, not {count}")
        ordered.append(column if processor is None else _processed(column, processor, sqlite))
    return list(zip(*ordered, strict=True))


def _processed(values: list[Any], processor: Any, sqlite: bool) -> list[Any]:
    done: dict[Any, Any] = {}
    result = []
    for value in values:
        try:
            result.append(done[value])
            continue
        except KeyError:
            pass
        except TypeError:  # not hashable: converted each time
            result.append(_as_stored(processor(value), sqlite))
            continue
        result.append(done.setdefault(value, _as_stored(processor(value), sqlite)))
    return result


def _as_stored(value: Any, sqlite: bool) -> Any:
    """On SQLite, a time as the sqlite3 module's default adapter writes it."""
    if sqlite and isinstance(value, datetime):
        return value.isoformat(" ")
    return value


def _copy(connection: Any, table_name: str, names: list[str], values: list[Any]) -> None:
    """The rows by PostgreSQL's COPY, in the connection's transaction: one stream, not a
    statement per row (psycopg's executemany pipelines INSERTs, but each is still parsed,
    bound and executed alone; triggers and indexes are the same either way). Half the
    time of an import's write on a busy machine (9.2 s against 16.3 s for 20,000 rows)."""
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f'COPY "{table_name}" ({columns}) FROM STDIN') as copy:
            for row in values:
                copy.write_row(row)
    finally:
        cursor.close()


def revisions_of(session: Session, annotation_id: str) -> list[Revision]:
    return list(
        session.scalars(
            select(Revision).where(Revision.annotation_id == annotation_id).order_by(Revision.id)
        )
    )


SUBJECTS = ("report", "claim", "event", "link", "publication", "site")
CHANGE_ACTIONS = (
    "create",
    "edit",
    "delete",
    "link",
    "unlink",
    "add",
    "remove",
    "publish",
    "withdraw",
)


class Change(Base, Trail):
    """One change to a report, claim, event, link or publication (never updated or deleted)."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_subject", "subject", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.id,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "action": self.action,
            **self.trail(),
        }


def record_change(
    session: Session,
    subject: str,
    subject_id: int,
    action: str,
    actor: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    comment: str | None = None,
) -> Change:
    if subject not in SUBJECTS or action not in CHANGE_ACTIONS:
        raise ValueError(f"unknown change {subject!r} {action!r}")
    change = Change(
        subject=subject,
        subject_id=subject_id,
        action=action,
        actor=actor,
        at=utcnow(),
        comment=comment,
        before_json=_encoded(before),
        after_json=_encoded(after),
    )
    session.add(change)
    return change


def changes_of(session: Session, subject: str, subject_ids: list[int]) -> list[Change]:
    if not subject_ids:
        return []
    return list(
        session.scalars(
            select(Change)
            .where(Change.subject == subject, Change.subject_id.in_(subject_ids))
            .order_by(Change.id)
        )
    )
