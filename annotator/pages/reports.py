"""Pages for people: the reports, one report with its claims, links and publications, and
the events. Writes from the report page go through the JSON API (annotator/static/report.js)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from annotations.annotation import Annotation
from annotations.catalogue.sites import list_sites
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError
from annotations.newsroom import events, publishing, reports
from annotations.newsroom.links import STANCES, find_links
from annotations.newsroom.reports import Claim, Report
from annotations.newsroom.withdrawal import withdrawal_of
from annotator import services
from annotator.auth import actor, login_required, role_required
from annotator.services import database

bp = Blueprint("report_pages", __name__)
FORM_FIELDS = ("title", "url", "outlet", "authors", "published_at", "language", "summary", "text")


def segments(text: str, claims: list[Claim]) -> list[tuple[str, int | None]]:
    """The text cut into runs, each either plain or the quote of one claim (overlapping
    claims are listed but only the first is marked)."""
    runs: list[tuple[str, int | None]] = []
    position = 0
    for claim in sorted(claims, key=lambda c: (c.start, c.id)):
        if claim.start < position or claim.start < 0:
            continue
        end = claim.start + len(claim.exact)
        if text[claim.start : end] != claim.exact:
            continue
        if claim.start > position:
            runs.append((text[position : claim.start], None))
        runs.append((claim.exact, claim.id))
        position = end
    if position < len(text):
        runs.append((text[position:], None))
    return runs


@bp.get("/reports")
@login_required
def index() -> str:
    with database().read() as session:
        found = reports.list_reports(session, actor().role)
        return render_template("reports.html", reports=found)


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {name: request.form.get(name, "") for name in FORM_FIELDS}
    data["url"] = data["url"].strip()
    data["authors"] = [a.strip() for a in data["authors"].split(",") if a.strip()]
    mode = request.form.get("coarsening", "none")
    metres = request.form.get("coarsen_m", "").strip()
    data["coarsening"] = {"mode": mode, "metres": int(metres) if metres.isdigit() else None}
    return data


@bp.route("/reports/new", methods=["GET", "POST"])
@role_required(Role.editor)
def create() -> Any:
    error = None
    values: dict[str, Any] = {}
    if request.method == "POST":
        values = _form_data()
        try:
            data = reports.parse_report(values)
            with database().write() as session:
                report = reports.create_report(session, data, actor())
                return redirect(url_for("report_pages.show", report_id=report.id))
        except AnnotationError as exc:
            error = exc.message
    return render_template("report_form.html", report=None, values=values, error=error), (
        422 if error else 200
    )


@bp.route("/reports/<report_id>/edit", methods=["GET", "POST"])
@role_required(Role.editor)
def edit(report_id: str) -> Any:
    error = None
    with database().read() as session:
        report = reports.get_report(session, report_id, actor().role)
    values: dict[str, Any] = report.to_dict() | {"authors": report.authors}
    if request.method == "POST":
        values = _form_data()
        try:
            data = reports.parse_report(values)
            with database().write() as session:
                found = reports.get_report(session, report_id, actor().role, for_update=True)
                reports.update_report(session, found, data, actor())
            return redirect(url_for("report_pages.show", report_id=report.id))
        except AnnotationError as exc:
            error = exc.message
    return render_template("report_form.html", report=report, values=values, error=error), (
        422 if error else 200
    )


@bp.get("/reports/<report_id>")
@login_required
def show(report_id: str) -> str:
    role = actor().role
    with database().read() as session:
        report = reports.get_report(session, report_id, role)
        claims = reports.claims_of(session, [report.id])
        links = find_links(session, report_id=report.id, role=role)
        annotations = {
            a.id: a
            for a in session.query(Annotation).filter(
                Annotation.id.in_([link.annotation_id for link in links if link.annotation_id])
            )
        }
        event_titles = {
            e.id: e.title
            for e in session.query(events.Event).filter(
                events.Event.id.in_([link.event_id for link in links if link.event_id])
            )
        }
        publications = publishing.publications_of(session, report)
        names = {label.id: label.name for label in services.taxonomy()}
        return render_template(
            "report.html",
            report=report,
            segments=segments(report.text or "", claims),
            claims=claims,
            links=links,
            annotations=annotations,
            event_titles=event_titles,
            label_names=names,
            publications=publications,
            problems=publishing.problems(session, report, services.taxonomy())
            if role >= Role.analyst
            else [],
            withdrawn=withdrawal_of(session, report),
            stances=STANCES,
            modes=reports.COARSENING_MODES,
            can_edit=role >= Role.editor,
            can_link=role >= Role.analyst,
        )


@bp.get("/events")
@login_required
def event_index() -> str:
    with database().read() as session:
        found = [(e, events.site_slug(session, e)) for e in events.list_events(session)]
        names = {site.slug: site.name for site in list_sites(session)}
        return render_template("events.html", events=found, site_names=names)


@bp.get("/events/<event_id>")
@login_required
def event(event_id: str) -> str:
    with database().read() as session:
        found = events.get_event(session, event_id)
        members = events.members(session, found)
        links = find_links(session, event_id=found.id, role=actor().role)
        titles = {
            r.id: r.title
            for r in session.query(Report).filter(Report.id.in_([x.report_id for x in links]))
        }
        return render_template(
            "event.html",
            event=found,
            site=events.site_slug(session, found),
            site_names={site.slug: site.name for site in list_sites(session)},
            members=members,
            summary=events.summary(session, found),
            links=links,
            report_titles=titles,
            label_names={label.id: label.name for label in services.taxonomy()},
        )
