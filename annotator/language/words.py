"""Words the app stores in English that a page shows to people: role names. Marked here so
that `make messages` extracts them (the stored value never changes)."""

from __future__ import annotations

from flask_babel import gettext


def role_name(role: str) -> str:
    """A role's name in the reader's language (an unknown one as it is)."""
    names = {
        "viewer": gettext("viewer"),
        "analyst": gettext("analyst"),
        "editor": gettext("editor"),
        "admin": gettext("admin"),
    }
    return names.get(role, role)


def status_name(status: str) -> str:
    """An annotation's review status in the reader's language (in_review: in review)."""
    names = {
        "draft": gettext("draft"),
        "in_review": gettext("in review"),
        "approved": gettext("approved"),
        "rejected": gettext("rejected"),
        "deleted": gettext("deleted"),
    }
    return names.get(status, status.replace("_", " "))


def status_names(statuses: list[str] | tuple[str, ...]) -> str:
    """Statuses listed as a sentence lists them: draft, in review, approved."""
    return gettext(", ").join(status_name(status) for status in statuses)
