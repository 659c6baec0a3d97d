"""Withdrawing a published report: an editor takes it back, with a reason a reader is shown.

A withdrawn report keeps its record: every frozen publication stays, byte for byte, with its
sha256, and the history says who withdrew it, when and why. Its public outputs (the embed,
the interactive map) answer 410 Gone with "withdrawn on <date>: <reason>" instead of the
map. Publishing it again makes a new publication (the next number), and the report is
published once more. The reason and date are those of the latest `withdraw` change in the
history: the history is the one place they are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotations.annotation import Actor
from annotations.catalogue.users import Role
from annotations.errors import AlreadyExists
from annotations.history import Change, record_change
from annotations.newsroom.reports import Checked, Report, clean_text, iso, require_role

REASON_MAX = 2_000
EXAMPLE: JsonDict = {"reason": "The aircraft were misidentified: they are Il-76s, not An-124s."}


class NotWithdrawable(AlreadyExists):
    """The report is not published (a draft, or withdrawn already): 409."""


class WithdrawalInput(Checked):
    """Why the report is withdrawn: required, shown to every reader of its outputs."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [EXAMPLE]})

    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX,
        description="Shown to readers: 'withdrawn on <date>: <reason>'.",
    )

    @field_validator("reason", mode="before")
    @classmethod
    def _reason(cls, value: Any) -> str:
        return (clean_text(value, "reason", REASON_MAX, required=True) or "").strip()


@dataclass(frozen=True)
class Withdrawn:
    """When, by whom and why a report was withdrawn."""

    at: datetime
    by: str
    reason: str

    @property
    def notice(self) -> str:
        return f"Withdrawn on {self.at.date().isoformat()}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"at": iso(self.at), "by": self.by, "reason": self.reason}


def withdraw(session: Session, report: Report, reason: str, actor: Actor) -> Withdrawn:
    """Take a published report back (editors only); its publications stay as they are."""
    require_role(actor, Role.editor, "withdrawing a report")
    if report.status != "published":
        state = "withdrawn already" if report.status == "withdrawn" else "a draft"
        raise NotWithdrawable(
            f"the report \u201c{report.title}\u201d is {state}: only a published report "
            "can be withdrawn",
            details={"status": report.status},
        )
    before = report.to_dict()
    report.status = "withdrawn"
    change = record_change(
        session, "report", report.id, "withdraw", actor.name, before, report.to_dict(), reason
    )
    session.flush()
    return Withdrawn(change.at, actor.name, reason)


def withdrawal_of(session: Session, report: Report) -> Withdrawn | None:
    """The withdrawal in force: the latest, while the report is withdrawn; else None."""
    if report.status != "withdrawn":
        return None
    change = session.scalar(
        select(Change)
        .where(
            Change.subject == "report",
            Change.subject_id == report.id,
            Change.action == "withdraw",
        )
        .order_by(Change.id.desc())
        .limit(1)
    )
    if change is None:
        return None
    return Withdrawn(change.at, change.actor, change.comment or "")
