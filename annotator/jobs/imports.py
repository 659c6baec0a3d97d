"""IMPORT jobs: a GIS file of annotations, received by POST /api/v1/imports?async=1 into
the job's folder, imported all or nothing (annotations.exchange.imports) by a worker, as the
owner (their role now: a user switched off or made a viewer since is refused). The result
is the report the request would have answered, with links to what was made; a refusal is
the job's error. The import reports its progress after each batch of `IMPORT_BATCH`
features, and a cancel stops it between two batches: its transaction is rolled back, so
nothing of it is kept. (On SQLite the write phase holds the only write lock: there the bar
stays at "writing" while the job still checks, read-only, for a cancel.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from annotations.annotation import Actor
from annotations.catalogue.tables import Image, Site, SiteImage
from annotations.catalogue.users import Role, get_user
from annotations.errors import AnnotationError
from annotations.exchange.imports import (
    Cancelled,
    ImportOptions,
    ImportRequest,
    Progress,
    import_file,
)
from annotations.jobs.running import JobContext, JobFailed, JobStopped
from annotations.jobs.tables import Status

IMPORT = "import"
#: the received file's name in the job's folder (never the client's name)
SOURCE = "source"
#: features planned, then written, between two progress reports (and chances to cancel)
IMPORT_BATCH = 1000


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
        progress=_progress(context),
        batch=int(context.settings.get("IMPORT_BATCH") or IMPORT_BATCH),
    )
    try:
        with (context.folder / SOURCE).open("rb") as stream:
            report = import_file(context.database, context.settings["TAXONOMY"], stream, request)
    except AnnotationError as exc:
        raise JobFailed(exc.message) from None
    except Cancelled:
        raise JobStopped(
            Status.cancelled, "cancelled while running; nothing was imported"
        ) from None
    context.progress(1.0, f"imported {report.get('created', 0)} annotation(s) from {name}")
    ids = report.get("annotation_ids") or []
    links = {"annotations": [f"/api/v1/annotations/{i}" for i in ids[:1000]]}
    made = _made_on(context, report) if report.get("created") else {"images": [], "sites": []}
    return report | links | made


def _made_on(context: JobContext, report: dict[str, Any]) -> dict[str, Any]:
    """What the Jobs page links: each image the import added annotations to, with how many,
    and the sites that show those images."""
    counts: dict[str, int] = dict(report.get("by_image") or {})
    with context.database.read() as session:
        rows = session.execute(
            select(Image.id, Image.original_filename).where(Image.id.in_(list(counts)))
        )
        names = {image_id: name for image_id, name in rows}
        sites = session.execute(
            select(Site.slug, Site.name)
            .join(SiteImage, SiteImage.site_id == Site.id)
            .where(SiteImage.image_id.in_(list(counts)))
            .distinct()
            .order_by(Site.slug)
        )
        found_sites = [
            {"slug": slug, "name": title, "page": f"/sites/{slug}"} for slug, title in sites
        ]
    images = [
        {
            "id": image_id,
            "name": names.get(image_id) or image_id,
            "count": count,
            "href": f"/api/v1/images/{image_id}",
            "page": f"/images/{image_id}",
        }
        for image_id, count in counts.items()
        if image_id in names
    ]
    return {"images": images, "sites": found_sites}


def _progress(context: JobContext) -> Progress:
    """The import's hook: the job's progress, and True (stop) once the job is cancelled. Out
    of time, the job's own stop goes through the import (its transaction rolls back too)."""

    def report(fraction: float, message: str, writing: bool) -> bool:
        try:
            if writing and context.database.is_sqlite:
                context.check()  # the import holds SQLite's only write lock: read only
            else:
                context.progress(fraction, message, now=True)  # one write a batch
        except JobStopped as stopped:
            if stopped.status == Status.cancelled:
                return True
            raise
        return False

    return report


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
