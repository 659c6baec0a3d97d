"""`/embed/<token>`: a published report's map for a CMS iframe, readable by anyone with the
unguessable token. Only this route may be framed by other sites."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app

from annotations.newsroom import publishing
from annotator import story
from annotator.services import database

bp = Blueprint("embed", __name__)


@bp.get("/embed/<token>")
def embed(token: str) -> Response:
    with database().read() as session:
        report = publishing.report_for_token(session, token)
        found = publishing.get_publication(session, report)
    evidence = publishing.frozen_evidence(found, Path(current_app.config["IMAGES_DIR"]))
    response = story.map_response(found, evidence, frame_ancestors="*")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
