"""The duplicate check of a save or a copy, with the thresholds the settings give
(ANNOTATOR_DUPLICATE_CHECK, ANNOTATOR_DUPLICATE_IOU_PERCENT, ANNOTATOR_DUPLICATE_DISTANCE_M)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from annotations.annotation import Annotation
from annotations.duplicates import Thresholds, find_duplicates, warnings_of
from annotator import services


def thresholds() -> Thresholds | None:
    """The configured thresholds, or None when the check is switched off."""
    config = current_app.config
    if not config.get("DUPLICATE_CHECK", True):
        return None
    return Thresholds(
        iou=min(float(config.get("DUPLICATE_IOU_PERCENT", 50)), 100.0) / 100,
        distance_m=float(config.get("DUPLICATE_DISTANCE_M", 10)),
    )


def duplicate_warnings(session: Session, annotation: Annotation) -> list[dict[str, Any]]:
    """The `warnings` of a write's answer: possible duplicates of `annotation` on its image."""
    limits = thresholds()
    if limits is None:
        return []
    found = find_duplicates(session, annotation, limits)
    if not found:
        return []
    names = {label.id: label.name for label in services.taxonomy()}
    return warnings_of(found, names)
