"""Discussion API: comment threads on annotations and claims, the activity feeds of sites and
reports, each person's inbox, and the names offered for @-completion.

Who sees what: an annotation's thread is read by every signed-in user (as the annotation is),
a claim's by whoever may see its report; analysts and up write. Feeds leave out links to, and
talk on, reports the reader may not see. Nothing here is public: signed-out readers, embeds,
bundles and publications never carry comments or feeds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.sites import get_site
from annotations.catalogue.users import Role
from annotations.discussion import comments as talk
from annotations.discussion.feed import report_feed, site_feed
from annotations.discussion.inbox import Person, inbox, mark_read, unread_count
from annotations.labels.taxonomy import UnknownLabel
from annotations.newsroom.reports import get_report
from annotator import services
from annotator.api.contract import operation
from annotator.api.models import discussion as models
from annotator.auth import actor, login_required, role_required
from annotator.services import database

bp = Blueprint("discussion", __name__, url_prefix="/api/v1")
TAGS = ("discussion",)
CREATED = {"responses": {201: {"headers": {"Location": {"$ref": "#/components/headers/Location"}}}}}


def label_name(label: str | None) -> str | None:
    """The taxonomy's name of a label id, for people ('An-124', not 'aircraft.an124')."""
    if label is None:
        return None
    try:
        return services.taxonomy().get(label).name
    except UnknownLabel:
        return label


def named_feed(page: dict[str, Any]) -> dict[str, Any]:
    for entry in page["entries"]:
        if entry["subject"]["type"] == "annotation" and entry["subject"].get("image_id"):
            entry["subject"]["text"] = label_name(entry["subject"]["text"])
    return page


def named_inbox(found: dict[str, Any]) -> dict[str, Any]:
    for entry in found["items"] + found["waiting"]["items"]:
        if entry.get("annotation"):
            entry["annotation"]["label_name"] = label_name(entry["annotation"]["label"])
    return found


def _created(comment: talk.Comment, names: list[str]) -> tuple[Response, int, dict[str, str]]:
    where = url_for("discussion.show_comment", comment_id=comment.id)
    return jsonify(comment.to_dict(names)), 201, {"Location": where}


@bp.get("/annotations/<annotation_id>/comments")
@login_required
@operation(
    "annotationComments",
    summary="The comment thread of an annotation, oldest first",
    tags=TAGS,
    responses={200: models.CommentThread},
    errors=(404,),
)
def annotation_comments(annotation_id: str) -> Response:
    with database().read() as session:
        found = talk.annotation_thread(session, annotation_id)
        return jsonify({"comments": talk.as_dicts(session, found)})


@bp.post("/annotations/<annotation_id>/comments")
@role_required(Role.analyst)
@operation(
    "commentOnAnnotation",
    summary="Comment on an annotation (analyst); @name mentions a user",
    tags=TAGS,
    body=models.NewComment,
    responses={201: models.ThreadComment},
    errors=(403, 404, 415),
    security="write",
    extra=CREATED,
)
def comment_on_annotation(
    annotation_id: str, body: models.NewComment
) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        comment, names = talk.post_on_annotation(session, annotation_id, body.body, actor())
        return _created(comment, names)


@bp.get("/claims/<claim_id>/comments")
@login_required
@operation(
    "claimComments",
    summary="The comment thread of a claim, oldest first (404 when its report is hidden)",
    tags=TAGS,
    responses={200: models.CommentThread},
    errors=(404,),
)
def claim_comments(claim_id: str) -> Response:
    with database().read() as session:
        found = talk.claim_thread(session, claim_id, actor().role)
        return jsonify({"comments": talk.as_dicts(session, found)})


