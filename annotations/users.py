"""Users, their roles, and API tokens for scripts.

Roles are ordered: a viewer reads; an analyst also adds sites, images and annotations;
an editor also reviews anyone's work; an admin also manages users.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from enum import IntEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from annotations.db import Base, UTCDateTime, utcnow
from annotations.errors import AlreadyExists, InvalidInput, NotFound

MIN_PASSWORD = 10
TOKEN_PREFIX = "ann_"  # noqa: S105  (a visible prefix, not a secret)
# a hash to compare against when the user does not exist, so timing does not tell
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


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
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def role(self) -> Role:
        return Role[self.role_name]

    def can(self, role: Role) -> bool:
        return self.active and self.role >= role


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user: Mapped[User] = relationship(back_populates="tokens")


def check_user_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", name):
        raise InvalidInput(f"user name {name!r} must be 1-80 letters, digits, '.', '_' or '-'")
    return name


def add_user(session: Session, name: str, role: Role, password: str | None) -> User:
    check_user_name(name)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AlreadyExists(f"user {name!r} exists already")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters")
    user = User(
        name=name,
        role_name=role.name,
        password_hash=None if password is None else generate_password_hash(password, "scrypt"),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def authenticate(session: Session, name: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.name == name))
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_token(session: Session, user: User, name: str) -> str:
    """Make a token; only its sha256 is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:80], token_sha256=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if not hmac.compare_digest(row.token_sha256, _digest(token)):
        return None
    return row.user


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
