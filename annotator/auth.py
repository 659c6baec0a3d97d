"""Log in and out, who is asking, role checks, CSRF for browser writes, and the sign-in
throttle.

Browsers hold a session cookie (HttpOnly, SameSite=Lax, Secure when configured) whose
value is only a random id: the session itself (user, CSRF token, times) is a row on the
server, found by the id's sha256, so signing out, a new password or switching the user off
ends it, and it ends on its own after ANNOTATOR_SESSION_LIFETIME_MINUTES or
ANNOTATOR_SESSION_IDLE_MINUTES without a request. The cookie is set once at sign-in and
never renewed. Before sign-in the cookie holds a random nonce, and the sign-in form's CSRF
token is an HMAC of it under the app's secret key, so no cookie reveals a CSRF token.

Every browser write echoes the session's CSRF token; scripts send
`Authorization: Bearer <token>` instead.

Sign-in is rate-limited per account (failed attempts) and per address (all attempts) with
the `limits` library, counted in the app's database so every worker process shares them;
at most ANNOTATOR_SIGNIN_CONCURRENCY password checks (scrypt) run at once per process.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import limits
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from annotations.annotation import Actor
from annotations.catalogue.users import (
    NOTE_USE_EVERY,
    LiveSession,
    Role,
    SessionRules,
    User,
    authenticate,
    dummy_hash,
    end_session,
    find_session,
    find_token,
    note_token_use,
    start_session,
    touch_session,
)
from annotations.db import utcnow
from annotations.throttle import DatabaseStorage
from annotator import metrics, services
from annotator.access import keys as read_keys
from annotator.config import ConfigError
from annotator.errors import RequestError, error_response, wants_json
from annotator.services import database

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
SIGNED_IN = "s."  # cookie value prefix: a server-side session's random id follows
ANONYMOUS = "a."  # cookie value prefix: a nonce the sign-in form's CSRF token is made from


# --- sessions ---------------------------------------------------------------------------


def _rules() -> SessionRules:
    rules: SessionRules = current_app.extensions["annotator.session_rules"]
    return rules


def _cookie() -> str:
    g.cookie_read = True
    return request.cookies.get(current_app.config["SESSION_COOKIE_NAME"], "")


def _session_id() -> str | None:
    value = _cookie()
    return value[len(SIGNED_IN) :] if value.startswith(SIGNED_IN) else None


def browser_session() -> LiveSession | None:
    """The live server-side session behind this request's cookie, looked up once."""
    if "browser_session" in g:
        live: LiveSession | None = g.browser_session
        return live
    live = None
    raw = _session_id()
    if raw:
        with database().read() as db_session:
            live = find_session(db_session, raw, _rules())
        if live is not None and live.needs_touch:
            with database().write() as db_session:
                touch_session(db_session, live.id_sha256)
        if live is None:
            g.drop_cookie = True  # ended or expired: the browser may forget it
    g.browser_session = live
    return live


