"""Log in and out, who is asking, role checks, and CSRF for browser writes.

Browsers use a signed session cookie (HttpOnly, SameSite=Lax) and send the session's
CSRF token with every write; scripts send `Authorization: Bearer <token>` instead.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from annotations.users import Role, User, authenticate, user_for_token
from annotator.errors import RequestError
from annotator.extensions import database

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def current_user() -> User | None:
    """The user behind this request, looked up once per request."""
    if "user" in g:
        return g.user
    user: User | None = None
    token = bearer_token()
    with database().read() as db_session:
        if token is not None:
            user = user_for_token(db_session, token)
        elif session.get("uid") is not None:
            found = db_session.get(User, session["uid"])
            if found is not None and found.active:
                user = found
    g.user = user
    return user


class RecentTokens:
    """Bearer tokens seen valid in the last `ttl` seconds, for read-only tile requests.

    A tile costs a few milliseconds; a token lookup would add about two. A revoked
    token therefore keeps reading tiles for at most `ttl` seconds on a worker that saw it.
    """

    def __init__(self, ttl: float = 30.0, limit: int = 1024) -> None:
        self.ttl = ttl
        self.limit = limit
        self._seen: dict[str, float] = {}

    def valid(self, token: str) -> bool:
        key = hashlib.sha256(token.encode()).hexdigest()
        expires = self._seen.get(key)
        now = time.monotonic()
        if expires is not None and expires > now:
            return True
        if current_user() is None:
            return False
        if len(self._seen) >= self.limit:
            self._seen.clear()
        self._seen[key] = now + self.ttl
        return True


_recent_tokens = RecentTokens()


def signed_in_quickly() -> bool:
    """For tiles: a signed session cookie, or a token seen valid moments ago, is enough."""
    token = bearer_token()
    if token is None:
        return session.get("uid") is not None
    return _recent_tokens.valid(token)


def refuse_anonymous() -> BaseResponse:
    if request.path.startswith(("/api/", "/tiles/")):
        raise RequestError(
            "sign in, or send 'Authorization: Bearer <token>' (annotator tokens create)",
            status=401,
            code="unauthorized",
        )
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return refuse_anonymous()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def role_required(role: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return refuse_anonymous()
            if not user.can(role):
                raise RequestError(
                    f"this needs the {role.name} role; you are {user.role.name}",
                    status=403,
                    code="forbidden",
                )
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def check_csrf() -> None:
    """Browser writes must echo the session's token; bearer-token scripts are exempt."""
    if request.method not in UNSAFE or current_app.config.get("CSRF_DISABLED"):
        return
    if bearer_token() is not None:
        return
    if session.get("uid") is None and request.endpoint != "auth.login":
        return  # not signed in: the view's role check answers 401
    expected = session.get("csrf")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise RequestError(
            "missing or wrong CSRF token; reload the page and try again",
            status=400,
            code="csrf_failed",
        )


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("pages.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        name = request.form.get("name", "")
        password = request.form.get("password", "")
        with database().read() as db_session:
            user = authenticate(db_session, name, password)
            if user is not None:
                session.clear()
                session["uid"] = user.id
                session["csrf"] = secrets.token_urlsafe(32)
                session.permanent = True
                return redirect(_safe_next(request.args.get("next")))
        error = "Wrong name or password."
    status = 401 if error else 200
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(bp)
