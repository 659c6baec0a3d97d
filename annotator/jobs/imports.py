"""IMPORT jobs: a GIS file of annotations, received by POST /api/v1/imports?async=1 into
the job's folder, imported all or nothing (annotations.exchange.imports) by a worker, as the
owner (their role now: a user switched off or made a viewer since is refused). The result
is the report the request would have answered, with links to what was made; a refusal is
the job's error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotations.annotation import Actor
from annotations.catalogue.users import Role, get_user
from annotations.errors import AnnotationError
from annotations.exchange.imports import ImportOptions, ImportRequest, import_file
from annotations.jobs.running import JobContext, JobFailed

IMPORT = "import"
#: the received file's name in the job's folder (never the client's name)
SOURCE = "source"


def import_params(name: str, options: ImportOptions) -> dict[str, Any]:
    """An import job's parameters: the name the user knows the file by, and the options."""
    return {
        "name": name,
        "image_id": options.image_id,
        "label_field": options.label_field,
        "label_map": dict(options.label_map),
    }


def run_import(context: JobContext) -> dict[str, Any]:
    params = context.params
    name = str(params.get("name") or SOURCE)
    context.progress(0.0, f"importing {name}")
    request = ImportRequest(
        name=name,
        options=ImportOptions(
            image_id=params.get("image_id"),
            label_field=params.get("label_field"),
            label_map=dict(params.get("label_map") or {}),
        ),
        dry_run=False,
        actor=_actor(context),
        tmp_dir=Path(context.settings["TMP_DIR"]),
        max_bytes=int(context.settings["MAX_UPLOAD_MB"]) << 20,
    )
    try:
        with (context.folder / SOURCE).open("rb") as stream:
            report = import_file(context.database, context.settings["TAXONOMY"], stream, request)
    except AnnotationError as exc:
        raise JobFailed(exc.message) from None
    context.progress(1.0, f"imported {report.get('created', 0)} annotation(s) from {name}")
    ids = report.get("annotation_ids") or []
    return report | {"annotations": [f"/api/v1/annotations/{i}" for i in ids[:1000]]}


def _actor(context: JobContext) -> Actor:
    """The job's owner as they are now: one switched off or made a viewer since is refused."""
    with context.database.read() as session:
        try:
            user = get_user(session, context.owner)
        except AnnotationError:
            raise JobFailed(f"{context.owner} is no longer a user") from None
        if not user.can(Role.analyst):
            raise JobFailed(f"{context.owner} may no longer import annotations")
        return Actor(user.name, user.role)