def _anonymous_csrf(nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"sign-in form|{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _anonymous_nonce(create: bool) -> str | None:
    if "anonymous_nonce" in g:
        nonce: str | None = g.anonymous_nonce
        return nonce
    value = _cookie()
    nonce = value[len(ANONYMOUS) :] if value.startswith(ANONYMOUS) else None
    if nonce is not None and not 20 <= len(nonce) <= 64:
        nonce = None
    if nonce is None and create:
        nonce = secrets.token_urlsafe(32)
        g.new_cookie = (ANONYMOUS + nonce, None)
    g.anonymous_nonce = nonce
    return nonce


def csrf_token() -> str:
    """The token forms and scripts echo: the session's, or before sign-in the form's."""
    live = browser_session()
    if live is not None:
        return live.csrf_token
    nonce = _anonymous_nonce(create=True)
    return _anonymous_csrf(nonce or "")


def _expected_csrf() -> str | None:
    live = browser_session()
    if live is not None:
        return live.csrf_token
    nonce = _anonymous_nonce(create=False)
    return None if nonce is None else _anonymous_csrf(nonce)


def _cookie_headers(response: BaseResponse) -> BaseResponse:
    config = current_app.config
    name = config["SESSION_COOKIE_NAME"]
    new_cookie: tuple[str, int | None] | None = g.get("new_cookie")
    if new_cookie is not None:
        value, max_age = new_cookie
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=bool(config["SESSION_COOKIE_SECURE"]),
            samesite=config["SESSION_COOKIE_SAMESITE"],
        )
    elif g.get("drop_cookie"):
        response.delete_cookie(
            name,
            path="/",
            httponly=True,
            secure=bool(config["SESSION_COOKIE_SECURE"]),
            samesite=config["SESSION_COOKIE_SAMESITE"],
        )
    if g.get("cookie_read"):
        response.vary.add("Cookie")
    return response


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _token_user(token: str, *, key_only: bool) -> User | None:
    """The user of a live token; a key (scope read-tiles) counts only where
    `read_keys.key_allowed` says, and `key_only` (a ?key= or Basic password) takes nothing
    but a key."""
    with database().read() as db_session:
        row = find_token(db_session, token)
        if row is None or (key_only and not row.is_key):
            return None
        if row.is_key and not read_keys.key_allowed():
            return None
        user, token_id, last_used = row.user, row.id, row.last_used_at
    if last_used is None or utcnow() - last_used > NOTE_USE_EVERY:
        try:
            with database().write() as db_session:
                note_token_use(db_session, token_id)
        except SQLAlchemyError as exc:  # a busy or full database: the read goes on
            log.warning("could not note a token's use: %s", type(exc).__name__)
    return user


def current_user() -> User | None:
    """The user behind this request, looked up once per request: a bearer token, else a key
    (?key= or a Basic password) where keys count, else the browser session."""
    if "user" in g:
        found: User | None = g.user
        return found
    user: User | None = None
    token = bearer_token()
    key = read_keys.presented_key() if token is None else None
    if token is not None:
        user = _token_user(token, key_only=False)
    elif key and read_keys.key_allowed():
        user = _token_user(key, key_only=True)
        if user is not None:
            read_keys.note_key(key, from_query=read_keys.query_key() is not None)
    if user is None and token is None:
        live = browser_session()
        user = None if live is None else live.user
    g.user = user
    return user


class RecentSignIns:
    """Credentials (a bearer token's or a session id's sha256) seen valid in the last `ttl`
    seconds, so a tile request does not pay a database lookup each.

    Sign-out, a new password and switching a user off remove that user's entries in this
    process at once; in other worker processes (and after `annotator users` commands) a
    credential that was valid keeps reading tiles for at most `ttl` seconds.
    """

    def __init__(self, ttl: float = 5.0, limit: int = 4096) -> None:
        self.ttl = ttl
        self.limit = limit
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def valid(self, key: str) -> bool:
        seen = self._seen.get(key)
        now = time.monotonic()
        if seen is not None and seen[0] > now:
            return True
        user = current_user()
        if user is None:
            self._seen.pop(key, None)
            return False
        with self._lock:
            if len(self._seen) >= self.limit:
                self._seen.clear()
            self._seen[key] = (now + self.ttl, user.id)
        return True

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def forget_user(self, user_id: int) -> None:
        with self._lock:
            self._seen = {k: v for k, v in self._seen.items() if v[1] != user_id}


def recent_sign_ins() -> RecentSignIns:
    recent: RecentSignIns = current_app.extensions["annotator.recent_sign_ins"]
    return recent


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def signed_in_quickly() -> bool:
    """For tiles: the same rule as every route (a live session of an active user, or a
    valid token), answered from a few seconds' memory when it was checked moments ago."""
    token = bearer_token()
    if token is not None:
        return recent_sign_ins().valid("token:" + _digest(token))
    key = read_keys.presented_key()
    if key and recent_sign_ins().valid("token:" + _digest(key)):
        if read_keys.query_key() is not None:
            g.url_key = key  # remembered with the sign-in: TileJSON's URLs carry it
        return True
    raw = _session_id()
    if not raw:
        return False
    return recent_sign_ins().valid("session:" + _digest(raw))


