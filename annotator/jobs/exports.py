"""EXPORT jobs: GET /api/v1/exports?...&async=1 queues the export of what a search selects;
a worker writes the file as the owner would see it (their role now), under
`<jobs root>/exports/<job id>/`, and the result links its download,
GET /api/v1/jobs/<id>/download: for the job's owner only, while their role still covers the
one the export was made with, for ANNOTATOR_EXPORT_KEEP_HOURS; older files are removed by
the next export job and refused (410) by the download.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from annotations.catalogue.users import Role, get_user
from annotations.errors import AnnotationError
from annotations.exchange import Selection, export_file, filenames, get_format
from annotations.exchange.budget import Budget, ExportStopped
from annotations.jobs.running import JobContext, JobFailed, JobStopped
from annotations.jobs.tables import Status
from annotations.search import Filters
from annotations.times import parse_time

EXPORT = "export"


def exports_root(jobs_root: Path) -> Path:
    return jobs_root / "exports"


def export_params(filters: Filters, format_name: str, options: dict[str, str]) -> dict[str, Any]:
    """An export job's parameters: the search filters (without the role: the worker uses the
    owner's role when it runs), the format and its options."""
    values = asdict(filters)
    values.pop("role", None)
    for key in ("start", "end"):
        if values[key] is not None:
            values[key] = values[key].isoformat()
    return {"filters": values, "format": format_name, "options": options}


def _filters(values: dict[str, Any], role: Role) -> Filters:
    found = dict(values)
    for key in ("start", "end"):
        if found.get(key):
            found[key] = parse_time(found[key], key)
    if found.get("bbox") is not None:
        found["bbox"] = tuple(found["bbox"])
    found["status"] = tuple(found.get("status") or ())
    return replace(Filters(**found), role=role)


def run_export(context: JobContext) -> dict[str, Any]:
    params = context.params
    fmt = get_format(str(params["format"]))
    keep_hours = float(context.settings.get("EXPORT_KEEP_HOURS") or 24)
    root = exports_root(Path(context.settings["JOBS_ROOT"]))
    remove_expired(root, keep_hours)
    role = owner_role(context)
    filters = _filters(params["filters"], role)
    context.progress(0.0, f"exporting as {fmt.name}")

    def stopping() -> bool:
        try:
            context.progress(0.5, f"exporting as {fmt.name}")
        except JobStopped:
            return True
        return False

    folder = root / context.job_id
    folder.mkdir(parents=True, exist_ok=True)
    budget = Budget(
        max_chips=int(context.settings["EXPORT_MAX_CHIPS"]),
        max_bytes=int(float(context.settings["EXPORT_MAX_MB"]) * 1024 * 1024),
        max_seconds=context.time_limit_s,
        cancelled=stopping,
        folder=context.folder,
    )
    selection = Selection(
        database=context.database,
        filters=filters,
        taxonomy=context.settings["TAXONOMY"],
        images_dir=Path(context.settings["IMAGES_DIR"]),
        role=role,
        options=dict(params.get("options") or {}),
        budget=budget,
    )
    try:
        path, written = export_file(selection, fmt.name, context.folder)
        budget.check_file(path)
        name = filenames.export_name(filters, fmt.extension, datetime.now(UTC).date())
        final = folder / name
        shutil.move(path, final)
    except ExportStopped as stopped:
        shutil.rmtree(folder, ignore_errors=True)
        if stopped.reason == "cancelled":
            raise JobStopped(Status.cancelled, "cancelled while running") from None
        raise JobFailed(stopped.message) from None
    except AnnotationError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise JobFailed(exc.message) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    expires = datetime.now(UTC) + timedelta(hours=keep_hours)
    return {
        "download": f"/api/v1/jobs/{context.job_id}/download",
        "name": name,
        "format": fmt.name,
        "media_type": fmt.media_type,
        "count": written,
        "bytes": final.stat().st_size,
        "role": role.name,
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
    }


def owner_role(context: JobContext) -> Role:
    """The job's owner's role now (one switched off or removed since fails the job)."""
    with context.database.read() as session:
        try:
            user = get_user(session, context.owner)
        except AnnotationError:
            raise JobFailed(f"{context.owner} is no longer a user") from None
        if not user.active:
            raise JobFailed(f"{context.owner} is switched off")
        return user.role


def remove_expired(root: Path, keep_hours: float) -> None:
    """Remove finished exports older than `keep_hours`."""
    if not root.is_dir():
        return
    cutoff = time.time() - keep_hours * 3600
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def expired(result: dict[str, Any]) -> bool:
    """The export's keeping time is over (its file is refused, 410, even before the next
    export job removes it)."""
    try:
        until = datetime.fromisoformat(str(result["expires_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return False
    return until <= datetime.now(UTC)


def finished_file(root: Path, job_id: str, name: str) -> Path | None:
    """The export job's file, or None once it was removed."""
    path = root / job_id / name
    if path.parent.parent != root or path.name != name or not path.is_file():
        return None
    return path
