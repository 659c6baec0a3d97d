"""Bring images into the catalogue: ingest each file to a COG, then record them together.

Shared by the CLI and the upload API. All-or-nothing: if one file of a batch fails, no
row is written and every COG made for the batch is removed.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from annotations.backup.hashes import cache_path, record
from annotations.catalogue.images import Image, Provenance, add_image, find_by_sha256
from annotations.catalogue.sites import get_site
from annotations.db import Database
from annotator import metrics
from imagery.ingest import ImageFacts, ingest, sha256_file


@dataclass(frozen=True)
class Upload:
    """A file to import and the name the user knows it by."""

    path: Path
    original_filename: str


def display_name(name: str) -> str:
    """The file name a user sees: last path component, no leading dots or control
    characters. It is a label only; files are always stored under their sha256."""
    last = re.split(r"[/\\]", name)[-1]
    clean = "".join(ch for ch in last if ch.isprintable()).lstrip(". ").strip()
    return clean[:255] or "upload.tif"


@dataclass(frozen=True)
class Imported:
    image: Image
    created: bool


def import_images(
    database: Database,
    store: Path,
    uploads: list[Upload],
    provenance: Provenance,
    *,
    sites: tuple[str, ...] = (),
    captured: datetime | None = None,
    created_by: str | None = None,
    max_pixels: int,
    progress: Callable[[float, str], None] | None = None,
) -> list[Imported]:
    """`progress(fraction, message)` is called before each file (a background job's progress
    check: what it raises stops the batch, and the COGs made so far are removed)."""
    with database.read() as session:
        for slug in sites:
            get_site(session, slug)
    results: list[tuple[str, ImageFacts | None]] = []
    made: list[Path] = []
    try:
        for index, upload in enumerate(uploads):
            if progress is not None:
                name = display_name(upload.original_filename)
                progress(index / len(uploads), f"ingesting {name} ({index + 1} of {len(uploads)})")
            digest = sha256_file(upload.path)
            with database.read() as session:
                if find_by_sha256(session, digest) is not None or any(
                    digest == seen for seen, _ in results
                ):
                    results.append((digest, None))
                    continue
            started = time.perf_counter()
            outcome = "failed"
            try:
                facts = ingest(
                    upload.path,
                    store,
                    original_filename=display_name(upload.original_filename),
                    sha256=digest,
                    captured=captured,
                    max_pixels=max_pixels,
                )
                outcome = "ok"
            finally:
                metrics.INGEST_SECONDS.labels(outcome).observe(time.perf_counter() - started)
            made.append(facts.cog_path)
            results.append((digest, facts))
            # hashed now, while in the page cache, so no backup has to read the COG again
            with contextlib.suppress(OSError):
                record(cache_path(store.parent), facts.cog_path)
        if progress is not None:
            progress(0.99, "recording in the catalogue")
        return _record(database, results, provenance, sites, created_by)
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise


def _record(
    database: Database,
    results: list[tuple[str, ImageFacts | None]],
    provenance: Provenance,
    sites: tuple[str, ...],
    created_by: str | None,
) -> list[Imported]:
    try:
        with database.write() as session:
            out: list[Imported] = []
            for digest, facts in results:
                if facts is None:
                    existing = find_by_sha256(session, digest)
                    if existing is None:  # the duplicate was earlier in this same batch
                        existing = next(i.image for i in out if i.image.sha256 == digest)
                    out.append(Imported(existing, created=False))
                else:
                    image = add_image(
                        session, facts, provenance, site_slugs=sites, created_by=created_by
                    )
                    out.append(Imported(image, created=True))
            for item in out:  # load what the caller will show before the session closes
                item.image.to_dict()
            return out
    except IntegrityError:
        # another process catalogued the same file meanwhile: answer with its rows
        with database.read() as session:
            again = []
            for digest, _ in results:
                found = find_by_sha256(session, digest)
                if found is None:
                    raise
                found.to_dict()
                again.append(Imported(found, created=False))
            return again