def forget_token(token_sha256: str) -> None:
    """Drop a revoked token's or key's cached sign-in in this process, so it fails at once."""
    recent_sign_ins().forget("token:" + token_sha256)


def forget_user(user_id: int) -> None:
    """Drop a user's cached sign-ins in this process (after switch-off or a new password)."""
    recent_sign_ins().forget_user(user_id)


def refuse_anonymous() -> BaseResponse:
    if request.path.startswith(("/api/", "/tiles/")):
        raise RequestError(
            "sign in, or send 'Authorization: Bearer <token>' (annotator tokens create)",
            status=401,
            code="unauthorized",
        )
    back = read_keys.without_key(request.full_path.rstrip("?"))  # a key never rides along
    return redirect(url_for("auth.login", next=back))


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


def refuse_key_writes() -> None:
    """Keys never write: a write that carries one (?key=, Basic, a key as bearer) is 403."""
    if request.method in UNSAFE and read_keys.carries_key(bearer_token()):
        raise RequestError(
            "keys are read-only: a write needs a signed-in session or a full API token",
            status=403,
            code="forbidden",
        )


def check_csrf() -> None:
    """Browser writes must echo the session's token; bearer-token scripts are exempt."""
    if request.method not in UNSAFE or current_app.config.get("CSRF_DISABLED"):
        return
    if bearer_token() is not None:
        return
    if browser_session() is None and request.endpoint != "auth.login":
        return  # not signed in: the view's role check answers 401
    expected = _expected_csrf()
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise RequestError(
            "missing or wrong CSRF token; reload the page and try again",
            status=400,
            code="csrf_failed",
        )


def _safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this app, else the home page. Control
    characters (a header injection) and backslashes (browsers read `/\\host` as `//host`)
    are refused as well as other hosts."""
    home = url_for("pages.home")
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return home
    try:
        parts = urlsplit(target)
    except ValueError:
        return home
    if parts.scheme or parts.netloc:
        return home
    return target


# --- the sign-in throttle ----------------------------------------------------------------


@dataclass
class SignInThrottle:
    """Per-account and per-address limits (fixed windows) and the password-check slots."""

    limiter: FixedWindowRateLimiter
    per_account: limits.RateLimitItem
    per_address: limits.RateLimitItem
    slots: threading.BoundedSemaphore

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until sign-in may be tried again, or None if it may be now."""
        waits = []
        checks = (
            (self.per_account, ("account", _account(name))),
            (self.per_address, ("address", address)),
        )
        for item, keys in checks:
            if not self.limiter.test(item, *keys):
                reset = self.limiter.get_window_stats(item, *keys).reset_time
                waits.append(max(1, math.ceil(reset - time.time())))
        return max(waits) if waits else None

    def attempt(self, address: str) -> None:
        self.limiter.hit(self.per_address, "address", address)

    def failed(self, name: str) -> None:
        self.limiter.hit(self.per_account, "account", _account(name))

    def succeeded(self, name: str) -> None:
        self.limiter.clear(self.per_account, "account", _account(name))


def _account(name: str) -> str:
    return name.strip().lower()[:80]


def throttle() -> SignInThrottle:
    found: SignInThrottle = current_app.extensions["annotator.sign_in_throttle"]
    return found


def _too_many(wait: int) -> Any:
    minutes = max(1, math.ceil(wait / 60))
    message = (
        "too many sign-in attempts for this account or from this address; "
        f"try again in {minutes} minute{'' if minutes == 1 else 's'}"
    )
    return _refusal(429, "too_many_requests", message, wait)


def _busy() -> Any:
    message = "the server is checking many passwords at once; try again in a moment"
    return _refusal(503, "busy", message, 1)


