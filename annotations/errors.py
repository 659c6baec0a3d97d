"""One base exception for the vector and catalogue side, with precise subclasses."""

from typing import Any


class AnnotationError(Exception):
    """Base class: a request the catalogue refuses, with a message a user can act on."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(AnnotationError):
    """The site, image or user named does not exist."""


class AlreadyExists(AnnotationError):
    """A unique name (site slug, user name) is taken."""


class InvalidInput(AnnotationError):
    """Well-formed input whose content is wrong (bad geometry, coordinates, role)."""


class Malformed(AnnotationError):
    """Input that is not the shape asked for at all (not GeoJSON, wrong JSON types)."""
