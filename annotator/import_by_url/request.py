"""`POST /api/v1/images` with a JSON body `{"url": "https://…/scene.tif"}` (or
`s3://bucket/key`): the server copies the file through GDAL's virtual file systems
(imagery.remote.copy, in a child process) and imports it. By default this is an ingest
job: the answer is 202 with the queued job, the job copies then ingests, with progress, and
cancelling it kills the copy. With `?wait=1` the copy and the import run in the request,
as before (201 or 200 with the image). Admins only: anyone else gets 403 before anything is
fetched, so the rule that the server fetches nothing for users holds.

The body may also carry the upload form's fields: site (a slug or a list), captured,
provider, sensor, licence, attribution, description; and height, the ground height in
metres for an image placed by RPCs.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, jsonify, request, url_for

from annotations.catalogue.images import Provenance
from annotations.catalogue.users import Role
from annotations.times import parse_time
from annotator.auth import actor
from annotator.errors import RequestError
from annotator.forms import ground_height_m, json_body
from annotator.intake import Upload, import_images, ingest_limits
from annotator.jobs.start import start_ingest_from
from annotator.services import database
from imagery.remote.copy import fetch, file_name, gdal_path


def import_url() -> tuple[Response, int, dict[str, str]]:
    who = actor()
    if who.role < Role.admin:
        raise RequestError(
            "only an admin may import by URL (the server fetches nothing for other users); "
            "download the file and upload it",
            status=403,
            code="forbidden",
        )
    body = json_body()  # hostile JSON (deep nesting, NaN, too large) is a 4xx, as on every route
    if not isinstance(body.get("url"), str):
        raise RequestError('send a JSON object with a "url" (http, https or s3)', status=400)
    url = body["url"]
    gdal_path(url)  # a bad address is refused before a folder is made
    provenance = Provenance(
        provider=_text(body, "provider"),
        sensor=_text(body, "sensor"),
        licence=_text(body, "licence"),
        attribution=_text(body, "attribution"),
        description=_text(body, "description"),
    )
    sites = body.get("site") or []
    sites = (sites,) if isinstance(sites, str) else tuple(str(s) for s in sites)
    captured_text = _text(body, "captured")
    captured = parse_time(captured_text, "captured") if captured_text else None
    height = ground_height_m(body.get("height"))
    if request.args.get("wait", "").lower() not in ("1", "true", "yes"):
        job = start_ingest_from(
            lambda _folder: [],
            provenance,
            sites=sites,
            captured=captured,
            owner=who.name,
            url=url,
            max_bytes=max_bytes(current_app.config),
            height=height,
        )
        return jsonify(job), 202, {"Location": url_for("jobs_api.show", job_id=job["id"])}
    root = Path(current_app.config["TMP_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="url-", dir=root))
    try:
        name = file_name(url)
        target = fetch(url, folder / name, max_bytes=max_bytes(current_app.config))
        results = import_images(
            database(),
            current_app.config["IMAGES_DIR"],
            [Upload(target, name)],
            provenance,
            sites=sites,
            captured=captured,
            created_by=who.name,
            max_pixels=int(current_app.config["MAX_IMAGE_PIXELS"]),
            limits=ingest_limits(current_app.config),
            height=height,
            dem=Path(dem) if (dem := current_app.config.get("DEM")) else None,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    image = results[0].image.to_dict() | {"created": results[0].created}
    location = url_for("images.show", image_id=image["id"])
    return jsonify(image), 201 if results[0].created else 200, {"Location": location}


def max_bytes(settings: Any) -> int:
    """The largest file an import by URL copies: a resumable upload's cap where the
    deployment has one, else the upload cap."""
    megabytes = settings.get("UPLOAD_FILE_MAX_MB") or settings.get("MAX_UPLOAD_MB") or 2048
    return int(megabytes) << 20


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RequestError(f"{name} must be text", status=400)
    return value
