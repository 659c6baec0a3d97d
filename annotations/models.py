"""Imports every model, so the metadata knows every table (for Alembic and tests)."""

from annotations.annotation import Annotation
from annotations.history import Revision
from annotations.images import Image
from annotations.sites import Site, SiteImage
from annotations.users import ApiToken, User

__all__ = ["Annotation", "ApiToken", "Image", "Revision", "Site", "SiteImage", "User"]
