"""The Jobs page (/jobs): the signed-in person's background jobs (everyone's for an admin),
with live progress, filled by annotator/static/jobs/page.js from the jobs API; and a form
that ingests GeoTIFFs in the background."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from annotations.catalogue.users import Role
from annotator.auth import role_required

bp = Blueprint("jobs_page", __name__)


@bp.get("/jobs")
@role_required(Role.analyst)
def jobs() -> str:
    return render_template("jobs.html", per_user=int(current_app.config["JOBS_PER_USER"]))
