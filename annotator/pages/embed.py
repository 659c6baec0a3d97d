"""`/embed/<token>`: a published report's map for a CMS iframe, readable by anyone with the
unguessable token. Only this route may be framed by other sites. A withdrawn report's embed
answers 410 with when and why it was withdrawn, in place of the map."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app

from annotations.newsroom import publishing
from annotations.newsroom.withdrawal import withdrawal_of
from annotator import story
from annotator.pages.withdrawn import notice_page
from annotator.services import database

bp = Blueprint("embed", __name__)


@bp.get("/embed/<token>")
def embed(token: str) -> Response:
    with database().read() as session:
        report = publishing.report_for_token(session, token)
        withdrawn = withdrawal_of(session, report)
        if withdrawn is not None:
            return notice_page(report, withdrawn, frame_ancestors="*")
        found = publishing.get_publication(session, report)
    evidence = publishing.frozen_evidence(found, Path(current_app.config["IMAGES_DIR"]))
    response = story.map_response(found, evidence, frame_ancestors="*")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
