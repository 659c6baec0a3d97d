"""The kinds of background job the app runs, and how each one is started.

INGEST: files an upload received (already in the job's folder) become COGs in the store and
rows in the catalogue, all or none (annotator.intake); the result links every image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from annotations.catalogue.images import Provenance
from annotations.jobs.running import JobContext, Runner
from annotations.times import parse_time
from annotator.intake import Imported, Upload, import_images, ingest_limits

INGEST = "ingest"


def ingest_params(
    files: list[tuple[str, str]],
    provenance: Provenance,
    *,
    sites: tuple[str, ...],
    captured: datetime | None,
) -> dict[str, Any]:
    """An ingest job's parameters: (file name in the job's folder, name the user knows)."""
    return {
        "files": [{"path": path, "name": name} for path, name in files],
        "provenance": asdict(provenance),
        "sites": list(sites),
        "captured": None if captured is None else captured.isoformat(),
    }


def run_ingest(
    context: JobContext, progress: Callable[[float, str], None] | None = None
) -> dict[str, Any]:
    params = context.params
    uploads = [
        Upload(_inside(context.folder, item["path"]), str(item["name"]))
        for item in params.get("files", [])
    ]
    captured = params.get("captured")
    results = import_images(
        context.database,
        Path(context.settings["IMAGES_DIR"]),
        uploads,
        Provenance(**params.get("provenance", {})),
        sites=tuple(params.get("sites", ())),
        captured=parse_time(captured, "captured") if captured else None,
        created_by=context.owner,
        max_pixels=int(context.settings["MAX_IMAGE_PIXELS"]),
        limits=ingest_limits(context.settings),
        progress=progress or context.progress,
    )
    return ingest_result(results)


def ingest_result(results: list[Imported]) -> dict[str, Any]:
    return {
        "images": [
            {
                "id": item.image.id,
                "name": item.image.original_filename,
                "created": item.created,
                "href": f"/api/v1/images/{item.image.id}",
                "page": f"/images/{item.image.id}",
            }
            for item in results
        ]
    }


def _inside(folder: Path, name: str) -> Path:
    """A file of the job's own folder (a name, never a path that leaves it)."""
    path = (folder / str(name)).resolve()
    if path.parent != folder.resolve():
        raise ValueError(f"{name!r} is not a file of the job's folder")
    return path


KINDS: dict[str, Runner] = {INGEST: run_ingest}
