"""News reports and the claims quoted from them.

A report is a published article or a story in preparation. A claim is an exact quote from
the report's pasted text, kept as a W3C Web Annotation TextQuoteSelector (`exact`, `prefix`,
`suffix`) so it can be found again in the article. Every change is recorded in the history.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict
from sqlalchemy import ColumnElement, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.annotation import Actor, Forbidden
from annotations.catalogue.users import Role
from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import InvalidInput, Malformed, NotFound
from annotations.history import record_change
from annotations.times import parse_time

ReportStatus = Literal["draft", "published", "withdrawn"]
#: what viewers read: a withdrawn report stays in the record, with why it was withdrawn
PUBLIC_STATUSES = ("published", "withdrawn")
REPORT_STATUSES: tuple[str, ...] = get_args(ReportStatus)
CoarseningMode = Literal["none", "round", "site"]
COARSENING_MODES: tuple[str, ...] = get_args(CoarseningMode)
COARSEN_MAX_M = 100_000
TITLE_MAX = 500
FIELD_MAX = 500
URL_MAX = 2000
SUMMARY_MAX = 10_000
TEXT_MAX = 1_000_000
QUOTE_MAX = 5_000
CONTEXT_CHARS = 32  # how much prefix and suffix a claim keeps when the client sends none
AUTHORS_MAX = 50
LANGUAGE_MAX = 35
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")  # a BCP 47 tag such as en, ar-SY
URL_SCHEMES = ("http", "https")
EXAMPLE_REPORT: JsonDict = {
    "title": "The situation of the Russian forces in Syria",
    "url": "https://news.example.org/syria",
    "published_at": "2026-05-25",
    "language": "en",
    "text": "Satellite images captured two Antonov AN-124 aircraft \u2026 at the Hmeimim base",
    "coarsening": {"mode": "round", "metres": 500},
}


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    url: Mapped[str | None] = mapped_column(String(URL_MAX), nullable=True)
    outlet: Mapped[str | None] = mapped_column(String(FIELD_MAX), nullable=True)
    authors_json: Mapped[str] = mapped_column(Text, default="[]")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    language: Mapped[str | None] = mapped_column(String(LANGUAGE_MAX), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    coarsening: Mapped[str] = mapped_column(String(16), default="none")
    coarsen_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    embed_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    @property
    def authors(self) -> list[str]:
        authors: list[str] = json.loads(self.authors_json)
        return authors

    @property
    def coarsening_text(self) -> str | None:
        """What the public outputs say of the coarsening, or None when precise."""
        if self.coarsening == "round":
            return f"coordinates rounded to {self.coarsen_m} m"
        if self.coarsening == "site":
            return "precise geometries replaced by the site's area"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "authors": self.authors,
            "published_at": iso(self.published_at),
            "language": self.language,
            "summary": self.summary,
            "text": self.text,
            "status": self.status,
            "coarsening": {"mode": self.coarsening, "metres": self.coarsen_m},
            "version": self.version,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_by": self.updated_by,
            "updated_at": iso(self.updated_at),
        }


class Claim(Base):
    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    exact: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text, default="")
    suffix: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[int] = mapped_column(Integer)  # where the quote starts in the text, for display
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "report_id": self.report_id,
            "selector": {
                "type": "TextQuoteSelector",
                "exact": self.exact,
                "prefix": self.prefix,
                "suffix": self.suffix,
            },
            "exact": self.exact,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "start": self.start,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
        }


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# ---- checking what a client sends: the request models of the API, the form and the demo


class Checked(BaseModel):
    """A request model whose validators answer with the precise messages (and statuses) of
    the domain's exceptions: InvalidInput (422) for content, Malformed (400) for a wrong JSON
    type, NotFound (404) for an id that names nothing. Pydantic does not catch them, so the
    first problem found, in the order of the fields, is the answer. A required field that is
    absent reaches its validator as None, which says what is missing."""

    @model_validator(mode="before")
    @classmethod
    def _checked(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # pydantic refuses it: the API's json_body sends objects only
        required = {name: None for name, field in cls.model_fields.items() if field.is_required()}
        return cls.check_whole(required | data)

    @classmethod
    def check_whole(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The checks of the object as a whole, made before those of its fields."""
        return data


