"""Identify by size: measure a shape drawn around an aircraft and rank the types it fits.

The analyst boxes an aircraft nose to tail and wing tip to wing tip; the box's sides are its
length and span in some order. The taxonomy's reference sizes are compared with a tolerance
of two image pixels plus a few per cent (`Taxonomy.rank_by_size`), so a 0.5 m image can tell
an An-124 from an Il-76 but not two fighters a metre apart. On an image placed by control
points, the placement's RMSE widens each reference range (`Taxonomy.rank_by_size`) and is
reported beside the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from shapely.geometry.base import BaseGeometry

from annotations.labels.taxonomy import PIXEL_TOLERANCE, Label, Taxonomy
from annotations.measure import Measurements, measure

#: how many types are offered; the rest are rarely useful and crowd the panel
CANDIDATE_COUNT = 5


@dataclass(frozen=True)
class Candidate:
    label: Label
    score: float

    def to_dict(self) -> dict[str, Any]:
        reference = self.label.reference
        return {
            "label": self.label.id,
            "name": self.label.name,
            "colour": self.label.colour,
            "score": round(self.score, 3),
            "fits": self.score <= 1.0,
            "length_m": reference.length_m if reference else None,
            "span_m": reference.span_m if reference else None,
        }


@dataclass(frozen=True)
class Identification:
    measurements: Measurements
    gsd_m: float
    candidates: list[Candidate] = field(default_factory=list)
    placement_error_m: float | None = None

    def as_aircraft(self) -> tuple[float, float] | None:
        """(length, span) in metres: the box's sides in the order the best fit takes them."""
        first, second = self.measurements.length_m, self.measurements.width_m
        reference = self.candidates[0].label.reference if self.candidates else None
        if not (reference and first and second):
            return None
        return reference.orient(first, second)

    def to_dict(self) -> dict[str, Any]:
        aircraft = self.as_aircraft()
        return {
            "measurements": self.measurements.to_dict(),
            "aircraft": {"length_m": aircraft[0], "span_m": aircraft[1]} if aircraft else None,
            "gsd_m": self.gsd_m,
            "tolerance_m": round(PIXEL_TOLERANCE * self.gsd_m + (self.placement_error_m or 0), 3),
            "placement_error_m": self.placement_error_m,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def identify(
    geometry: BaseGeometry,
    gsd_m: float,
    taxonomy: Taxonomy,
    branch: str = "aircraft",
    count: int = CANDIDATE_COUNT,
    placement_error_m: float | None = None,
) -> Identification:
    """Measurements of `geometry` and, for an area with two sides, the best-fitting types;
    `placement_error_m` is the RMSE of the image's placement, if it states one."""
    measured = replace(measure(geometry), placement_error_m=placement_error_m)
    length, width = measured.length_m, measured.width_m
    if not (length and width and measured.area_m2):
        return Identification(measured, gsd_m, placement_error_m=placement_error_m)
    ranked = taxonomy.rank_by_size(
        length, width, gsd_m, branch=branch, placement_error_m=placement_error_m
    )
    candidates = [Candidate(label, s) for label, s in ranked[:count]]
    return Identification(measured, gsd_m, candidates, placement_error_m)
