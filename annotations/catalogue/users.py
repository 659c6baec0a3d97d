"""Users, their roles, API tokens for scripts, and browser sessions.

Roles are ordered: a viewer reads; an analyst also adds sites, images and annotations;
an editor also reviews anyone's work; an admin also manages users.

User names are case-insensitive: "Editor" and "editor" are one account (a unique index on
lower(name) holds this in the database). At least one active admin always remains.

A browser session is a row here; the cookie holds only a random id whose sha256 is stored,
so a session ends on the server (sign-out, password change, switch-off, lifetime or idle
timeout) and a cookie saved earlier stops working.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import AlreadyExists, InvalidInput, NotFound

MIN_PASSWORD = 10
TOKEN_PREFIX = "ann_"  # noqa: S105  (a visible prefix, not a secret)
KEY_PREFIX = "ank_"  # a read-only key's visible prefix, so a scanner or a log can tell it
#: a token's reach: `full` acts as its user everywhere (scripts); `read-tiles` is a key for
#: clients that cannot send headers, read-only and accepted only where the web app says
FULL, READ_TILES = "full", "read-tiles"
SCOPES = (FULL, READ_TILES)
#: how stale a token's `last_used_at` may get before a use notes it again
NOTE_USE_EVERY = timedelta(minutes=5)


@functools.cache
def dummy_hash() -> str:
    """A hash to compare against when the user does not exist, so timing does not tell;
    made on first use, not at import (every `annotator` command imports this module)."""
    return generate_password_hash("not-a-password", method="scrypt")


class Role(IntEnum):
    viewer = 1
    analyst = 2
    editor = 3
    admin = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise InvalidInput(f"unknown role {name!r}; choose one of {names}") from None


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    role_name: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the interface language they chose (en, ar); None: the browser's, then the default
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def role(self) -> Role:
        return Role[self.role_name]

    def can(self, role: Role) -> bool:
        return self.active and self.role >= role


# one account per name in any letter case, held by the database as well
Index("ix_users_name_lower", func.lower(User.name), unique=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default=FULL, server_default=FULL)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_key(self) -> bool:
        return self.scope == READ_TILES


def check_user_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", name):
        raise InvalidInput(f"user name {name!r} must be 1-80 letters, digits, '.', '_' or '-'")
    return name


class LastAdmin(InvalidInput):
    """A change that would leave no active admin to manage users."""


def add_user(session: Session, name: str, role: Role, password: str | None) -> User:
    check_user_name(name)
    taken = session.scalar(select(User).where(func.lower(User.name) == name.lower()))
    if taken is not None:
        raise AlreadyExists(
            f"user {name!r} exists already"
            if taken.name == name
            else f"user name {name!r} is taken by {taken.name!r} (names ignore letter case)"
        )
    user = User(name=name, role_name=role.name, password_hash=_hash(password))
    session.add(user)
    session.flush()
    return user


def _hash(password: str | None) -> str | None:
    if password is None:
        return None
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters")
    return generate_password_hash(password, "scrypt")


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.name) == name.lower()))
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


@dataclass(frozen=True)
class UserChange:
    """What `change_user` did, so a web layer can forget cached sign-ins of that user."""

    sessions_ended: int = 0
    tokens_revoked: int = 0


def change_user(
    session: Session,
    user: User,
    *,
    role: Role | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> UserChange:
    """Change a user's role, switch them on or off, or set their password.

    Refused (LastAdmin) when it would leave no active admin. Switching off ends the user's
    browser sessions and revokes their tokens; a new password ends their browser sessions
    (tokens are separate credentials and stay).
    """
    new_role = user.role if role is None else role
    stays_admin = new_role is Role.admin and (user.active if active is None else active)
    if user.role is Role.admin and user.active and not stays_admin:
        admins = session.scalars(
            select(User.id)
            .where(User.role_name == Role.admin.name, User.active.is_(True))
            .with_for_update()  # concurrent demotions on PostgreSQL wait, then recount
        ).all()
        if len([i for i in admins if i != user.id]) == 0:
            raise LastAdmin(f"{user.name} is the last active admin; make another admin first")
    ended = revoked = 0
    if password is not None:
        user.password_hash = _hash(password)
        ended += end_sessions(session, user)
    if role is not None:
        user.role_name = role.name
    if active is not None:
        user.active = active
        if not active:
            ended += end_sessions(session, user)
            revoked = revoke_tokens(session, user)
    session.flush()
    return UserChange(sessions_ended=ended, tokens_revoked=revoked)


def set_language(session: Session, user_id: int, language: str | None) -> None:
    """The interface language a user chose (a locale code the caller checked), or None for
    the browser's choice."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    user.language = language


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name (any case) and password, or None; as slow either way."""
    user = None
    if len(name) <= 80:
        user = session.scalar(select(User).where(func.lower(User.name) == name.lower()))
    if user is None or user.password_hash is None:
        check_password_hash(dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_token(session: Session, user: User, name: str, scope: str = FULL) -> str:
    """Make a token (scope `full`) or a read-only key (`read-tiles`); only its sha256 is
    stored, so it is shown once."""
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    token = (KEY_PREFIX if scope == READ_TILES else TOKEN_PREFIX) + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name[:80], token_sha256=_digest(token), scope=scope)
    session.add(row)
    session.flush()
    return token


def find_token(session: Session, token: str) -> ApiToken | None:
    """The live token (or key) behind `token`: not revoked, its user active."""
    if not token.startswith((TOKEN_PREFIX, KEY_PREFIX)) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if not hmac.compare_digest(row.token_sha256, _digest(token)):
        return None
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = find_token(session, token)
    return None if row is None else row.user


def note_token_use(session: Session, token_id: int) -> None:
    """Note that a token was used now (callers do so at most every NOTE_USE_EVERY)."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()
        session.flush()


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """A user's live tokens and keys, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(session.scalars(query))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s own tokens; NotFound for anyone else's or a revoked one."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(f"you have no live key {token_id}")
    row.revoked_at = utcnow()
    session.flush()
    return row


def revoke_tokens(session: Session, user: User, name: str | None = None) -> int:
    count = 0
    for row in user.tokens:
        if row.revoked_at is None and (name is None or row.name == name):
            row.revoked_at = utcnow()
            count += 1
    session.flush()
    return count


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BrowserSession(Base):
    """A signed-in browser. Only the sha256 of the cookie's random id is stored."""

    __tablename__ = "browser_sessions"
    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user: Mapped[User] = relationship()


