"""The kinds of background job the app runs, and how each one is started.

INGEST: files an upload received (already in the job's folder) become COGs in the store and
rows in the catalogue, all or none (annotator.intake); the result links every image. IMPORT:
a GIS file of annotations (annotator.jobs.imports). EXPORT: a search's annotations as a file
kept for download (annotator.jobs.exports). An
import by URL is an ingest job whose parameters hold the `url`: the job first copies the
file into its folder (imagery.remote.copy, in a child process killed when the job is
cancelled or out of time), then ingests it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from annotations.catalogue.images import Provenance
from annotations.jobs.running import JobContext, Runner
from annotations.times import parse_time
from annotator.georeference.job import GEOREFERENCE, run_georeference
from annotator.intake import Imported, Upload, import_images, ingest_limits
from annotator.jobs.exports import EXPORT, run_export
from annotator.jobs.imports import IMPORT, run_import
from annotator.jobs.story import STORY, run_story
from imagery.remote.copy import fetch, file_name

INGEST = "ingest"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Received(NamedTuple):
    """A file received into an ingest job's folder: its name there, the name the user knows
    it by, and its sha256 when it was computed as the bytes were written (else the job
    hashes it while its COG is written)."""

    stored: str
    name: str
    sha256: str | None = None


def ingest_params(
    files: list[Received],
    provenance: Provenance,
    *,
    sites: tuple[str, ...],
    captured: datetime | None,
    url: str | None = None,
    max_bytes: int | None = None,
    height: float | None = None,
) -> dict[str, Any]:
    """An ingest job's parameters: (file name in the job's folder, name the user knows);
    or, for an import by URL, the `url` to copy first (at most `max_bytes`) and no files."""
    params: dict[str, Any] = {
        "files": [
            {"path": stored, "name": name} | ({"sha256": sha256} if sha256 else {})
            for stored, name, sha256 in files
        ],
        "provenance": asdict(provenance),
        "sites": list(sites),
        "captured": None if captured is None else captured.isoformat(),
        "height": height,  # the ground height for images placed by RPCs
    }
    if url is not None:
        params |= {"url": url, "max_bytes": max_bytes}
    return params


def run_ingest(
    context: JobContext, progress: Callable[[float, str], None] | None = None
) -> dict[str, Any]:
    params = context.params
    report = progress or context.progress
    uploads = [
        Upload(_inside(context.folder, item["path"]), str(item["name"]), _sha256(item))
        for item in params.get("files", [])
    ]
    if params.get("url"):  # an import by URL: the copy is the first half of the bar
        uploads = [_copy(context, str(params["url"]), int(params["max_bytes"]), report)]
        report = _second_half(report)
    dem = context.settings.get("DEM")
    height = params.get("height")
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
        progress=report,
        height=None if height is None else float(height),
        dem=Path(dem) if dem else None,
    )
    return ingest_result(results)


def _copy(
    context: JobContext, url: str, max_bytes: int, report: Callable[[float, str], None]
) -> Upload:
    """Copy the URL's file into the job's folder; the progress check stops (kills) the copy."""
    name = file_name(url)

    def copied(done: int, total: int | None) -> None:
        of = f" of {total:,}" if total else ""
        report(0.5 * done / total if total else 0.0, f"copying {name}: {done:,}{of} bytes")

    report(0.0, f"copying {name}")
    target = fetch(url, _inside(context.folder, name), max_bytes=max_bytes, progress=copied)
    return Upload(target, name)


def _second_half(report: Callable[[float, str], None]) -> Callable[[float, str], None]:
    return lambda fraction, message: report(0.5 + 0.5 * fraction, message)


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


def _sha256(item: dict[str, Any]) -> str | None:
    """The sha256 the request computed as it wrote the file, if it did."""
    digest = item.get("sha256")
    return digest if isinstance(digest, str) and _SHA256.fullmatch(digest) else None


def _inside(folder: Path, name: str) -> Path:
    """A file of the job's own folder (a name, never a path that leaves it)."""
    path = (folder / str(name)).resolve()
    if path.parent != folder.resolve():
        raise ValueError(f"{name!r} is not a file of the job's folder")
    return path


KINDS: dict[str, Runner] = {
    INGEST: run_ingest,
    IMPORT: run_import,
    EXPORT: run_export,
    STORY: run_story,
    GEOREFERENCE: run_georeference,
}
