"""Jobs as their owners and admins see them: start one (within the owner's limit), list,
read and cancel.

Rules:
- A user sees their own jobs; an admin sees everyone's. Another user's job is "not found"
  (never "forbidden"), so ids reveal nothing.
- A user holds at most `per_user` jobs queued or running at once; one more is refused.
- Cancelling a queued job ends it at once (it never starts); a running job is asked to stop
  and stops at its next progress check (`annotations.jobs.running`); an ended job stays as
  it ended.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotations.annotation import Actor
from annotations.catalogue.users import Role
from annotations.db import utcnow
from annotations.errors import AnnotationError, InvalidInput, NotFound
from annotations.jobs.tables import OPEN, Job, Status

#: most jobs one list shows, newest first
LIST_LIMIT = 200


class TooManyJobs(AnnotationError):
    """The owner already has as many jobs queued or running as they may."""


class AlreadyEnded(AnnotationError):
    """The job has ended; there is nothing left to cancel."""


def new_id() -> str:
    return uuid.uuid4().hex


def open_count(session: Session, owner: str) -> int:
    statuses = [s.value for s in OPEN]
    query = select(func.count()).where(Job.owner == owner, Job.status.in_(statuses))
    return int(session.scalar(query) or 0)


def check_room(session: Session, owner: str, per_user: int) -> None:
    """Refuse a new job for `owner` when they hold `per_user` open ones already."""
    held = open_count(session, owner)
    if held >= per_user:
        raise TooManyJobs(
            f"you have {held} jobs queued or running; at most {per_user} at once: "
            "wait for one to end, or cancel one on the Jobs page",
            details={"open": held, "limit": per_user},
        )


def create(
    session: Session,
    kind: str,
    owner: str,
    params: dict[str, Any],
    *,
    per_user: int,
    job_id: str | None = None,
    message: str = "waiting for a worker",
) -> Job:
    """A queued job, counted against its owner's limit (checked in the same transaction)."""
    check_room(session, owner, per_user)
    job = Job(
        id=job_id or new_id(),
        kind=kind,
        owner=owner,
        status=Status.queued.value,
        progress=0.0,
        message=message,
        params=json.dumps(params),
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    return job


def parse_id(value: str) -> str:
    text = value.strip().lower()
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise NotFound(f"job {value!r} not found")
    return text


def get(session: Session, actor: Actor, job_id: str) -> Job:
    """The job, if `actor` may see it (their own, or any for an admin)."""
    job = session.get(Job, parse_id(job_id))
    if job is None or (job.owner != actor.name and actor.role < Role.admin):
        raise NotFound(f"job {job_id!r} not found")
    return job


def listed(
    session: Session, actor: Actor, *, status: str | None = None, kind: str | None = None
) -> list[Job]:
    """The actor's jobs (everyone's for an admin), newest first."""
    query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(LIST_LIMIT)
    if actor.role < Role.admin:
        query = query.where(Job.owner == actor.name)
    if status:
        if status not in {s.value for s in Status}:
            names = ", ".join(s.value for s in Status)
            raise InvalidInput(f"unknown status {status!r}; choose one of {names}")
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def cancel(session: Session, actor: Actor, job_id: str) -> Job:
    """Cancel a queued job now; ask a running one to stop at its next progress check."""
    job = get(session, actor, job_id)
    if job.status == Status.queued.value:
        job.status = Status.cancelled.value
        job.ended_at = utcnow()
        job.message = f"cancelled by {actor.name} before it started"
    elif job.status == Status.running.value:
        job.cancelling = True
        job.message = f"cancelling (asked by {actor.name})"
    else:
        raise AlreadyEnded(f"job {job.id} has ended ({job.status}); there is nothing to cancel")
    session.flush()
    return job