@dataclass(frozen=True)
class SessionRules:
    """How long a browser session lives: at most `lifetime` after sign-in, and at most
    `idle` after its last request (noted at most once per `touch_every`)."""

    lifetime: timedelta
    idle: timedelta

    @property
    def touch_every(self) -> timedelta:
        return min(timedelta(minutes=1), self.idle / 10)


def start_session(session: Session, user: User, rules: SessionRules) -> tuple[str, str]:
    """A new session for `user`: returns (cookie value, CSRF token). Expired rows go."""
    now = utcnow()
    session.execute(
        delete(BrowserSession).where(
            (BrowserSession.created_at < now - rules.lifetime)
            | (BrowserSession.last_seen_at < now - rules.idle)
        )
    )
    raw = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        BrowserSession(
            id_sha256=_digest(raw),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return raw, csrf


@dataclass(frozen=True)
class LiveSession:
    user: User
    csrf_token: str
    id_sha256: str
    needs_touch: bool


def find_session(session: Session, raw: str, rules: SessionRules) -> LiveSession | None:
    """The live session behind a cookie value, or None if it ended, expired or its user
    was switched off."""
    if not raw or len(raw) > 100:
        return None
    key = _digest(raw)
    row = session.get(BrowserSession, key)
    if row is None:
        return None
    now = utcnow()
    if now - row.created_at > rules.lifetime or now - row.last_seen_at > rules.idle:
        return None
    if not row.user.active:
        return None
    needs_touch = now - row.last_seen_at > rules.touch_every
    return LiveSession(row.user, row.csrf_token, key, needs_touch)


def touch_session(session: Session, id_sha256: str) -> None:
    row = session.get(BrowserSession, id_sha256)
    if row is not None:
        row.last_seen_at = utcnow()
        session.flush()


def end_session(session: Session, raw: str) -> int | None:
    """End the session behind a cookie value; returns its user's id, if there was one."""
    row = session.get(BrowserSession, _digest(raw))
    if row is None:
        return None
    user_id = row.user_id
    session.delete(row)
    session.flush()
    return user_id


def end_sessions(session: Session, user: User) -> int:
    """End every browser session of `user`; returns how many."""
    result = session.execute(delete(BrowserSession).where(BrowserSession.user_id == user.id))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
