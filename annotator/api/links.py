"""Links API: an annotation or an event supports, contradicts or gives context to a report
or one of its claims. Seen from either side with `?report=`, `?claim=`, `?annotation=` or
`?event=`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.users import Role
from annotations.history import changes_of
from annotations.newsroom import links
from annotations.newsroom.links import LinkInput
from annotator import services
from annotator.api.contract import operation
from annotator.api.models import newsroom as models
from annotator.auth import actor, login_required, role_required
from annotator.services import database

bp = Blueprint("links", __name__, url_prefix="/api/v1/links")
TAGS = ("links",)


@bp.get("")
@login_required
@operation(
    "listLinks",
    summary="Links, seen from either side",
    tags=TAGS,
    query=models.LinkQuery,
    responses={200: models.LinkList},
    errors=(404,),
)
def index(query: models.LinkQuery) -> Response:
    with database().read() as session:
        found = links.find_links(
            session,
            report_id=query.report,
            claim_id=query.claim,
            annotation_id=query.annotation,
            event_id=query.event,
            role=actor().role,
        )
        return jsonify({"links": [link.to_dict() for link in found]})


@bp.post("")
@role_required(Role.analyst)
@operation(
    "createLink",
    summary="Link an annotation or an event to a report or a claim (analyst); 404 when "
    "either end is missing or hidden from you",
    tags=TAGS,
    body=LinkInput,
    responses={201: models.Link},
    errors=(400, 403, 404, 409, 415, 422),
    security="write",
    extra=models.CREATED,
)
def create(body: LinkInput) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        link = links.create_link(session, body, actor(), services.taxonomy())
        found = link.to_dict()
    return jsonify(found), 201, {"Location": url_for("links.show", link_id=found["id"])}


@bp.get("/<link_id>")
@login_required
@operation(
    "getLink",
    summary="A link with its history",
    tags=TAGS,
    responses={200: models.Link},
    errors=(404,),
)
def show(link_id: str) -> Response:
    with database().read() as session:
        link = links.get_link(session, link_id, actor().role)
        body = link.to_dict()
        body["history"] = [c.to_dict() for c in changes_of(session, "link", [link.id])]
        return jsonify(body)


@bp.delete("/<link_id>")
@role_required(Role.analyst)
@operation(
    "deleteLink",
    summary="Unlink (kept in the history; analysts their own links, editors any)",
    tags=TAGS,
    query=models.UnlinkQuery,
    responses={200: models.Unlinked},
    errors=(400, 403, 404),
    security="write",
)
def remove(link_id: str, query: models.UnlinkQuery) -> Response:
    with database().write() as session:
        link = links.get_link(session, link_id, actor().role)
        links.remove_link(session, link, actor(), comment=query.comment)
        return jsonify({"unlinked": link.id})
