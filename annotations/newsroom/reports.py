"""News reports and the claims quoted from them.

A report is a published article or a story in preparation. A claim is an exact quote from
the report's pasted text, kept as a W3C Web Annotation TextQuoteSelector (`exact`, `prefix`,
`suffix`) so it can be found again in the article. Every change is recorded in the history.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from annotations.annotation import Actor, Forbidden
from annotations.catalogue.users import Role
from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import InvalidInput, Malformed, NotFound
from annotations.history import record_change
from annotations.times import parse_time

REPORT_STATUSES = ("draft", "published")
COARSENING_MODES = ("none", "round", "site")
COARSEN_MAX_M = 100_000
TITLE_MAX = 500
FIELD_MAX = 500
URL_MAX = 2000
SUMMARY_MAX = 10_000
TEXT_MAX = 1_000_000
QUOTE_MAX = 5_000
CONTEXT_CHARS = 32  # how much prefix and suffix a claim keeps when the client sends none
AUTHORS_MAX = 50
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")  # a BCP 47 tag such as en, ar-SY
URL_SCHEMES = ("http", "https")


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    url: Mapped[str | None] = mapped_column(String(URL_MAX), nullable=True)
    outlet: Mapped[str | None] = mapped_column(String(FIELD_MAX), nullable=True)
    authors_json: Mapped[str] = mapped_column(Text, default="[]")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
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


# ---- checking what a client sends


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


def clean_text(
    data: dict[str, Any], name: str, limit: int, *, required: bool = False
) -> str | None:
    value = data.get(name)
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


@dataclass(frozen=True)
class Coarsening:
    mode: str = "none"
    metres: int | None = None

    @classmethod
    def parse(cls, value: Any) -> Coarsening:
        """`null`, `{"mode": "none"}`, `{"mode": "round", "metres": 500}` or `{"mode": "site"}`."""
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise Malformed(
                "'coarsening' must be an object such as {'mode': 'round', 'metres': 500}"
            )
        mode = value.get("mode", "none")
        if mode not in COARSENING_MODES:
            raise InvalidInput(f"coarsening mode must be one of {', '.join(COARSENING_MODES)}")
        if mode != "round":
            return cls(mode)
        metres = value.get("metres")
        if isinstance(metres, bool) or not isinstance(metres, int | float) or metres != int(metres):
            raise InvalidInput("coarsening 'round' needs 'metres', a whole number of metres")
        if not 1 <= metres <= COARSEN_MAX_M:
            raise InvalidInput(f"coarsening metres must be between 1 and {COARSEN_MAX_M:,}")
        return cls(mode, int(metres))


@dataclass
class ReportInput:
    title: str
    url: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    language: str | None = None
    summary: str | None = None
    text: str | None = None
    coarsening: Coarsening = Coarsening()


REPORT_FIELDS = (
    "title",
    "url",
    "outlet",
    "authors",
    "published_at",
    "language",
    "summary",
    "text",
    "coarsening",
)


def parse_report(data: Any, *, base: ReportInput | None = None) -> ReportInput:
    """Validate a report's fields; with `base`, absent fields keep their values (PATCH)."""
    if not isinstance(data, dict):
        raise Malformed("the body must be a JSON object of report fields")
    unknown = set(data) - set(REPORT_FIELDS) - {"status", "comment", "id"}
    if unknown:
        raise InvalidInput(
            f"unknown report fields: {', '.join(sorted(unknown))}",
            details={"allowed": list(REPORT_FIELDS)},
        )
    current = base or ReportInput(title="")

    def given(name: str) -> bool:
        return name in data or base is None

    title = clean_text(data, "title", TITLE_MAX, required=True) if given("title") else current.title
    url = current.url
    if given("url"):
        url = clean_text(data, "url", URL_MAX)
        url = None if url is None else check_url(url)
    outlet = clean_text(data, "outlet", FIELD_MAX) if given("outlet") else current.outlet
    authors = current.authors
    if given("authors"):
        raw = data.get("authors") or []
        if isinstance(raw, str):
            raw = [a for a in (part.strip() for part in raw.split(",")) if a]
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            raise Malformed("'authors' must be a list of names")
        if len(raw) > AUTHORS_MAX or any(len(a) > FIELD_MAX for a in raw):
            raise InvalidInput(f"at most {AUTHORS_MAX} authors of {FIELD_MAX} characters each")
        authors = tuple(a.strip() for a in raw if a.strip())
    published_at = current.published_at
    if given("published_at"):
        stamp = data.get("published_at")
        if stamp in (None, ""):
            published_at = None
        elif isinstance(stamp, str):
            published_at = parse_time(stamp, "published_at")
        else:
            raise Malformed("'published_at' must be an ISO 8601 date or time")
    language = current.language
    if given("language"):
        language = clean_text(data, "language", 35)
        if language is not None and not LANGUAGE.match(language):
            raise InvalidInput(f"language {language!r} is not a BCP 47 tag such as 'en' or 'ar'")
    summary = clean_text(data, "summary", SUMMARY_MAX) if given("summary") else current.summary
    text = clean_text(data, "text", TEXT_MAX) if given("text") else current.text
    coarsening = current.coarsening
    if given("coarsening"):
        coarsening = Coarsening.parse(data.get("coarsening"))
    return ReportInput(
        title=(title or "").strip(),
        url=url,
        outlet=outlet,
        authors=authors,
        published_at=published_at,
        language=language,
        summary=summary,
        text=text,
        coarsening=coarsening,
    )


def as_input(report: Report) -> ReportInput:
    return ReportInput(
        title=report.title,
        url=report.url,
        outlet=report.outlet,
        authors=tuple(report.authors),
        published_at=report.published_at,
        language=report.language,
        summary=report.summary,
        text=report.text,
        coarsening=Coarsening(report.coarsening, report.coarsen_m),
    )


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
    """Viewers read published reports; drafts are for analysts and editors. A deleted
    report is seen by no one. `visible_to` is the same rule as SQL."""
    if report.deleted_at is not None:
        return False
    return report.status == "published" or role >= Role.analyst


def visible_to(role: Role) -> list[ColumnElement[bool]]:
    """The conditions on `Report` of the reports `role` may see (the rule of `visible`).
    Every read that names, filters by or nests a report, a claim or a link joins `Report`
    and applies these, so that a hidden report is 'not found' however it is reached."""
    conditions: list[ColumnElement[bool]] = [Report.deleted_at.is_(None)]
    if role < Role.analyst:
        conditions.append(Report.status == "published")
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


def parse_selector(data: Any) -> tuple[str, str, str]:
    """A TextQuoteSelector, flat or under 'selector'."""
    if not isinstance(data, dict):
        raise Malformed("send a TextQuoteSelector: {'exact': ..., 'prefix': ..., 'suffix': ...}")
    selector = data.get("selector", data)
    if not isinstance(selector, dict):
        raise Malformed("'selector' must be an object with 'exact', 'prefix' and 'suffix'")
    kind = selector.get("type", "TextQuoteSelector")
    if kind != "TextQuoteSelector":
        raise InvalidInput(f"selector type {kind!r} is not supported; use TextQuoteSelector")
    parts = []
    for name in ("exact", "prefix", "suffix"):
        value = selector.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise Malformed(f"'{name}' must be text")
        if len(value) > QUOTE_MAX:
            raise InvalidInput(f"'{name}' is longer than {QUOTE_MAX:,} characters")
        parts.append(value.replace("\r\n", "\n").replace("\r", "\n"))
    exact, prefix, suffix = parts
    if not exact.strip():
        raise InvalidInput("the quote ('exact') is empty; select some text of the report")
    return exact, prefix, suffix


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
