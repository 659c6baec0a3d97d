"""Bring images into the catalogue: ingest each file to a COG, then record them together.

Shared by the CLI and the upload API. All-or-nothing: if one file of a batch fails, no
row is written and every COG made for the batch is removed.

Each file is ingested in a child process with CPU, memory and time limits (imagery.sandbox)
into the batch's own folder in the store; the COGs are put in place and their rows committed
together under the store's lock (annotations.catalogue.files), so a failing batch never
removes a COG that another import catalogued meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from annotations.backup.hashes import cache_path, record
from annotations.catalogue.files import locked, put_in_place, remove_unnamed
from annotations.catalogue.images import Image, Provenance, add_image, find_by_sha256
from annotations.catalogue.sites import get_site
from annotations.db import Database
from annotator import metrics
from imagery.georef.warp import Height
from imagery.ingest import ImageFacts
from imagery.sandbox import Limits, ingest_isolated, remove_leftovers, workspace


@dataclass(frozen=True)
class Upload:
    """A file to import and the name the user knows it by."""

    path: Path
    original_filename: str
    #: its sha256 when already known (computed while it was received), else None: it is
    #: then hashed while its COG is written
    sha256: str | None = None


def display_name(name: str) -> str:
    """The file name a user sees: last path component, no leading dots or control
    characters. It is a label only; files are always stored under their sha256."""
    last = re.split(r"[/\\]", name)[-1]
    clean = "".join(ch for ch in last if ch.isprintable()).lstrip(". ").strip()
    return clean[:255] or "upload.tif"


#: the app's settings `ingest_limits` reads
INGEST_SETTINGS = ("INGEST_MEMORY_MB", "INGEST_CPU_S", "INGEST_WALL_S")


def ingest_limits(settings: Mapping[str, Any]) -> Limits:
    """The limits of each file's ingest, from the app's ANNOTATOR_INGEST_* settings."""
    default = Limits()
    return Limits(
        memory_mb=int(settings.get("INGEST_MEMORY_MB") or default.memory_mb),
        cpu_s=int(settings.get("INGEST_CPU_S") or default.cpu_s),
        wall_s=float(settings.get("INGEST_WALL_S") or default.wall_s),
    )


def ground_height(metres: float | None, dem: Path | None) -> Height:
    """The ground height an image placed by RPCs is orthorectified at: the one given, else
    0 m, saying why (sites keep no elevation in this catalogue); on the deployment's DEM
    (ANNOTATOR_DEM) where it has one, the given height filling its holes."""
    if metres is not None:
        return Height(metres=metres, dem=dem)
    return Height(why="no height given, and sites keep no elevation", dem=dem)


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
    limits: Limits | None = None,
    progress: Callable[[float, str], None] | None = None,
    height: float | None = None,
    dem: Path | None = None,
) -> list[Imported]:
    """`progress(fraction, message)` is called before each file and, with the same values,
    several times a second while its ingest runs (a background job's progress check: what
    it raises kills the ingest at once and stops the batch; nothing made is kept)."""
    with database.read() as session:
        for slug in sites:
            get_site(session, slug)
    remove_leftovers(store)
    results: list[tuple[str, ImageFacts | None]] = []
    work = workspace(store)
    try:
        for index, upload in enumerate(uploads):
            name = display_name(upload.original_filename)
            step = (index / len(uploads), f"ingesting {name} ({index + 1} of {len(uploads)})")
            if progress is not None:
                progress(*step)
            catalogued = functools.partial(_refuse_catalogued, database, results)
            if upload.sha256 is not None:
                try:
                    catalogued(upload.sha256)
                except _Catalogued:
                    results.append((upload.sha256, None))
                    continue
            started = time.perf_counter()
            outcome: str | None = "failed"
            try:
                # with no sha256 yet, the file is hashed while its COG is written, and a
                # file already catalogued stops its ingest as soon as that is known
                facts = ingest_isolated(
                    upload.path,
                    work,
                    original_filename=name,
                    sha256=upload.sha256,
                    captured=captured,
                    max_pixels=max_pixels,
                    limits=limits,
                    check=None if progress is None else functools.partial(progress, *step),
                    height=ground_height(height, dem),
                    on_hashed=catalogued,
                )
                outcome = "ok"
            except _Catalogued as known:
                outcome = None
                results.append((known.digest, None))
                continue
            finally:
                if outcome is not None:
                    metrics.INGEST_SECONDS.labels(outcome).observe(time.perf_counter() - started)
            results.append((facts.sha256, facts))
        if progress is not None:
            progress(0.99, "recording in the catalogue")
        return _commit(database, store, results, provenance, sites, created_by)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _Catalogued(Exception):
    """The file is already in the catalogue, or earlier in the batch: not ingested again."""

    def __init__(self, digest: str) -> None:
        super().__init__(digest)
        self.digest = digest


def _refuse_catalogued(
    database: Database, results: list[tuple[str, ImageFacts | None]], digest: str
) -> None:
    with database.read() as session:
        if find_by_sha256(session, digest) is not None or any(
            digest == seen for seen, _ in results
        ):
            raise _Catalogued(digest)


def _commit(
    database: Database,
    store: Path,
    results: list[tuple[str, ImageFacts | None]],
    provenance: Provenance,
    sites: tuple[str, ...],
    created_by: str | None,
) -> list[Imported]:
    """Put the batch's new COGs in place and record the batch, under their locks; on any
    failure, remove the COGs put in place here that no committed row names."""
    placed: list[Path] = []
    stored: list[tuple[str, ImageFacts | None]] = []
    with locked(store):
        try:
            for digest, facts in results:
                if facts is not None:
                    final = store / facts.cog_path.name
                    if put_in_place(facts.cog_path, final):
                        placed.append(final)
                    facts = replace(facts, cog_path=final)
                stored.append((digest, facts))
            out = _record(database, stored, provenance, sites, created_by)
        except BaseException:
            remove_unnamed(database, placed)
            raise
    for path in placed:
        # hashed now, while in the page cache, so no backup has to read the COG again
        with contextlib.suppress(OSError):
            record(cache_path(store.parent), path)
    return out


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
