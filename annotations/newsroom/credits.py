"""One wording for every story output (figure, map, KML, bundle): how a capture is dated and
credited, what is said of coarsened or synthetic evidence, and which colour a label is drawn in."""

from __future__ import annotations

from annotations import times
from annotations.labels.taxonomy import COLOUR_PATTERN
from annotations.newsroom.evidence import Evidence, EvidenceAnnotation, EvidenceImage
from imagery.georef.placement import placement_note

SYNTHETIC_NOTE = "Synthetic demo imagery: not a real capture."
#: Drawn for a label whose colour is not a plain #rrggbb (never written into markup as given).
FALLBACK_COLOUR = "#ff00ff"


def capture_date(image: EvidenceImage) -> str:
    return times.moment(image.captured_at, "capture date unknown")


def image_credit(image: EvidenceImage) -> str:
    """'Captured 2024-12-13 08:21 UTC · Image: Maxar · Licence: CC BY 4.0 · attribution',
    then how it was placed when a reader should know: '· Placed by 12 control points, RMSE
    3.2 m' (nothing for a plain north-up capture)."""
    parts = [
        f"Captured {capture_date(image)}" if image.captured_at else capture_date(image),
        f"Image: {image.provider}" if image.provider else "Provider unknown",
        f"Licence: {image.licence}" if image.licence else "Licence unknown",
    ]
    if image.attribution:
        parts.append(image.attribution)
    placed = placement(image)
    if placed:
        parts.append(placed[0].upper() + placed[1:])
    return " \u00b7 ".join(parts)


def placement(image: EvidenceImage) -> str | None:
    """'placed by 12 control points, RMSE 3.2 m', 'placed by RPC, constant height 0 m', or
    None for a north-up capture (and for evidence published before placement was kept)."""
    return placement_note(image.georeferencing)


def evidence_notes(evidence: Evidence, images: list[EvidenceImage]) -> list[str]:
    """What a reader must be told beside the credits: coarsening, synthetic imagery."""
    notes = []
    if evidence.coarsening:
        notes.append(f"Positions coarsened: {evidence.coarsening}.")
    if any(image.synthetic for image in images):
        notes.append(SYNTHETIC_NOTE)
    return notes


def label_colour(annotation: EvidenceAnnotation) -> str:
    return annotation.colour if COLOUR_PATTERN.match(annotation.colour) else FALLBACK_COLOUR
