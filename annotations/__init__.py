"""Vector and catalogue side of annotator: sites, the image catalogue, users, storage.

Nothing here imports Flask; every function takes a SQLAlchemy session.
"""

from annotations.errors import AnnotationError

__all__ = ["AnnotationError"]
