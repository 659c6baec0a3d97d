"""Which language a request reads: the signed-in user's setting, else the language cookie
(signed-out readers), else the browser's Accept-Language, else ANNOTATOR_DEFAULT_LANGUAGE."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from flask_babel import get_locale

from annotator.auth import current_user

#: every language the interface has, each named in itself (the switcher's words)
LANGUAGES: dict[str, str] = {"en": "English", "ar": "العربية"}
RIGHT_TO_LEFT = frozenset({"ar"})
COOKIE = "annotator_language"


def default() -> str:
    return str(current_app.config["DEFAULT_LANGUAGE"])


def chosen() -> str:
    """Flask-Babel's locale selector."""
    if not has_request_context():
        return default()
    g.language_from_request = True
    user = current_user()
    if user is not None and user.language in LANGUAGES:
        return str(user.language)
    cookie = request.cookies.get(COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or default()


def current() -> str:
    """The language of this response (the <html lang> code)."""
    locale = get_locale()
    code = locale.language if locale is not None else default()
    return code if code in LANGUAGES else default()


def direction() -> str:
    return "rtl" if current() in RIGHT_TO_LEFT else "ltr"


def others() -> list[tuple[str, str]]:
    """The languages the switcher offers: every one but the current, with its own name."""
    here = current()
    return [(code, name) for code, name in LANGUAGES.items() if code != here]