@bp.post("/claims/<claim_id>/comments")
@role_required(Role.analyst)
@operation(
    "commentOnClaim",
    summary="Comment on a claim of a report (analyst); @name mentions a user",
    tags=TAGS,
    body=models.NewComment,
    responses={201: models.ThreadComment},
    errors=(403, 404, 415),
    security="write",
    extra=CREATED,
)
def comment_on_claim(
    claim_id: str, body: models.NewComment
) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        comment, names = talk.post_on_claim(session, claim_id, body.body, actor())
        return _created(comment, names)


@bp.get("/comments/<comment_id>")
@login_required
@operation(
    "getComment",
    summary="One comment",
    tags=TAGS,
    responses={200: models.ThreadComment},
    errors=(404,),
)
def show_comment(comment_id: str) -> Response:
    with database().read() as session:
        comment = talk.get_comment(session, comment_id, actor().role)
        return jsonify(talk.as_dicts(session, [comment])[0])


@bp.delete("/comments/<comment_id>")
@role_required(Role.analyst)
@operation(
    "withdrawComment",
    summary="Withdraw your comment (its author only; kept in the history, not shown)",
    description="Comments are not edited: what others read and answered stays as it was "
    "said. To correct one, withdraw it or write another.",
    tags=TAGS,
    responses={200: models.ThreadComment},
    errors=(403, 404),
    security="write",
)
def withdraw_comment(comment_id: str) -> Response:
    with database().write() as session:
        comment = talk.get_comment(session, comment_id, actor().role, for_update=True)
        talk.withdraw(session, comment, actor())
        return jsonify(talk.as_dicts(session, [comment])[0])


@bp.get("/sites/<slug>/activity")
@login_required
@operation(
    "siteActivity",
    summary="What happened on a site, newest first: annotations made, submitted, reviewed "
    "and talked about, its events, and their links to reports you may see",
    tags=TAGS,
    query=models.FeedPageQuery,
    responses={200: models.Feed},
    errors=(404,),
)
def site_activity(slug: str, query: models.FeedPageQuery) -> Response:
    with database().read() as session:
        site = get_site(session, slug)
        page = site_feed(session, site, actor().role, query.cursor, query.limit)
        return jsonify(named_feed(page.to_dict()))


@bp.get("/reports/<report_id>/activity")
@login_required
@operation(
    "reportActivity",
    summary="What happened on a report, newest first: edits, claims, links, publications "
    "and the talk on its claims",
    tags=TAGS,
    query=models.FeedPageQuery,
    responses={200: models.Feed},
    errors=(404,),
)
def report_activity(report_id: str, query: models.FeedPageQuery) -> Response:
    with database().read() as session:
        report = get_report(session, report_id, actor().role)
        return jsonify(report_feed(session, report, query.cursor, query.limit).to_dict())


@bp.get("/inbox")
@login_required
@operation(
    "inbox",
    summary="What concerns me: my items reviewed, mentions of me and talk on my annotations, "
    "and (editors) annotations waiting for review",
    tags=TAGS,
    query=models.FeedPageQuery,
    responses={200: models.Inbox},
)
def my_inbox(query: models.FeedPageQuery) -> Response:
    with database().read() as session:
        return jsonify(named_inbox(inbox(session, Person.of(actor()), query.cursor, query.limit)))


@bp.post("/inbox/read")
@login_required
@operation(
    "markInboxRead",
    summary="Mark inbox items read, or all of them",
    tags=TAGS,
    body=models.MarkRead,
    responses={200: models.InboxMarked},
    errors=(404, 415),
    security="write",
)
def inbox_read(body: models.MarkRead) -> Response:
    person = Person.of(actor())
    with database().write() as session:
        marked = mark_read(session, person, body.chosen())
        return jsonify({"marked": marked, "unread": unread_count(session, person)})


@bp.get("/people")
@login_required
@operation(
    "listPeople",
    summary="Active users whose names start with `q`, for @-completion (names and roles only)",
    tags=TAGS,
    query=models.PeopleQuery,
    responses={200: models.MentionableList},
)
def people(query: models.PeopleQuery) -> Response:
    with database().read() as session:
        return jsonify({"people": talk.people(session, query.q)})
