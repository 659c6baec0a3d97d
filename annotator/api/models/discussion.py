"""The discussion's answers and query strings: comment threads, activity feeds, the inbox and
the names offered for @-completion."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from annotations.discussion.comments import BODY_MAX
from annotations.discussion.feed import PAGE_MAX
from annotations.discussion.inbox import MARK_MAX, UNREAD_CAP
from annotator.api.contract import invalid, refuse

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class NewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        description=f"Plain text, 1 to {BODY_MAX} characters. An @name of a user mentions them "
        "(it reaches their inbox); an @word that is no user stays plain text.",
        json_schema_extra={"maxLength": BODY_MAX},
    )

    @field_validator("body", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise invalid("'body' must be text")
        return value


class ThreadComment(BaseModel):
    """One comment. Withdrawn by its author: `body` is null and `withdrawn_at` says when."""

    id: int
    annotation_id: str | None
    claim_id: int | None
    report_id: int | None
    author: str
    created_at: DateTime
    body: str | None
    mentions: list[str] = Field(description="The users the comment mentions.")
    withdrawn_at: DateTime | None
    withdrawn_by: str | None


class CommentThread(BaseModel):
    """A thread, oldest first."""

    comments: list[ThreadComment]


class FeedPageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int | None = Field(default=None, ge=1, le=PAGE_MAX, description="Entries per page.")
    cursor: str | None = Field(
        default=None, max_length=80, description="The `next` of the page before (opaque)."
    )


class FeedSubject(BaseModel):
    type: str = Field(description="annotation, claim, report, event, link, publication or site")
    id: int | str
    text: str | None = Field(description="A label, a title or the start of a quote.")
    image_id: str | None = None


class FeedEntry(BaseModel):
    """One thing that happened, from the history or a comment."""

    item: str = Field(description="'revision:<id>', 'change:<id>' or 'comment:<id>'.")
    at: DateTime
    actor: str
    verb: str = Field(
        description="created, edited, submitted, withdrew, approved, rejected, reopened, "
        "returned to draft, deleted, restored, linked, unlinked, added, removed, published or "
        "commented"
    )
    comment: str | None = Field(description="The review's comment, or the comment's start.")
    subject: FeedSubject
    report_id: int | None = None


class Feed(BaseModel):
    """Newest first; `next` is the cursor of the page after (null on the last)."""

    entries: list[FeedEntry]
    next: str | None


class InboxItem(BaseModel):
    item: str = Field(description="'revision:<id>', 'comment:<id>' or 'review:<id>-v<n>'.")
    kind: Literal["reviewed", "mention", "on your annotation", "waiting"]
    at: DateTime
    actor: str
    verb: str
    unread: bool
    status: str | None = None
    comment: str | None = None
    mentions: list[str] | None = None
    annotation: dict[str, Any] | None = None
    claim: dict[str, Any] | None = None


class InboxWaiting(BaseModel):
    """Annotations in review (editors and admins), oldest first, the first 20."""

    count: int
    items: list[InboxItem]


class Inbox(BaseModel):
    unread: int = Field(
        ge=0,
        le=UNREAD_CAP,
        description=f"Items not marked read, waiting ones included; counted up to {UNREAD_CAP} "
        "(the nav then shows 99+).",
    )
    items: list[InboxItem] = Field(description="Reviews of my work and talk to me, newest first.")
    next: str | None
    waiting: InboxWaiting


class MarkRead(BaseModel):
    """Either the items to mark read, or `all`: everything unread now."""

    model_config = ConfigDict(extra="forbid")

    items: list[str] | None = Field(default=None, max_length=MARK_MAX)
    all: Annotated[StrictBool | None, refuse("'all' must be true or false")] = None

    @model_validator(mode="after")
    def _one_of(self) -> MarkRead:
        if self.all and self.items is not None:
            raise invalid("send 'items' or 'all', not both")
        if not self.all and not self.items:
            raise invalid("name the 'items' to mark read, or send \"all\": true")
        return self

    def chosen(self) -> list[str] | None:
        return None if self.all else self.items


class InboxMarked(BaseModel):
    marked: int = Field(description="How many were not read before.")
    unread: int


class PeopleQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str = Field(default="", max_length=80, description="The start of a name.")


class Mentionable(BaseModel):
    name: str
    role: str


class MentionableList(BaseModel):
    people: list[Mentionable]
