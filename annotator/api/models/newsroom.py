"""The newsroom's answers (reports, claims, links, events, publications) and the query strings
of its routes. The request bodies are the domain's own models (annotations.newsroom: the report
form and the demo check the same), so only what the web alone shapes is here."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from annotations.newsroom.events import ANNOTATION_ID_MAX
from annotations.newsroom.evidence import Stance
from annotations.newsroom.figure import CAPTION_MAX
from annotations.newsroom.reports import Coarsening, ReportStatus, TextQuoteSelector, parse_id
from annotations.newsroom.signing import ALGORITHM
from annotator.api.contract import invalid
from annotator.api.models.discussion import ThreadComment
from annotator.story import FIGURE_MAX_PX, FIGURE_MIN_PX

#: the `extra` of a route answering 201 Created: where the new thing is
CREATED: dict[str, Any] = {
    "responses": {201: {"headers": {"Location": {"$ref": "#/components/headers/Location"}}}}
}
DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Sha256 = Annotated[str, Field(pattern="^[0-9a-f]{64}$")]


class Stamped(BaseModel):
    created_by: str
    created_at: DateTime


class Change(BaseModel):
    """One change to a report, claim, link, event or site, as kept in the history."""

    change: int
    subject: str = Field(description="report, claim, link, publication, event or site")
    subject_id: int
    action: str
    actor: str
    at: DateTime
    comment: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Link(Stamped):
    """An annotation or an event that supports, contradicts or gives context to a report or
    one of its claims."""

    id: int
    annotation_id: str | None
    event_id: int | None
    report_id: int
    claim_id: int | None
    stance: Stance
    note: str
    history: list[Change] | None = Field(
        default=None, description="Its link and unlink (GET of one link only)."
    )


class LinkList(BaseModel):
    links: list[Link]


class Claim(Stamped):
    """A quote from the report's text."""

    id: int
    report_id: int
    selector: TextQuoteSelector
    exact: str
    prefix: str
    suffix: str
    start: int = Field(description="Where `exact` starts in the text.")
    links: list[Link] | None = Field(default=None, description="(GET of one claim only.)")


class ClaimList(BaseModel):
    claims: list[Claim]


class Publication(BaseModel):
    """One frozen publication of a report's evidence."""

    report_id: int
    number: int = Field(ge=1)
    sha256: Sha256 = Field(description="Of the frozen evidence JSON, byte for byte.")
    published_by: str
    published_at: DateTime
    annotations: int = Field(ge=0)
    coarsening: str | None = Field(description="What the outputs say of the coarsening.")
    embed_url: str | None = Field(default=None, description="(The answer of a publish only.)")


class PublicationList(BaseModel):
    publications: list[Publication]


class Withdrawal(BaseModel):
    """Why a report was withdrawn (its outputs answer 410 with this)."""

    at: DateTime
    by: str
    reason: str


class Report(BaseModel):
    """A report with its claims, links and publications (in a list: without them or its text)."""

    id: int
    title: str
    url: str | None
    outlet: str | None
    authors: list[str]
    published_at: DateTime | None
    language: str | None
    summary: str | None
    text: str | None
    status: ReportStatus
    coarsening: Coarsening
    version: int
    created_by: str
    created_at: DateTime
    updated_by: str
    updated_at: DateTime
    claims: list[Claim] | None = None
    links: list[Link] | None = None
    publications: list[Publication] | None = None
    embed_url: str | None = Field(default=None, description="Of a published report.")
    withdrawn: Withdrawal | None = Field(
        default=None, description="Of a withdrawn report: when, by whom and why."
    )


class ReportList(BaseModel):
    reports: list[Report]


class ReportChanges(BaseModel):
    report: int
    changes: list[Change] = Field(
        description="Every change to the report, its claims, links and publications."
    )
    comments: list[ThreadComment] = Field(
        default_factory=list,
        description="Every comment on its claims, oldest first; a withdrawn one without its text.",
    )


class EventCapture(BaseModel):
    image_id: str
    captured_at: DateTime | None
    provider: str | None
    synthetic: bool


class EventSummary(BaseModel):
    """Computed from the grouped annotations, never typed in."""

    annotations: int
    counts: dict[str, dict[str, int]] = Field(
        description="Per capture date (or 'unknown'), the count of objects per label; an "
        "annotation marked the same object as another one in the event adds none."
    )
    merged: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="Per capture date and label, the annotations marked the same object as "
        "another one in the event (counted once, as that one).",
    )
    first_seen: DateTime | None
    last_seen: DateTime | None
    captures: list[EventCapture] = Field(description="The site's captures within the window.")


