"""The jobs table: one row per background job, the truth about it (the queue only carries
its id). `params` is what the job needs to run (never shown to users); `result` holds links
to what it made; `worker` ("host:pid") and `heartbeat_at` tell a starting worker which
running jobs belong to a worker that died."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from annotations.db import Base, UTCDateTime, utcnow


class Status(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


#: a job in one of these still holds its place in its owner's limit
OPEN = (Status.queued, Status.running)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_owner_status", "owner", "status"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), index=True, default=Status.queued.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[str] = mapped_column(Text, default="{}")
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: someone asked a running job to stop; it does at its next progress check
    cancelling: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def parameters(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.params or "{}")
        return loaded

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "owner": self.owner,
            "status": self.status,
            "cancelling": bool(self.cancelling) and self.status == Status.running.value,
            "progress": round(float(self.progress or 0.0), 4),
            "message": self.message or "",
            "result": None if self.result is None else json.loads(self.result),
            "error": self.error,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
