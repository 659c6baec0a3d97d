"""Imports every model, so the metadata knows every table (for Alembic and tests)."""

from annotations.annotation import Annotation
from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, SiteImage
from annotations.catalogue.users import ApiToken, BrowserSession, User
from annotations.discussion.tables import Comment, InboxRead, Mention
from annotations.exchange.batch.tables import ImportedFile
from annotations.history import Change, Revision
from annotations.jobs.tables import Job
from annotations.newsroom.events import Event, EventAnnotation
from annotations.newsroom.links import Link
from annotations.newsroom.publishing import Publication
from annotations.newsroom.reports import Claim, Report
from annotations.throttle import RateLimitCounter

__all__ = [
    "Annotation",
    "ApiToken",
    "BrowserSession",
    "Change",
    "Claim",
    "Comment",
    "Event",
    "EventAnnotation",
    "Image",
    "ImportedFile",
    "InboxRead",
    "Job",
    "Link",
    "Mention",
    "Publication",
    "RateLimitCounter",
    "Report",
    "Revision",
    "Site",
    "SiteImage",
    "User",
]
