"""Imports every model, so the metadata knows every table (for Alembic and tests)."""

from annotations.annotation import Annotation
from annotations.events import Event, EventAnnotation
from annotations.history import Change, Revision
from annotations.images import Image
from annotations.links import Link
from annotations.publishing import Publication
from annotations.reports import Claim, Report
from annotations.sites import Site, SiteImage
from annotations.users import ApiToken, User

__all__ = [
    "Annotation",
    "ApiToken",
    "Change",
    "Claim",
    "Event",
    "EventAnnotation",
    "Image",
    "Link",
    "Publication",
    "Report",
    "Revision",
    "Site",
    "SiteImage",
    "User",
]
