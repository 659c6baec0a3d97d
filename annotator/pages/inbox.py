"""The inbox page (/inbox, filled by annotator/static/inbox.js from the API) and the unread
count the nav shows on every page for a signed-in person."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template

from annotations.annotation import Actor
from annotations.discussion.inbox import Person, unread_count
from annotator.auth import current_user, login_required
from annotator.services import database

bp = Blueprint("inbox_page", __name__)


@bp.get("/inbox")
@login_required
def inbox() -> str:
    return render_template("inbox.html")


def inbox_unread() -> int | None:
    """The signed-in person's unread inbox items, counted once per request (None: signed out)."""
    if "inbox_unread" in g:
        found: int | None = g.inbox_unread
        return found
    user = current_user()
    count = None
    if user is not None:
        with database().read() as session:
            count = unread_count(session, Person.of(Actor(user.name, user.role)))
    g.inbox_unread = count
    return count


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"inbox_unread": inbox_unread}
