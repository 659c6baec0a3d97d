"""The interface's languages (English, Arabic) through Flask-Babel: which one a request
reads (choice), the gettext catalogues and their JSON copy for scripts (catalogues), dates
and numbers by locale (formats), and the switcher's and the scripts' routes (routes).

Templates mark strings with `_()` / `{% trans %}`; `make messages` extracts them into
annotator/translations/messages.pot and updates each language's messages.po.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from flask_babel import Babel

from annotator.language import catalogues, choice, formats, gis, routes, words
from annotator.language.choice import LANGUAGES
from annotator.language.form_errors import form_error, problem_line


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(catalogues.FOLDER)
    catalogues.compile_stale(catalogues.FOLDER)
    Babel(app, locale_selector=choice.chosen)
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(
        language=choice.current,
        direction=choice.direction,
        other_languages=choice.others,
        role_name=words.role_name,
        status_name=words.status_name,
        status_names=words.status_names,
        format_title=words.format_title,
        refusal=words.refusal,
        confidence_name=words.confidence_name,
        report_status_name=words.report_status_name,
        stance_name=words.stance_name,
        language_name=words.language_name,
        form_error=form_error,
        problem_line=problem_line,
        script_strings=_script_strings,
    )
    formats.init_app(app)
    gis.init_app(app)
    app.register_blueprint(routes.bp)
    app.after_request(_vary)


def _script_strings() -> dict[str, str]:
    """The scripts' strings in this page's language, for base.html's JSON block that the
    classic (non-module) scripts read through Annotator.t (common.js)."""
    return catalogues.for_scripts(choice.current()).strings


def _vary(response: Any) -> Any:
    """A page read in the browser's language differs by its Accept-Language and cookie."""
    if g.get("language_from_request") and request.method in ("GET", "HEAD"):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


__all__ = ["LANGUAGES", "init_app"]
