"""What a withdrawn report's public outputs answer: 410 Gone, saying when and why it was
withdrawn, instead of the map (the embed, the interactive map) or the file (figure, bundle)."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Response, render_template
from flask_babel import force_locale

from annotations.newsroom.reports import Report
from annotations.newsroom.withdrawal import Withdrawn
from annotator.errors import RequestError
from annotator.language.choice import LANGUAGES

GONE = 410


def notice_page(report: Report, withdrawn: Withdrawn, *, frame_ancestors: str) -> Response:
    """The notice as a small HTML page, readable in an embed's iframe; 410 Gone: in the
    report's language when the interface has it (the article it was embedded in is), else
    in the reader's."""
    language = (report.language or "").split("-")[0].lower()
    with force_locale(language) if language in LANGUAGES else nullcontext():
        html = render_template("withdrawn.html", report=report, withdrawn=withdrawn)
    response = Response(html, status=GONE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; style-src 'self'; frame-ancestors {frame_ancestors}"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def gone(report: Report, withdrawn: Withdrawn) -> RequestError:
    """The JSON error of an output (figure, bundle) of a withdrawn report."""
    return RequestError(
        f"the report \u201c{report.title}\u201d was withdrawn on "
        f"{withdrawn.at.date().isoformat()}: {withdrawn.reason}",
        status=GONE,
        code="withdrawn",
        details={"withdrawn": withdrawn.to_dict()},
    )
