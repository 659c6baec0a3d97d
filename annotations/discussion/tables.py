"""The tables of the discussion: comments, who each one mentions, and what each person has
marked read in their inbox.

A comment belongs to exactly one annotation or one claim (its report is kept with it, so a
report's feed and its visibility need no join through the claim). Comments are never edited:
an author may withdraw one, which keeps the row (and the text, in the history) and hides the
text from the thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from annotations.db import Base, UTCDateTime, utcnow


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_created_at", "created_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotation_id: Mapped[str | None] = mapped_column(
        ForeignKey("annotations.id"), nullable=True, index=True
    )
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True, index=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id"), nullable=True, index=True
    )
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    def to_dict(self, mentions: list[str]) -> dict[str, Any]:
        withdrawn = self.withdrawn_at is not None
        return {
            "id": self.id,
            "annotation_id": self.annotation_id,
            "claim_id": self.claim_id,
            "report_id": self.report_id,
            "author": self.author,
            "created_at": _iso(self.created_at),
            "body": None if withdrawn else self.body,
            "mentions": [] if withdrawn else mentions,
            "withdrawn_at": _iso(self.withdrawn_at),
            "withdrawn_by": self.withdrawn_by,
        }


class Mention(Base):
    """An @name in a comment that names an existing user (by that user's own spelling)."""

    __tablename__ = "comment_mentions"
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    user_name: Mapped[str] = mapped_column(String(80), primary_key=True, index=True)


class InboxRead(Base):
    """One inbox item a person marked read: `item` is 'revision:<id>' or 'comment:<id>'."""

    __tablename__ = "inbox_reads"
    user_name: Mapped[str] = mapped_column(String(80), primary_key=True)
    item: Mapped[str] = mapped_column(String(48), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
