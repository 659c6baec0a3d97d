"""GEOREFERENCE jobs: a press picture, received into the job's folder (or, for a new
version, the kept original), placed by its control points and catalogued as a capture
(annotator.georeference.placing); the result links the image and states the placement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from annotations.jobs.running import JobContext
from annotations.times import parse_time
from annotator.georeference.placing import Details, original_path, place_press, result
from imagery.press.fit import ControlPoint, parse_points

GEOREFERENCE = "georeference"
#: the received picture's name in the job's folder (never the client's)
SOURCE = "picture"


def georeference_params(
    name: str, points: Sequence[ControlPoint], method: str, details: Details
) -> dict[str, Any]:
    return {
        "name": name,
        "gcps": [p.to_list() for p in points],
        "method": method,
        "source_url": details.source_url,
        "provider": details.provider,
        "licence": details.licence,
        "attribution": details.attribution,
        "captured": details.captured.isoformat() if details.captured else None,
        "sites": list(details.sites),
        "reference": details.reference,
    }


def run_georeference(context: JobContext) -> dict[str, Any]:
    params = context.params
    captured = params.get("captured")
    details = Details(
        source_url=params.get("source_url"),
        provider=params.get("provider"),
        licence=params.get("licence"),
        attribution=params.get("attribution"),
        captured=parse_time(captured, "captured") if captured else None,
        sites=tuple(params.get("sites") or ()),
        reference=params.get("reference"),
    )
    original = params.get("original")
    source = original_path(context.settings, str(original)) if original else context.folder / SOURCE
    placed = place_press(
        context.database,
        context.settings,
        source,
        str(params.get("name") or SOURCE),
        parse_points(params.get("gcps")),
        str(params.get("method") or "affine"),
        details,
        owner=context.owner,
        progress=context.progress,
    )
    image = placed.imported.image
    return {
        "images": [
            {
                "id": image.id,
                "name": image.original_filename,
                "created": placed.imported.created,
                "href": f"/api/v1/images/{image.id}",
                "page": f"/images/{image.id}",
            }
        ],
        "georeference": result(placed)["georeference"],
    }
