"""The story outputs of a publication as HTTP responses: the map, the figure, the bundle.

Each is drawn from the publication's frozen Evidence only. The map of a publication never
changes, so its outputs are made once and kept on disk in a bounded cache in the data folder
(`cache/outputs`, ANNOTATOR_OUTPUT_CACHE_MB), named by the publication's sha256: the map, each
figure (by format, size and annotations) and the bundle (by signing key). An 8000-pixel figure
takes seconds to draw.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from flask import Response, current_app

from annotations.exchange import filenames
from annotations.newsroom.bundle import evidence_bundle
from annotations.newsroom.evidence import Evidence
from annotations.newsroom.figure import figure_png, figure_svg
from annotations.newsroom.publishing import Publication
from annotations.newsroom.signing import SigningKey, stored_key
from annotations.newsroom.story_map import story_map_csp, story_map_html
from annotator.disk_cache import DiskCache
from annotator.errors import error_response
from imagery.sizes import MAX_SIDE_PX, MIN_SIDE_PX

#: one range for every way to ask for a figure (API, OpenAPI, CLI): the renderer's own
FIGURE_MIN_PX = MIN_SIDE_PX
FIGURE_MAX_PX = MAX_SIDE_PX
FIGURE_DEFAULT_PX = 2400
FIGURE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


#: the story outputs' drawing, raised whenever what a publication's map, figure or bundle looks
#: like changes (a language, a credit, a control): outputs cached, and ETags handed out, before
#: an upgrade are then made again instead of served as they were drawn (a publication's evidence
#: never changes, the code that draws it may)
DRAWING = 2


def kept_name(publication: Publication, what: str) -> str:
    """The output cache's name for one of a publication's outputs, in this drawing."""
    return f"{publication.sha256}-d{DRAWING}-{what}"


def signing_key() -> SigningKey:
    """The server's bundle-signing key (made in the data folder the first time)."""
    return stored_key(Path(current_app.config["SIGNING_KEY_FILE"]))


def output_cache() -> DiskCache:
    folder = Path(current_app.config["DATA_DIR"]) / "cache" / "outputs"
    return DiskCache(folder, int(current_app.config["OUTPUT_CACHE_MB"]) << 20)


def write_outputs(
    evidence: Evidence,
    publication: Publication,
    folder: Path,
    width_px: int = FIGURE_DEFAULT_PX,
    *,
    signing_key: SigningKey,
) -> list[Path]:
    """The three outputs (map, figure as PNG and SVG, bundle signed with `signing_key`) as files
    in `folder`."""
    stem = f"report-{publication.report_id}-{publication.number}"
    files = {
        f"{stem}-map.html": map_html(evidence).encode(),
        f"{stem}-figure.png": figure_bytes(evidence, "png", width_px=width_px, height_px=None),
        f"{stem}-figure.svg": figure_bytes(evidence, "svg", width_px=width_px, height_px=None),
        f"{stem}-evidence.zip": bundle_bytes(evidence, signing_key),
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
    caption: str | None = None,
) -> bytes:
    if fmt == "svg":
        svg = figure_svg(
            evidence,
            width_px=width_px,
            height_px=height_px,
            annotation_ids=annotation_ids,
            caption=caption,
        )
        return svg.encode()
    return figure_png(
        evidence,
        width_px=width_px,
        height_px=height_px,
        annotation_ids=annotation_ids,
        caption=caption,
    )


def bundle_bytes(evidence: Evidence, key: SigningKey) -> bytes:
    return evidence_bundle(evidence, key)


def cached_map(publication: Publication, evidence: Evidence) -> str:
    """The map, made once per publication (its sha256) by whichever request comes first; the
    others wait for it, so every request gets the same bytes."""
    data, _ = output_cache().get_or_make(
        kept_name(publication, "map.html"), lambda: map_html(evidence).encode("utf-8")
    )
    return data.decode("utf-8")


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
    response.set_etag(kept_name(publication, "map"))
    response.headers["Content-Security-Policy"] = map_policy(html, frame_ancestors)
    if download:
        name = _named(publication, evidence, "map.html")
        response.headers["Content-Disposition"] = filenames.disposition(name)
    return response


def figure_response(
    publication: Publication,
    evidence: Evidence,
    fmt: str,
    *,
    width: int,
    height: int | None,
    ids: list[str] | None,
    caption: str | None = None,
) -> Response:
    """The figure, from the cache when this publication's was made at this size (and with this
    editor's caption) before (a publication never changes); `X-Cache: hit` or `miss` says
    which. The sizes are checked by the route's query model (FIGURE_MIN_PX to FIGURE_MAX_PX)."""
    chosen = "" if ids is None else "-" + _sha256(",".join(ids).encode())[:16]
    if caption:
        chosen += "-c" + _sha256(caption.encode())[:16]
    name = kept_name(publication, f"{width}x{height or 'auto'}{chosen}.{fmt}")

    def draw() -> bytes:
        with drawing_slot():
            return figure_bytes(
                evidence, fmt, width_px=width, height_px=height, annotation_ids=ids, caption=caption
            )

    try:
        data, hit = output_cache().get_or_make(name, draw)
    except AllSlotsBusy:
        message = "the server is drawing other figures; try again in a moment"
        busy = error_response(503, "busy", message)
        busy.headers["Retry-After"] = str(DRAWING_RETRY_S)
        return busy
    response = _cached(Response(data, mimetype=FIGURE_TYPES[fmt]), data, hit)
    # shown in place; saved under a name that says which report and publication
    name = _named(publication, evidence, f"figure.{fmt}")
    response.headers["Content-Disposition"] = filenames.disposition(name, inline=True)
    return response


def _named(publication: Publication, evidence: Evidence, what: str) -> str:
    return filenames.publication_name(
        evidence.report.title, publication.number, publication.published_at, what
    )


class AllSlotsBusy(Exception):
    """Every figure-drawing slot of this process is taken."""


#: seconds a client asked to wait when every drawing slot is taken
DRAWING_RETRY_S = 2
_slots_lock = threading.Lock()


@contextlib.contextmanager
def drawing_slot() -> Iterator[None]:
    """One of the process's ANNOTATOR_FIGURE_CONCURRENCY slots for drawing a figure, or
    AllSlotsBusy at once. Each size is a new drawing (an 8000 px figure takes seconds), so
    without a bound one user asking for many sizes would hold every thread; the excess is
    refused at once rather than queued on a thread."""
    with _slots_lock:
        slots = current_app.extensions.get("annotator.figure_slots")
        if slots is None:
            count = int(current_app.config["FIGURE_CONCURRENCY"])
            slots = current_app.extensions["annotator.figure_slots"] = threading.Semaphore(count)
    if not slots.acquire(blocking=False):
        raise AllSlotsBusy
    try:
        yield
    finally:
        slots.release()


def bundle_response(publication: Publication, evidence: Evidence) -> Response:
    """The bundle signed with the server's key, made once per publication and key."""
    key = signing_key()
    name = kept_name(publication, f"bundle-{key.fingerprint()[:16]}.zip")
    data, hit = output_cache().get_or_make(name, lambda: bundle_bytes(evidence, key))
    response = _cached(Response(data, mimetype="application/zip"), data, hit)
    name = _named(publication, evidence, "evidence.zip")
    response.headers["Content-Disposition"] = filenames.disposition(name)
    return response


def _cached(response: Response, data: bytes, hit: bool) -> Response:
    response.headers["X-Cache"] = "hit" if hit else "miss"
    response.set_etag(_sha256(data))
    return response


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
