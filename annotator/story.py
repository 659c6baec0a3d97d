"""The story outputs of a publication as HTTP responses: the map, the figure, the bundle.

Each is drawn from the publication's frozen Evidence only. The map of a publication never
changes, so it is kept on disk under its sha256 after the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Response, current_app

from annotations.bundle import evidence_bundle
from annotations.evidence import Evidence
from annotations.figure import figure_png, figure_svg
from annotations.publishing import Publication
from annotations.story_map import story_map_csp, story_map_html
from annotator.errors import RequestError

FIGURE_MIN_PX = 100
FIGURE_MAX_PX = 8000
FIGURE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


def write_outputs(evidence: Evidence, publication: Publication, folder: Path,
                  width_px: int = 2400) -> list[Path]:  # fmt: skip
    """The three outputs (map, figure as PNG and SVG, bundle) as files in `folder`."""
    stem = f"report-{publication.report_id}-{publication.number}"
    files = {
        f"{stem}-map.html": map_html(evidence).encode(),
        f"{stem}-figure.png": figure_bytes(evidence, "png", width_px=width_px, height_px=None),
        f"{stem}-figure.svg": figure_bytes(evidence, "svg", width_px=width_px, height_px=None),
        f"{stem}-evidence.zip": bundle_bytes(evidence),
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = folder / name
        partial = folder / f".{name}.{os.getpid()}"
        partial.write_bytes(data)
        partial.replace(path)
        written.append(path)
    return written


def map_html(evidence: Evidence) -> str:
    return story_map_html(evidence)


def figure_bytes(
    evidence: Evidence,
    fmt: str,
    *,
    width_px: int,
    height_px: int | None,
    annotation_ids: list[str] | None = None,
) -> bytes:
    if fmt == "svg":
        svg = figure_svg(
            evidence, width_px=width_px, height_px=height_px, annotation_ids=annotation_ids
        )
        return svg.encode()
    return figure_png(
        evidence, width_px=width_px, height_px=height_px, annotation_ids=annotation_ids
    )


def bundle_bytes(evidence: Evidence) -> bytes:
    return evidence_bundle(evidence)


def cached_map(publication: Publication, evidence: Evidence) -> str:
    folder = Path(current_app.config["DATA_DIR"]) / "published" / publication.sha256
    path = folder / "map.html"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    html = map_html(evidence)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".map.html.{os.getpid()}"
    partial.write_text(html, encoding="utf-8")
    partial.replace(path)  # atomic: a reader sees the old file or the whole new one
    return html


def map_policy(html: str, frame_ancestors: str) -> str:
    """The map's own policy (its inline scripts by hash, data: images, no connection), run
    sandboxed in an opaque origin (no cookies, no API), framed only where allowed."""
    return (
        f"{story_map_csp(html)}; sandbox allow-scripts allow-popups "
        f"allow-popups-to-escape-sandbox; frame-ancestors {frame_ancestors}"
    )


def map_response(
    publication: Publication,
    evidence: Evidence,
    *,
    download: bool = False,
    frame_ancestors: str = "'self'",
) -> Response:
    html = cached_map(publication, evidence)
    response = Response(html, mimetype="text/html")
    response.set_etag(publication.sha256)
    response.headers["Content-Security-Policy"] = map_policy(html, frame_ancestors)
    if download:
        name = f"report-{publication.report_id}-{publication.number}-map.html"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _size(args: Mapping[str, str], name: str) -> int | None:
    value = args.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or not FIGURE_MIN_PX <= int(value) <= FIGURE_MAX_PX:
        raise RequestError(
            f"{name} must be a whole number of pixels from {FIGURE_MIN_PX} to {FIGURE_MAX_PX}",
            status=400,
        )
    return int(value)


def figure_response(evidence: Evidence, fmt: str, args: Mapping[str, str]) -> Response:
    width = _size(args, "width") or 2400
    height = _size(args, "height")
    ids = [i for i in (args.get("annotations") or "").split(",") if i] or None
    data = figure_bytes(evidence, fmt, width_px=width, height_px=height, annotation_ids=ids)
    return Response(data, mimetype=FIGURE_TYPES[fmt])


def bundle_response(publication: Publication, evidence: Evidence) -> Response:
    response = Response(bundle_bytes(evidence), mimetype="application/zip")
    name = f"report-{publication.report_id}-{publication.number}-evidence.zip"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