def clean_text(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    """Text as sent, newlines made '\\n', at most `limit` characters; None (and, unless
    required, blank text) is None."""
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise InvalidInput(f"'{name}' is required")
        return None
    if not isinstance(value, str):
        raise Malformed(f"'{name}' must be text")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if required and not value.strip():
        raise InvalidInput(f"'{name}' must not be empty")
    if len(value) > limit:
        raise InvalidInput(f"'{name}' is longer than {limit:,} characters")
    return value


def check_url(value: str) -> str:
    """An absolute http(s) URL with a host; anything a browser could run or open locally
    (javascript:, data:, file:, a relative path) is refused."""
    if len(value) > URL_MAX:
        raise InvalidInput(f"url is longer than {URL_MAX} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput("url must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidInput(f"url is not a valid URL: {exc}") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        given = f"'{parts.scheme}:'" if parts.scheme else "a relative path"
        raise InvalidInput(
            f"url must be an absolute http:// or https:// address, not {given}",
            details={"field": "url"},
        )
    if not parts.hostname:
        raise InvalidInput("url has no host name (e.g. https://www.example.org/story)")
    return value


class Coarsening(BaseModel):
    """How published coordinates are coarsened: `none`; `round` to a grid of `metres` (in the
    UTM zone); or `site`: each geometry replaced by its site's area. `null` is `none`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    mode: CoarseningMode = "none"
    metres: int | None = Field(default=None, ge=1, le=COARSEN_MAX_M)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        """`null`, `{"mode": "none"}`, `{"mode": "round", "metres": 500}` or `{"mode": "site"}`."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise Malformed(
                "'coarsening' must be an object such as {'mode': 'round', 'metres': 500}"
            )
        mode = value.get("mode", "none")
        if mode not in COARSENING_MODES:
            raise InvalidInput(f"coarsening mode must be one of {', '.join(COARSENING_MODES)}")
        if mode != "round":
            return {"mode": mode}
        metres = value.get("metres")
        if isinstance(metres, bool) or not isinstance(metres, int | float) or metres != int(metres):
            raise InvalidInput("coarsening 'round' needs 'metres', a whole number of metres")
        if not 1 <= metres <= COARSEN_MAX_M:
            raise InvalidInput(f"coarsening metres must be between 1 and {COARSEN_MAX_M:,}")
        return {"mode": mode, "metres": int(metres)}


#: a time as a client sends it: an ISO 8601 date or date and time (parse_time reads it)
Instant = Annotated[datetime, WithJsonSchema({"type": "string"})]
#: what a report read from the API carries besides its fields: accepted and ignored
IGNORED_FIELDS = ("status", "comment", "id")


class ReportInput(Checked):
    """A report's fields as a client sends them (POST, PUT, the report form). `status`,
    `comment` and `id` are accepted and ignored, so that a report read can be sent back."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_REPORT]})

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    url: str | None = Field(
        default=None,
        max_length=URL_MAX,
        description="http or https only: javascript:, data:, file: and relative addresses are "
        "refused (422).",
        json_schema_extra={"format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    )
    outlet: str | None = Field(default=None, max_length=FIELD_MAX)
    authors: tuple[Annotated[str, Field(max_length=FIELD_MAX)], ...] = Field(
        default=(),
        max_length=AUTHORS_MAX,
        description="A list of names (or one text of names separated by commas).",
    )
    published_at: Instant | None = Field(default=None, description="ISO 8601 date or time.")
    language: str | None = Field(
        default=None,
        max_length=LANGUAGE_MAX,
        description="A BCP 47 tag, e.g. en.",
        json_schema_extra={"pattern": LANGUAGE.pattern},
    )
    summary: str | None = Field(default=None, max_length=SUMMARY_MAX)
    text: str | None = Field(
        default=None, max_length=TEXT_MAX, description="The report's text, which claims quote."
    )
    coarsening: Coarsening = Field(default=Coarsening())
    status: ReportStatus | None = Field(default=None, description="Ignored: publishing sets it.")
    comment: str | None = Field(default=None, description="Ignored.")
    id: int | None = Field(default=None, description="Ignored.")

    @classmethod
    def check_whole(cls, data: dict[str, Any]) -> dict[str, Any]:
        unknown = set(data) - set(cls.model_fields)
        if unknown:
            raise InvalidInput(
                f"unknown report fields: {', '.join(sorted(unknown))}",
                details={"allowed": list(REPORT_FIELDS)},
            )
        return data

    @field_validator("title", mode="before")
    @classmethod
    def _title(cls, value: Any) -> str:
        return (clean_text(value, "title", TITLE_MAX, required=True) or "").strip()

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> str | None:
        url = clean_text(value, "url", URL_MAX)
        return None if url is None else check_url(url)

    @field_validator("outlet", "summary", "text", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> str | None:
        name = info.field_name or ""
        return clean_text(value, name, TEXT_LIMITS[name])

    @field_validator("authors", mode="before")
    @classmethod
    def _authors(cls, value: Any) -> tuple[str, ...]:
        names = value or []
        if isinstance(names, str):
            names = [a for a in (part.strip() for part in names.split(",")) if a]
        if not isinstance(names, list) or not all(isinstance(a, str) for a in names):
            raise Malformed("'authors' must be a list of names")
        if len(names) > AUTHORS_MAX or any(len(a) > FIELD_MAX for a in names):
            raise InvalidInput(f"at most {AUTHORS_MAX} authors of {FIELD_MAX} characters each")
        return tuple(a.strip() for a in names if a.strip())

    @field_validator("published_at", mode="before")
    @classmethod
    def _published_at(cls, value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            raise Malformed("'published_at' must be an ISO 8601 date or time")
        return parse_time(value, "published_at")

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str | None:
        language = clean_text(value, "language", LANGUAGE_MAX)
        if language is not None and not LANGUAGE.match(language):
            raise InvalidInput(f"language {language!r} is not a BCP 47 tag such as 'en' or 'ar'")
        return language

    @field_validator(*IGNORED_FIELDS, mode="before")
    @classmethod
    def _ignored(cls, value: Any) -> None:
        return None


class ReportPatch(ReportInput):
    """Some of a report's fields (PATCH): those sent replace the report's, the others stay."""

    title: str | None = Field(  # type: ignore[assignment]  # optional in a PATCH alone
        default=None, min_length=1, max_length=TITLE_MAX
    )


#: the fields of a report a client sets
REPORT_FIELDS = tuple(name for name in ReportInput.model_fields if name not in IGNORED_FIELDS)
#: each free-text field's limit
TEXT_LIMITS = {"outlet": FIELD_MAX, "summary": SUMMARY_MAX, "text": TEXT_MAX}


def parse_report(data: dict[str, Any]) -> ReportInput:
    """A report's fields checked (the form and the demo; the API validates the same model)."""
    return ReportInput.model_validate(data)


def as_input(report: Report) -> ReportInput:
    return ReportInput.model_construct(
        title=report.title,
        url=report.url,
        outlet=report.outlet,
        authors=tuple(report.authors),
        published_at=report.published_at,
        language=report.language,
        summary=report.summary,
        text=report.text,
        coarsening=Coarsening.model_construct(mode=report.coarsening, metres=report.coarsen_m),
    )


def patched(report: Report, patch: ReportPatch) -> ReportInput:
    """The report's fields with those the patch sent replaced."""
    sent = patch.model_fields_set - set(IGNORED_FIELDS)
    return as_input(report).model_copy(update={name: getattr(patch, name) for name in sent})


# ---- changes, each checked and recorded


def require_role(actor: Actor, role: Role, what: str) -> None:
    if actor.role < role:
        raise Forbidden(f"{what} needs the {role.name} role; {actor.name} is {actor.role.name}")


def _apply(report: Report, data: ReportInput) -> None:
    report.title = data.title
    report.url = data.url
    report.outlet = data.outlet
    report.authors_json = json.dumps(list(data.authors), ensure_ascii=False)
    report.published_at = data.published_at
    report.language = data.language
    report.summary = data.summary
    report.text = data.text
    report.coarsening = data.coarsening.mode
    report.coarsen_m = data.coarsening.metres


def create_report(session: Session, data: ReportInput, actor: Actor) -> Report:
    require_role(actor, Role.editor, "adding a report")
    now = utcnow()
    report = Report(
        status="draft",
        version=1,
        created_by=actor.name,
        created_at=now,
        updated_by=actor.name,
        updated_at=now,
    )
    _apply(report, data)
    session.add(report)
    session.flush()
    record_change(session, "report", report.id, "create", actor.name, None, report.to_dict())
    return report


def update_report(session: Session, report: Report, data: ReportInput, actor: Actor) -> Report:
    require_role(actor, Role.editor, "editing a report")
    before = report.to_dict()
    if data.text != report.text:
        _check_claims_still_found(session, report, data.text)
    _apply(report, data)
    report.version += 1
    report.updated_by = actor.name
    report.updated_at = utcnow()
    record_change(session, "report", report.id, "edit", actor.name, before, report.to_dict())
    return report


def delete_report(session: Session, report: Report, actor: Actor) -> Report:
    require_role(actor, Role.editor, "deleting a report")
    before = report.to_dict()
    report.deleted_at = utcnow()
    report.deleted_by = actor.name
    record_change(session, "report", report.id, "delete", actor.name, before, None)
    return report


def visible(report: Report, role: Role) -> bool:
    """Viewers read published (and withdrawn) reports; drafts are for analysts and editors.
    A deleted report is seen by no one. `visible_to` is the same rule as SQL."""
    if report.deleted_at is not None:
        return False
    return report.status in PUBLIC_STATUSES or role >= Role.analyst


def visible_to(role: Role) -> list[ColumnElement[bool]]:
    """The conditions on `Report` of the reports `role` may see (the rule of `visible`).
    Every read that names, filters by or nests a report, a claim or a link joins `Report`
    and applies these, so that a hidden report is 'not found' however it is reached."""
    conditions: list[ColumnElement[bool]] = [Report.deleted_at.is_(None)]
    if role < Role.analyst:
        conditions.append(Report.status.in_(PUBLIC_STATUSES))
    return conditions


def get_report(session: Session, report_id: Any, role: Role, *, for_update: bool = False) -> Report:
    """A report the role may see; anything else is 'not found', so drafts do not leak."""
    identifier = parse_id(report_id, "report")
    report = session.get(Report, identifier, with_for_update=for_update)
    if report is None or not visible(report, role):
        raise NotFound(f"no report {report_id!r}")
    return report


def list_reports(session: Session, role: Role) -> list[Report]:
    query = select(Report).where(*visible_to(role)).order_by(Report.id.desc())
    return list(session.scalars(query))


def parse_id(value: Any, kind: str) -> int:
    if isinstance(value, bool):
        raise NotFound(f"no {kind} {value!r}")
    if isinstance(value, int):
        identifier = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 12:
        identifier = int(value)
    else:
        raise NotFound(f"no {kind} {value!r}")
    if not 0 < identifier < 2**31:
        raise NotFound(f"no {kind} {value!r}")
    return identifier


# ---- claims


def locate(text: str | None, exact: str, prefix: str = "", suffix: str = "") -> int:
    """Where `prefix + exact + suffix` starts in the text (the offset of `exact`), or -1."""
    if not text or not exact:
        return -1
    found = text.find(prefix + exact + suffix)
    return -1 if found < 0 else found + len(prefix)


class TextQuoteSelector(Checked):
    """A W3C Web Annotation TextQuoteSelector, sent flat or under `selector`: `prefix + exact +
    suffix` must occur in the report's text (422 otherwise). Without prefix and suffix, the
    CONTEXT_CHARS characters either side of the first match are kept."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["TextQuoteSelector"] = "TextQuoteSelector"
    exact: str = Field(max_length=QUOTE_MAX, json_schema_extra={"minLength": 1})
    prefix: str = Field(default="", max_length=QUOTE_MAX)
    suffix: str = Field(default="", max_length=QUOTE_MAX)

    @classmethod
    def check_whole(cls, data: dict[str, Any]) -> dict[str, Any]:
        selector = data.get("selector", data)
        if not isinstance(selector, dict):
            raise Malformed("'selector' must be an object with 'exact', 'prefix' and 'suffix'")
        kind = selector.get("type", "TextQuoteSelector")
        if kind != "TextQuoteSelector":
            raise InvalidInput(f"selector type {kind!r} is not supported; use TextQuoteSelector")
        return {name: selector.get(name) for name in ("exact", "prefix", "suffix")}

    @field_validator("exact", "prefix", "suffix", mode="before")
    @classmethod
    def _quote(cls, value: Any, info: ValidationInfo) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise Malformed(f"'{info.field_name}' must be text")
        if len(value) > QUOTE_MAX:
            raise InvalidInput(f"'{info.field_name}' is longer than {QUOTE_MAX:,} characters")
        return value.replace("\r\n", "\n").replace("\r", "\n")

    @model_validator(mode="after")
    def _not_empty(self) -> TextQuoteSelector:
        if not self.exact.strip():
            raise InvalidInput("the quote ('exact') is empty; select some text of the report")
        return self


def create_claim(
    session: Session, report: Report, exact: str, prefix: str, suffix: str, actor: Actor
) -> Claim:
    require_role(actor, Role.editor, "adding a claim")
    start = locate(report.text, exact, prefix, suffix)
    if start < 0:
        where = "the report has no text yet" if not report.text else "the report's text"
        raise InvalidInput(
            f"the quote cannot be found in {where}; paste the report's text first and quote "
            "it exactly (same spelling, spaces and punctuation)",
            details={"exact": exact[:200], "prefix": prefix[-60:], "suffix": suffix[:60]},
        )
    text = report.text or ""
    if not prefix and not suffix:
        prefix = text[max(0, start - CONTEXT_CHARS) : start]
        suffix = text[start + len(exact) : start + len(exact) + CONTEXT_CHARS]
    claim = Claim(
        report_id=report.id,
        exact=exact,
        prefix=prefix,
        suffix=suffix,
        start=start,
        created_by=actor.name,
        created_at=utcnow(),
    )
    session.add(claim)
    session.flush()
    record_change(session, "claim", claim.id, "create", actor.name, None, claim.to_dict())
    return claim


def get_claim(session: Session, report: Report, claim_id: Any) -> Claim:
    claim = session.get(Claim, parse_id(claim_id, "claim"))
    if claim is None or claim.report_id != report.id or claim.deleted_at is not None:
        raise NotFound(f"report {report.id} has no claim {claim_id!r}")
    return claim


def find_claim(session: Session, claim_id: Any, role: Role) -> tuple[Claim, Report]:
    """A claim by id alone, with its report, if the role may see that report."""
    claim = session.get(Claim, parse_id(claim_id, "claim"))
    if claim is None or claim.deleted_at is not None:
        raise NotFound(f"no claim {claim_id!r}")
    try:
        report = get_report(session, claim.report_id, role)
    except NotFound:
        raise NotFound(f"no claim {claim_id!r}") from None
    return claim, report


def claims_of(session: Session, report_ids: list[int]) -> list[Claim]:
    if not report_ids:
        return []
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.report_id.in_(report_ids), Claim.deleted_at.is_(None))
            .order_by(Claim.start, Claim.id)
        )
    )


def delete_claim(session: Session, claim: Claim, actor: Actor) -> Claim:
    require_role(actor, Role.editor, "removing a claim")
    before = claim.to_dict()
    claim.deleted_at = utcnow()
    claim.deleted_by = actor.name
    record_change(session, "claim", claim.id, "delete", actor.name, before, None)
    return claim


def _check_claims_still_found(session: Session, report: Report, text: str | None) -> None:
    lost = [
        c for c in claims_of(session, [report.id]) if locate(text, c.exact, c.prefix, c.suffix) < 0
    ]
    if lost:
        raise InvalidInput(
            "the new text no longer contains these claims' quotes; remove the claims first or "
            "keep their sentences",
            details={"claims": [{"id": c.id, "exact": c.exact[:200]} for c in lost]},
        )
    for claim in claims_of(session, [report.id]):
        claim.start = locate(text, claim.exact, claim.prefix, claim.suffix)