class Event(BaseModel):
    """An event (in a list: without its annotations, summary and links)."""

    id: int
    site: str
    title: str
    description: str
    start: DateTime
    end: DateTime
    version: int
    created_by: str
    created_at: DateTime
    updated_by: str
    updated_at: DateTime
    annotation_ids: list[str] | None = None
    summary: EventSummary | None = None
    links: list[Link] | None = None


class EventList(BaseModel):
    events: list[Event]


class EventChanges(BaseModel):
    event: int
    changes: list[Change]


class SigningKey(BaseModel):
    """The key."""

    algorithm: str = Field(json_schema_extra={"const": ALGORITHM})
    sha256: Sha256 = Field(description="sha256 of the raw 32-byte key")
    public_key: str = Field(description="PEM (SubjectPublicKeyInfo)")


class Deleted(BaseModel):
    """What was deleted (soft: kept in the history)."""

    deleted: int


class Unlinked(BaseModel):
    unlinked: int


# ---- query strings


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    site: str | None = Field(default=None, description="Only the events of this site (slug).")


def _id_or_none(value: Any, kind: str) -> int | None:
    return None if value in (None, "") else parse_id(value, kind)


class LinkQuery(BaseModel):
    """Links seen from either side; an id that names nothing finds nothing (or 404)."""

    model_config = ConfigDict(extra="ignore")

    report: int | None = Field(default=None, description="Links to the report.")
    claim: int | None = Field(default=None, description="Links to the claim.")
    annotation: str | None = Field(
        default=None, max_length=ANNOTATION_ID_MAX, description="Links of the annotation."
    )
    event: int | None = Field(default=None, description="Links of the event.")

    @field_validator("report", "claim", "event", mode="before")
    @classmethod
    def _id(cls, value: Any, info: ValidationInfo) -> int | None:
        return _id_or_none(value, info.field_name or "")

    @field_validator("annotation", mode="before")
    @classmethod
    def _annotation(cls, value: Any) -> str | None:
        return value or None


class UnlinkQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    comment: str | None = Field(default=None, description="Why, kept in the history.")


NOT_A_NUMBER = "publication must be a publication number"


def _digits(value: str) -> bool:
    """Digits alone (the query string's values are text)."""
    return value.isascii() and value.isdigit()


class Frozen(BaseModel):
    """Which publication an output is drawn from."""

    model_config = ConfigDict(extra="ignore")

    publication: int | None = Field(
        default=None,
        description="Which publication (number); the latest if absent.",
        json_schema_extra={"minimum": 1},
    )

    @field_validator("publication", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if value is not None and not _digits(value):
            raise invalid(
                "publication must be a publication number", status=400, code="bad_request"
            )
        return value


class MapQuery(Frozen):
    download: str | None = Field(
        default=None, description="Any value: sent as a file to save (Content-Disposition)."
    )


def _size(name: str) -> Any:
    # the range is checked by FigureQuery._pixels, whose message names it
    return Field(
        default=None,
        description=f"Figure {name} in pixels, {FIGURE_MIN_PX} to {FIGURE_MAX_PX} (400 outside). "
        "A publication's figure at a given size is made once and then served from a cache on "
        "disk (the `X-Cache` header says `hit` or `miss`).",
        json_schema_extra={"minimum": FIGURE_MIN_PX, "maximum": FIGURE_MAX_PX},
    )


class FigureQuery(Frozen):
    width: int | None = _size("width")
    height: int | None = _size("height")
    annotations: str | None = Field(
        default=None, description="Comma-separated annotation ids to show."
    )
    caption: str | None = Field(
        default=None,
        max_length=CAPTION_MAX,
        description="An editor's own caption (editors only), in place of the one written for "
        "the figure "
        "(which is in the report's language: English or Arabic). Right-to-left text is set "
        "right-to-left.",
    )

    @field_validator("caption", mode="before")
    @classmethod
    def _caption(cls, value: Any) -> str | None:
        if value is None:
            return None
        # one paragraph, no control characters (drawn as boxes); bidi marks are kept
        kept = "".join(c for c in str(value) if c.isspace() or unicodedata.category(c) != "Cc")
        text = " ".join(kept.split())
        return text or None

    @field_validator("width", "height", mode="before")
    @classmethod
    def _pixels(cls, value: Any, info: ValidationInfo) -> int | None:
        if value in (None, ""):
            return None
        if not _digits(value) or not FIGURE_MIN_PX <= int(value) <= FIGURE_MAX_PX:
            raise invalid(
                f"{info.field_name} must be a whole number of pixels from {FIGURE_MIN_PX} to "
                f"{FIGURE_MAX_PX}",
                status=400,
                code="bad_request",
            )
        return int(value)

    def annotation_ids(self) -> list[str] | None:
        return [i for i in (self.annotations or "").split(",") if i] or None
