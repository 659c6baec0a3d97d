"""The import page (`/import`): an analyst uploads a GIS file of annotations, checks it (a
dry run: what would be made, and every feature refused with its reason), then imports it.

A plain form posted with the session's CSRF token; the work is the API's (`run_import`), so
the page and `POST /api/v1/imports` cannot disagree. A refused file is shown in place with
the reason and the 4xx status the API would give; nothing is imported.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from annotations.catalogue.images import list_images
from annotations.catalogue.users import Role
from annotations.errors import AnnotationError
from annotator.api.imports import run_import
from annotator.auth import role_required
from annotator.errors import RequestError, status_of
from annotator.services import database

bp = Blueprint("import_page", __name__)


def _images(site: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Every catalogued image for the image list, the site's own first."""
    with database().read() as session:
        images = [
            {
                "id": i.id,
                "name": i.original_filename,
                "captured": i.captured_at.strftime("%Y-%m-%d %H:%M UTC") if i.captured_at else None,
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
    return render_template("import.html", images=images, site=site, report=None, error=None)


@bp.post("/import")
@role_required(Role.analyst)
def submit() -> Any:
    dry_run = request.form.get("action") != "import"
    images, site = _images(request.form.get("site") or None)
    chosen = {
        "image": request.form.get("image", ""),
        "label_field": request.form.get("label_field", ""),
    }
    try:
        report = run_import(dry_run)
    except (AnnotationError, RequestError) as exc:
        status, code = status_of(exc)
        details = getattr(exc, "details", None)
        return render_template(
            "import.html",
            images=images,
            site=site,
            report=None,
            chosen=chosen,
            error={
                "status": status,
                "code": code,
                "message": str(getattr(exc, "message", exc)),
                "details": details,
            },
        ), status
    status = 201 if report["created"] else 200
    return render_template(
        "import.html", images=images, site=site, report=report, chosen=chosen, error=None
    ), status
