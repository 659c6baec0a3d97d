"""Append-only history: every change to an annotation (and later events and report
links) is a revision saying who, when, what before, what after, and why."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.db import Base, UTCDateTime, utcnow

ACTIONS = ("create", "edit", "status", "delete", "restore")


class Revision(Base):
    __tablename__ = "revisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    before_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    after_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.id,
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "comment": self.comment,
            "before": None if self.before_json is None else json.loads(self.before_json),
            "after": None if self.after_json is None else json.loads(self.after_json),
        }


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
        before_json=None if before is None else json.dumps(before, ensure_ascii=False),
        after_json=None if after is None else json.dumps(after, ensure_ascii=False),
    )
    session.add(revision)
    return revision


@dataclass(frozen=True)
class Creation:
    """A new annotation's first revision: its id, its Feature as JSON text, and why."""

    annotation_id: str
    after_text: str
    comment: str | None = None


def record_creations(session: Session, created: list[Creation], actor: str, at: datetime
                     ) -> None:  # fmt: skip
    """The `create` revisions of many new annotations, inserted at once (for imports)."""
    session.execute(
        insert(Revision),
        [
            {"annotation_id": c.annotation_id, "version": 1, "action": "create", "actor": actor,
             "at": at, "comment": c.comment, "before_json": None, "after_json": c.after_text}
            for c in created
        ],
    )  # fmt: skip


def revisions_of(session: Session, annotation_id: str) -> list[Revision]:
    return list(
        session.scalars(
            select(Revision).where(Revision.annotation_id == annotation_id).order_by(Revision.id)
        )
    )
