"""The language switcher's form (POST /language: the choice kept for the signed-in user and
in a cookie, then back to the page) and the scripts' catalogues (GET /i18n/<lang>.json)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask import redirect as flask_redirect
from werkzeug.wrappers import Response as BaseResponse

from annotations.catalogue.users import set_language
from annotator.auth import _safe_next as safe_next
from annotator.auth import current_user
from annotator.errors import RequestError
from annotator.language.catalogues import for_scripts
from annotator.language.choice import COOKIE, LANGUAGES
from annotator.services import database

bp = Blueprint("language", __name__)
ONE_YEAR = 365 * 24 * 3600


@bp.route("/language", methods=["POST"])
def choose() -> BaseResponse:
    """Signed in, the CSRF check (annotator/auth.py) runs first, as for every form."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise RequestError(f"unknown language {language[:20]!r}; choose one of {choices}")
    user = current_user()
    if user is not None:
        with database().write() as session:
            set_language(session, user.id, language)
    response = flask_redirect(safe_next(request.form.get("next")), code=303)
    response.set_cookie(
        COOKIE,
        language,
        max_age=ONE_YEAR,
        path="/",
        httponly=True,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        samesite="Lax",
    )
    return response


@bp.route("/i18n/<language>.json")
def catalogue(language: str) -> BaseResponse:
    if language not in LANGUAGES:
        abort(404)
    found = for_scripts(language)
    response = Response(found.body, mimetype="application/json")
    response.set_etag(found.etag)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)
