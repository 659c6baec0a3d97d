"""The import page (`/import`): an analyst uploads a GIS file of annotations, checks it (a
dry run: what would be made, and every feature refused with its reason), then imports it.

A plain form posted with the session's CSRF token; the work is the API's (`run_import`), so
the page and `POST /api/v1/imports` cannot disagree. A refused file is shown in place with
the reason and the 4xx status the API would give; nothing is imported. The file of a Check is
held on the server (annotations.exchange.held) and named in the form, so Import needs no
second choice of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request

from annotations import times
from annotations.catalogue.images import list_images
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError
from annotations.exchange.held import Held, Holds
from annotator.api.imports import import_job, label_map_bytes, max_upload_bytes, run_import
from annotator.auth import actor, role_required
from annotator.errors import RequestError, status_of
from annotator.intake import display_name
from annotator.services import database

bp = Blueprint("import_page", __name__)


def _images(site: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every catalogued image for the image list, the site's own first."""
    with database().read() as session:
        images = [
            {
                "id": i.id,
                "name": i.original_filename,
                "captured": times.moment(i.captured_at, "") or None,
                "on_site": bool(site) and site in {s.slug for s in i.sites},
            }
            for i in list_images(session)
        ]
    images.sort(key=lambda i: (not i["on_site"], i["captured"] or "", i["name"]))
    return images, site


@bp.get("/import")
@role_required(Role.analyst)
def form() -> Any:
    images, site = _images(request.args.get("site") or None)
    return render_template(
        "import.html", images=images, site=site, report=None, error=None, held=None
    )


@bp.post("/import")
@role_required(Role.analyst)
def submit() -> Any:
    if request.form.get("action") == "background":  # Import as a job (annotator.jobs.imports)
        return background()
    dry_run = request.form.get("action") != "import"
    images, site = _images(request.form.get("site") or None)
    chosen = {
        "image": request.form.get("image", ""),
        "label_field": request.form.get("label_field", ""),
    }
    holds, owner = _holds(), actor().name
    held = holds.get(owner, request.form.get("held", ""))
    try:
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            held = None  # a file chosen now replaces the one held
            if dry_run:  # held, so that Import after this Check needs no second choice
                held = holds.store(
                    owner,
                    display_name(upload.filename),
                    upload.stream,
                    label_map_bytes(),
                    max_upload_bytes(),
                )
        elif held is None and request.form.get("held"):
            raise RequestError(
                "the file you checked is no longer held (a check is kept for an hour): "
                "choose it again",
                status=410,
                code="gone",
            )
        report = run_import(dry_run, held)
    except (AnnotationError, RequestError) as exc:
        status, code = status_of(exc)
        error = {
            "status": status,
            "code": code,
            "message": str(getattr(exc, "message", exc)),
            "details": getattr(exc, "details", None),
        }
        page = {"images": images, "site": site, "chosen": chosen, "held": _shown(held)}
        return render_template("import.html", report=None, error=error, **page), status
    if not dry_run and held is not None:
        holds.drop(held)  # imported: nothing left to hold
        held = None
    page = {"images": images, "site": site, "chosen": chosen, "held": _shown(held)}
    status = 201 if report["created"] else 200
    return render_template("import.html", report=report, error=None, **page), status


def background() -> Any:
    """Import in the background: the file (chosen now, or held since the Check) goes to an
    import job; the page shows its progress bar (static/import_job.js) and then its report."""
    images, site = _images(request.form.get("site") or None)
    chosen = {
        "image": request.form.get("image", ""),
        "label_field": request.form.get("label_field", ""),
    }
    holds, owner = _holds(), actor().name
    held = holds.get(owner, request.form.get("held", ""))
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        held = None  # a file chosen now replaces the one held
    try:
        if held is None and not (upload is not None and upload.filename):
            raise RequestError("choose the GIS file to import", status=400)
        job = import_job(held)
    except (AnnotationError, RequestError) as exc:
        status, code = status_of(exc)
        error = {"status": status, "code": code, "message": str(getattr(exc, "message", exc))}
        page = {"images": images, "site": site, "chosen": chosen, "held": _shown(held)}
        return render_template("import.html", report=None, error=error, **page), status
    if held is not None:
        holds.drop(held)  # copied into the job: nothing left to hold
    page = {"images": images, "site": site, "chosen": chosen, "held": None}
    return render_template("import.html", report=None, error=None, job=job, **page), 202


def _holds() -> Holds:
    """Held checks live in the data folder's shared temporary root: the Import may reach
    another worker process than the Check did."""
    return Holds(Path(current_app.config["TMP_ROOT"]) / "held-imports")


def _shown(held: Held | None) -> dict[str, Any] | None:
    if held is None:
        return None
    return {"token": held.token, "name": held.name, "size": held.size}
