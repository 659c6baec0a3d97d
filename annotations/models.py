"""Imports every model, so the metadata knows every table (for Alembic and tests)."""

from annotations.annotation import Annotation
from annotations.events import Event, EventAnnotation
from annotations.history import Change, Revision
from annotations.images import Image
from annotations.links import Link
from annotations.publishing import Publication
from annotations.reports import Claim, Report
from annotations.sites import Site, SiteImage
from annotations.throttle import RateLimitCounter
from annotations.users import ApiToken, BrowserSession, User

__all__ = [
    "Annotation",
    "ApiToken",
    "BrowserSession",
    "Change",
    "Claim",
    "Event",
    "EventAnnotation",
    "Image",
    "Link",
    "Publication",
    "RateLimitCounter",
    "Report",
    "Revision",
    "Site",
    "SiteImage",
    "User",
]
