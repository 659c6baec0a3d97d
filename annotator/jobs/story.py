"""STORY jobs: a publication's evidence bundle, figure or story map made in the background
(GET /api/v1/reports/<id>/bundle.zip, figure.png|svg, map.html with `async=1`), for outputs
slow to make (an 8000 px figure, a bundle of many annotations). A worker draws it from the
publication's frozen evidence as the job's owner may see the report now, into
`<jobs root>/exports/<job id>/`; the result links GET /api/v1/jobs/<id>/download, which,
like an export job's, is for the owner only, while their role still covers the one the job
ran with and the report is still theirs to see and not withdrawn; kept
ANNOTATOR_EXPORT_KEEP_HOURS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from annotations.catalogue.users import Role
from annotations.errors import AnnotationError
from annotations.exchange import filenames
from annotations.jobs.running import JobContext, JobFailed
from annotations.newsroom import publishing, reports
from annotations.newsroom.evidence import Evidence
from annotations.newsroom.signing import stored_key
from annotations.newsroom.withdrawal import withdrawal_of
from annotator import story
from annotator.jobs.exports import exports_root, owner_role, remove_expired

STORY = "story"
#: what a story job makes -> (the file's last part, its media type)
OUTPUTS = {
    "bundle": ("evidence.zip", "application/zip"),
    "figure.png": ("figure.png", story.FIGURE_TYPES["png"]),
    "figure.svg": ("figure.svg", story.FIGURE_TYPES["svg"]),
    "map": ("map.html", "text/html"),
}


def story_params(
    report_id: int, publication: int, output: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A story job's parameters: which publication, which output, and a figure's options
    (width, height, annotation ids, caption)."""
    if output not in OUTPUTS:
        raise ValueError(f"unknown story output {output!r}")
    return {
        "report_id": report_id,
        "publication": publication,
        "output": output,
        "options": dict(options or {}),
    }


def run_story(context: JobContext) -> dict[str, Any]:
    params = context.params
    output = str(params["output"])
    part, media_type = OUTPUTS[output]
    role = owner_role(context)
    options = dict(params.get("options") or {})
    if options.get("caption") and role < Role.editor:
        raise JobFailed(
            f"writing a figure's caption needs the editor role; {context.owner} is {role.name}"
        )
    keep_hours = float(context.settings.get("EXPORT_KEEP_HOURS") or 24)
    root = exports_root(Path(context.settings["JOBS_ROOT"]))
    remove_expired(root, keep_hours)
    context.progress(0.0, f"making the {part}")
    try:
        with context.database.read() as session:
            report = reports.get_report(session, params["report_id"], role)
            if withdrawal_of(session, report) is not None:
                raise JobFailed("the report was withdrawn; its outputs are gone")
            found = publishing.get_publication(session, report, int(params["publication"]))
        evidence = publishing.frozen_evidence(found, Path(context.settings["IMAGES_DIR"]))
        data = _draw(context, evidence, output, options)
    except AnnotationError as exc:
        raise JobFailed(exc.message) from None
    context.progress(0.9, f"writing the {part}")
    name = filenames.publication_name(evidence.report.title, found.number, found.published_at, part)
    folder = root / context.job_id
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.partial"
    partial.write_bytes(data)
    partial.replace(folder / name)
    expires = datetime.now(UTC) + timedelta(hours=keep_hours)
    return {
        "download": f"/api/v1/jobs/{context.job_id}/download",
        "name": name,
        "output": output,
        "media_type": media_type,
        "bytes": len(data),
        "report_id": report.id,
        "report": f"/reports/{report.id}",
        "publication": found.number,
        "role": role.name,
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
    }


def _draw(context: JobContext, evidence: Evidence, output: str, options: dict[str, Any]) -> bytes:
    if output == "map":
        return story.map_html(evidence).encode("utf-8")
    if output == "bundle":
        key = stored_key(Path(context.settings["SIGNING_KEY_FILE"]))
        return story.bundle_bytes(evidence, key)
    return story.figure_bytes(
        evidence,
        output.removeprefix("figure."),
        width_px=int(options.get("width") or story.FIGURE_DEFAULT_PX),
        height_px=int(options["height"]) if options.get("height") else None,
        annotation_ids=options.get("annotation_ids"),
        caption=options.get("caption"),
    )