def _refusal(status: int, code: str, message: str, wait: int) -> Any:
    if wants_json():
        response = error_response(status, code, message)
    else:
        page = render_template("login.html", error=message[0].upper() + message[1:] + ".")
        response = Response(page, status=status, mimetype="text/html")
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        name = request.form.get("name", "")
        password = request.form.get("password", "")
        address = request.remote_addr or "unknown"
        limit = throttle()
        wait = limit.retry_after(name, address)
        if wait is not None:
            log.warning("sign-in of %r from %s held back for %d s", name[:100], address, wait)
            metrics.SIGNIN_FAILURES.labels("throttled").inc()
            return _too_many(wait)
        limit.attempt(address)
        # no queueing: a sign-in that waited for a slot would hold an app thread meanwhile
        if not limit.slots.acquire(blocking=False):
            metrics.SIGNIN_FAILURES.labels("busy").inc()
            return _busy()
        try:
            with database().read() as db_session:
                user = authenticate(db_session, name, password)
        finally:
            limit.slots.release()
        if user is not None:
            log.info("signed in: %s (%s) from %s", user.name, user.role.name, address)
            limit.succeeded(name)
            previous = _session_id()
            with database().write() as db_session:
                if previous:
                    end_session(db_session, previous)  # one browser, one session
                raw, _ = start_session(db_session, user, _rules())
            g.new_cookie = (SIGNED_IN + raw, int(_rules().lifetime.total_seconds()))
            return redirect(_safe_next(request.args.get("next")))
        log.warning("sign-in of %r from %s refused: wrong name or password", name[:100], address)
        limit.failed(name)
        metrics.SIGNIN_FAILURES.labels("credentials").inc()
        error = "Wrong name or password."
    status = 401 if error else 200
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    raw = _session_id()
    if raw:
        with database().write() as db_session:
            user_id = end_session(db_session, raw)
        recent_sign_ins().forget("session:" + _digest(raw))
        if user_id is not None:
            g.browser_session = None
    g.drop_cookie = True
    return redirect(url_for("auth.login"))  # type: ignore[return-value]


def _limit(setting: str, value: Any) -> limits.RateLimitItem:
    try:
        return limits.parse(str(value))
    except ValueError:
        raise ConfigError(
            f"ANNOTATOR_{setting}={value!r} is not a rate such as '10 per 15 minutes'"
        ) from None


def _storage(app: Flask) -> Storage:
    uri = app.config.get("SIGNIN_STORAGE_URI")
    if uri:
        try:
            storage = storage_from_string(str(uri))
        except Exception as exc:  # any failure here is a configuration error
            raise ConfigError(f"ANNOTATOR_SIGNIN_STORAGE_URI: {exc}") from exc
        if not isinstance(storage, Storage):
            raise ConfigError("ANNOTATOR_SIGNIN_STORAGE_URI must name a synchronous storage")
        return storage
    return DatabaseStorage(database=services.database(app))


def init_app(app: Flask) -> None:
    dummy_hash()  # made now, so the first sign-in of an unknown name costs what any other does
    app.extensions["annotator.session_rules"] = SessionRules(
        lifetime=timedelta(minutes=int(app.config["SESSION_LIFETIME_MINUTES"])),
        idle=timedelta(minutes=int(app.config["SESSION_IDLE_MINUTES"])),
    )
    app.extensions["annotator.recent_sign_ins"] = RecentSignIns()
    app.extensions["annotator.sign_in_throttle"] = SignInThrottle(
        limiter=FixedWindowRateLimiter(_storage(app)),
        per_account=_limit("SIGNIN_ACCOUNT_LIMIT", app.config["SIGNIN_ACCOUNT_LIMIT"]),
        per_address=_limit("SIGNIN_ADDRESS_LIMIT", app.config["SIGNIN_ADDRESS_LIMIT"]),
        slots=threading.BoundedSemaphore(int(app.config["SIGNIN_CONCURRENCY"])),
    )
    app.before_request(refuse_key_writes)
    app.before_request(check_csrf)
    app.after_request(_cookie_headers)
    app.after_request(read_keys.no_referrer)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user
    app.register_blueprint(bp)


def actor() -> Actor:
    user = current_user()
    if user is None:  # the decorators stop anonymous requests first
        raise RequestError("sign in first", status=401, code="unauthorized")
    return Actor(user.name, user.role)
