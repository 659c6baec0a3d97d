"""The jobs API's answers and query string."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class JobOut(BaseModel):
    """A background job. `result` links what it made once done: an ingest
    `{"images": [{"id", "name", "created", "href", "page"}]}`; an import its report (`created`,
    `already_imported`, ...) with `annotations` (links), `images` (`{"id", "name", "count",
    "href", "page"}`) and `sites` (`{"slug", "name", "page"}`); an export `download` (its
    owner's, until `expires_at`; 410 after), `name`, `count`, `bytes`; a story job the same
    download, with `report_id` and `publication`. `error` says why it failed, in one line."""

    id: str = Field(pattern="^[0-9a-f]{32}$")
    kind: str = Field(
        description="What the job does: `ingest` (an upload's files), `import`, `export`, "
        "`story` (a report's bundle, figure or map)."
    )
    owner: str
    status: JobStatus
    cancelling: bool = Field(description="A running job asked to stop; it does at its next step.")
    progress: float = Field(ge=0, le=1)
    message: str = Field(description="What the job is doing, or how it ended.")
    result: dict[str, Any] | None
    error: str | None
    created_at: DateTime
    started_at: DateTime | None
    ended_at: DateTime | None


class JobList(BaseModel):
    """Newest first: your jobs (an admin's list holds everyone's)."""

    jobs: list[JobOut]


class JobQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: JobStatus | None = Field(default=None, description="Only jobs in this status.")
    kind: str | None = Field(default=None, max_length=32, description="Only jobs of this kind.")
