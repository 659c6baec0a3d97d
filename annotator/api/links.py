"""Links API: an annotation or an event supports, contradicts or gives context to a report
or one of its claims. Seen from either side with `?report=`, `?claim=`, `?annotation=` or
`?event=`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from annotations.catalogue.users import Role
from annotations.history import changes_of
from annotations.newsroom import links
from annotations.newsroom.reports import parse_id
from annotator.auth import actor, login_required, role_required
from annotator.forms import json_body
from annotator.services import database

bp = Blueprint("links", __name__, url_prefix="/api/v1/links")


@bp.get("")
@login_required
def index() -> Response:
    args = request.args

    def number(name: str) -> int | None:
        value = args.get(name)
        return None if not value else parse_id(value, name)

    with database().read() as session:
        found = links.find_links(
            session,
            report_id=number("report"),
            claim_id=number("claim"),
            annotation_id=args.get("annotation") or None,
            event_id=number("event"),
            role=actor().role,
        )
        return jsonify({"links": [link.to_dict() for link in found]})


@bp.post("")
@role_required(Role.analyst)
def create() -> tuple[Response, int, dict[str, str]]:
    data = links.parse_link(json_body())
    with database().write() as session:
        link = links.create_link(session, data, actor())
        body = link.to_dict()
    return jsonify(body), 201, {"Location": url_for("links.show", link_id=body["id"])}


@bp.get("/<link_id>")
@login_required
def show(link_id: str) -> Response:
    with database().read() as session:
        link = links.get_link(session, link_id, actor().role)
        body = link.to_dict()
        body["history"] = [c.to_dict() for c in changes_of(session, "link", [link.id])]
        return jsonify(body)


@bp.delete("/<link_id>")
@role_required(Role.analyst)
def remove(link_id: str) -> Response:
    with database().write() as session:
        link = links.get_link(session, link_id, actor().role)
        links.remove_link(session, link, actor(), comment=request.args.get("comment"))
        return jsonify({"unlinked": link.id})
