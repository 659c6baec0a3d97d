"""`annotator demo`: the synthetic Hmeimim scene, the real sample rasters, demo accounts.

Idempotent: a second run finds everything in place and changes nothing.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from shapely.geometry import shape
from sqlalchemy import func, select

from annotations import annotation as store
from annotations.annotation import Actor, Annotation, AnnotationInput
from annotations.catalogue.images import Provenance, find_by_sha256
from annotations.catalogue.sites import Site, add_site
from annotations.catalogue.users import Role, User, add_user
from annotations.db import Database
from annotations.geometry import normalise
from annotations.measure import box_polygon
from annotations.newsroom import events, publishing, reports
from annotations.newsroom.signing import stored_key
from annotator import services, story
from annotator.demo import press, scene
from annotator.demo.arabic import ensure_arabic_report
from annotator.demo.evidence import link_an_124s
from annotator.demo.press import ensure_press_picture
from annotator.intake import Upload, import_images, ingest_limits
from imagery.ingest import sha256_file

ROOT = Path(__file__).resolve().parents[2]
HMEIMIM = ("hmeimim", "Hmeimim air base")
SYNTHETIC = Provenance(
    provider="annotator demo (synthetic)",
    sensor="synthetic 0.5 m RGB",
    licence="CC0-1.0",
    attribution="Synthetic scene made by annotator; not a real satellite image",
    description=scene.SYNTHETIC_NOTE,
    synthetic=True,
)
DEMO_USERS = (("analyst", Role.analyst), ("editor", Role.editor))


@dataclass(frozen=True)
class Sample:
    """One of the real rasters in shared/data, with what SOURCES.md says of it."""

    filename: str
    site_slug: str
    site_name: str
    provenance: Provenance


SAMPLES = (
    Sample(
        "RGB.byte.tif",
        "landsat-sample",
        "Landsat 7 sample (Bahamas)",
        Provenance(
            provider="USGS Landsat 7 ETM+ (via rasterio test data)",
            sensor="Landsat 7 ETM+",
            licence="CC0-1.0",
            attribution="USGS Landsat 7; sample from rasterio/rasterio tests/data",
        ),
    ),
    Sample(
        "201404_13SED190110_201404_0x1500m_CL_1.tif",
        "colorado-springs-aerial",
        "Colorado Springs aerial sample",
        Provenance(
            provider="USGS HRO orthophoto (via rio-tiler test fixtures)",
            sensor="aerial camera, 15 cm",
            licence="BSD-3-Clause repository; imagery source undocumented",
            attribution="USGS High Resolution Orthoimagery (unverified); cogeotiff/rio-tiler",
        ),
    ),
    Sample(
        "sample_geotiff.tif",
        "atlanta-spacenet",
        "Atlanta (SpaceNet sample)",
        Provenance(
            provider="SpaceNet / CosmiQ Works (via solaris)",
            sensor="0.5 m panchromatic",
            licence="CC BY-SA 4.0",
            attribution="SpaceNet / CosmiQ Works",
        ),
    ),
)


def sample_dir(app: Flask) -> Path:
    configured = app.config.get("SAMPLE_DATA_DIR")
    return Path(configured) if configured else ROOT.parent / "shared" / "data"


def load_demo(app: Flask) -> list[str]:
    database: Database = services.database(app)
    store = Path(app.config["IMAGES_DIR"])
    max_pixels = int(app.config["MAX_IMAGE_PIXELS"])
    lines: list[str] = []
    _ensure_site(database, HMEIMIM[0], HMEIMIM[1], scene.aoi_polygon())
    folder = Path(app.config["DATA_DIR"]) / "demo"
    captures = _demo_files(folder)
    results = import_images(
        database,
        store,
        [Upload(p, p.name) for p in captures],
        SYNTHETIC,
        sites=(HMEIMIM[0],),
        max_pixels=max_pixels,
        limits=ingest_limits(app.config),
    )
    made = sum(r.created for r in results)
    lines.append(
        f"Hmeimim synthetic scene: {len(results)} captures ({made} new); "
        "SYNTHETIC demo imagery, not a real satellite image"
    )
    samples = sample_dir(app)
    if samples.is_dir():
        for sample in SAMPLES:
            path = samples / sample.filename
            if not path.is_file():
                lines.append(f"sample {sample.filename} missing from {samples}; skipped")
                continue
            result = import_images(
                database,
                store,
                [Upload(path, path.name)],
                sample.provenance,
                max_pixels=max_pixels,
                limits=ingest_limits(app.config),
            )[0]
            _ensure_site(
                database,
                sample.site_slug,
                sample.site_name,
                shape(result.image.to_dict()["footprint"]),
            )
            lines.append(f"sample {sample.filename}: {'imported' if result.created else 'present'}")
    else:
        lines.append(f"sample rasters not found at {samples}; only the synthetic scene loaded")
    lines.extend(_ensure_users(database, Path(app.config["DATA_DIR"])))
    by_date = {
        r.image.captured_at.date().isoformat(): r.image.id
        for r in results
        if r.image.captured_at is not None
    }
    made_notes = _ensure_annotations(database, services.taxonomy(app), by_date)
    lines.append(f"reference annotations on the Hmeimim scene: {made_notes} new")
    # the press picture, placed on the 2024-12-13 capture; its An-124s join the reports' links
    press_id, said = ensure_press_picture(app, HMEIMIM[0], by_date[press.FROM_DATE])
    lines.append(said)
    linked = [*by_date.values(), press_id]
    # the Arabic translation first: the English seed report stays the newest, first in lists
    lines.append(ensure_arabic_report(app, linked))
    lines.append(_ensure_report(app, linked, uncounted=(press_id,)))
    return lines


def _demo_files(folder: Path) -> list[Path]:
    expected = [folder / f"hmeimim-synthetic-{date}.tif" for date in scene.DEMO_CAPTURES]
    if not all(p.is_file() for p in expected):
        folder.mkdir(parents=True, exist_ok=True)
        written = scene.write_demo_scene(folder)
        return [capture.path for capture in written]
    return expected


def _ensure_site(database: Database, slug: str, name: str, area: object) -> None:
    with database.write() as session:
        if session.query(Site).filter_by(slug=slug).first() is None:
            add_site(session, name, area, slug=slug)  # type: ignore[arg-type]


def _ensure_users(database: Database, data_dir: Path) -> list[str]:
    """Demo accounts with random passwords, kept (mode 600) in the data folder."""
    logins_path = data_dir / "demo-logins.json"
    logins: dict[str, str] = {}
    if logins_path.exists():
        logins = json.loads(logins_path.read_text())
    lines = []
    with database.write() as session:
        for name, role in DEMO_USERS:
            exists = session.query(User).filter_by(name=name).first() is not None
            if not exists:
                logins[name] = secrets.token_urlsafe(12)
                add_user(session, name, role, logins[name])
            password = logins.get(name, "(set before; see demo-logins.json)")
            lines.append(f"demo {role.name}: name {name!r} password {password!r}")
        fd = os.open(logins_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(logins, handle, indent=2)
    return lines


#: the review state each demo aircraft is left in, by kind, in stand order
REVIEW_PLAN = {
    "an-124": ("approved", "approved"),
    "il-76": ("approved", "in_review", "draft"),
    "fighter": ("in_review", "draft", "rejected", "approved"),
}


def _ensure_annotations(database: Database, labels: Any, images: dict[str, str]) -> int:
    """The aircraft of both demo captures as annotations, each in a review state.

    Made through the same checked functions as the API (analyst creates and submits,
    editor reviews), so each has a full history. Skipped if the demo images already
    carry annotations."""
    analyst = Actor("analyst", Role.analyst)
    editor = Actor("editor", Role.editor)
    made = 0
    with database.write() as session:
        existing = session.scalar(
            select(func.count())
            .select_from(Annotation)
            .where(Annotation.image_id.in_(list(images.values())))
        )
        if existing:
            return 0
        for date, image_id in sorted(images.items()):
            seen: dict[str, int] = {}
            for aircraft in scene.demo_aircraft(date):
                index = seen.get(aircraft.kind, 0)
                seen[aircraft.kind] = index + 1
                plan = REVIEW_PLAN[aircraft.kind]
                target = plan[index % len(plan)]
                annotation = store.create(
                    session,
                    _aircraft_input(aircraft, image_id, labels),
                    analyst,
                    comment="demo reference annotation",
                )
                if target != "draft":
                    store.set_status(session, annotation, "in_review", analyst, annotation.version)
                if target in ("approved", "rejected"):
                    why = (
                        "matches the reference size"
                        if target == "approved"
                        else ("type not clear at this resolution; mark as unknown-small?")
                    )
                    store.set_status(
                        session, annotation, target, editor, annotation.version, comment=why
                    )
                made += 1
    return made


def _aircraft_input(aircraft: scene.DemoAircraft, image_id: str, labels: Any) -> AnnotationInput:
    if aircraft.kind == "fighter":
        ranked = labels.rank_by_size(
            aircraft.length_m, aircraft.span_m, 0.5, branch="aircraft.combat"
        )
        label, confidence = ranked[0][0].id, "probable"
    else:
        label, confidence = f"aircraft.transport.{aircraft.kind}", "confirmed"
    # the box runs nose to tail along the heading, wing tip to wing tip across it
    box = box_polygon(
        aircraft.lon, aircraft.lat, aircraft.length_m, aircraft.span_m, aircraft.heading_deg
    )
    attributes: dict[str, Any] = {"heading_deg": aircraft.heading_deg % 360}
    attributes["state"] = "nose door open" if aircraft.nose_open else "parked"
    return AnnotationInput(
        geometry=normalise(box),
        label=label,
        image_id=image_id,
        shape="rotated-box",
        confidence=confidence,
        count=1,
        attributes=labels.validate_attributes(label, attributes),
        notes="nose visor raised, ramp down, trucks alongside" if aircraft.nose_open else "",
    )


def demo_image_ids(database: Database, folder: Path) -> list[str]:
    """Ids of the demo captures, by content hash (for tests and tools)."""
    with database.read() as session:
        ids = []
        for path in sorted(folder.glob("hmeimim-synthetic-*.tif")):
            image = find_by_sha256(session, sha256_file(path))
            if image is not None:
                ids.append(image.id)
        return ids


# ---- the seed report ----------------------------------------------------------------------------

SEED_TITLE = "The situation of the Russian forces in Syria"
SEED_CLAIMS = (
    "Satellite images captured two Antonov AN-124 aircraft \u2026 at the Hmeimim base, with the "
    "noses of the two aircraft open in preparation for loading",
    "a Russian convoy heading from the south of the capital towards the coast",
)
#: Only the two passages the claims quote are pasted; [\u2026] marks what is left out.
SEED_TEXT = f"[\u2026] {SEED_CLAIMS[0]}. [\u2026]\n\n[\u2026] {SEED_CLAIMS[1]} [\u2026]"
SEED_EVENT = ("An-124 airlift at Hmeimim", "2024-12-10", "2024-12-14")


def _ensure_report(app: Flask, image_ids: list[str], uncounted: tuple[str, ...] = ()) -> str:
    """The seed report with its two claims, the An-124s linked to the first, the airlift
    event, and one publication. Skipped when a report of that title exists. The event counts
    the aircraft on the captures not `uncounted` (the press picture shows the same two again:
    evidence for the claim, not more aircraft)."""
    database: Database = services.database(app)
    editor = Actor("editor", Role.editor)
    analyst = Actor("analyst", Role.analyst)
    with database.write() as session:
        if session.scalar(select(reports.Report.id).where(reports.Report.title == SEED_TITLE)):
            return f"seed report {SEED_TITLE!r}: present"
        report = reports.create_report(
            session,
            reports.parse_report(
                {
                    "title": SEED_TITLE,
                    "published_at": "2026-05-25",
                    "language": "en",
                    "text": SEED_TEXT,
                    "summary": (
                        "Excerpt pasted for the demo: only the two passages the claims quote."
                    ),
                }
            ),
            editor,
        )
        claims = [
            reports.create_claim(session, report, quote, "", "", editor) for quote in SEED_CLAIMS
        ]
        notes = ("nose visor raised, ramp down", "parked, nose closed")
        an_124s = link_an_124s(session, image_ids, report.id, claims[0].id, notes, analyst)
        title, start, end = SEED_EVENT
        event = events.create_event(
            session,
            events.parse_event(
                {
                    "site": HMEIMIM[0],
                    "title": title,
                    "start": start,
                    "end": end,
                    "description": "Two An-124 transports seen on the apron, noses open on 13 Dec.",
                }
            ),
            analyst,
        )
        if an_124s:
            counted = [a.id for a in an_124s if a.image_id not in uncounted]
            events.add_annotations(session, event, counted, analyst)
            images = Path(app.config["IMAGES_DIR"])
            labels = services.taxonomy(app)
            publication = publishing.publish(session, report, editor, images, labels)
            published = f", published (sha256 {publication.sha256[:12]}\u2026)"
            # the three outputs, made once now; written only if the publication is committed
            folder = Path(app.config["DATA_DIR"]) / "demo" / "story"
            key = stored_key(Path(app.config["SIGNING_KEY_FILE"]))  # signs the bundle
            outputs = story.write_outputs(
                publishing.frozen_evidence(publication, images),
                publication,
                folder,
                signing_key=key,
            )
            published += f"; its map, figure and bundle in {folder} ({len(outputs)} files)"
        else:
            published = ", not published: no approved An-124 annotations"
    return f"seed report {SEED_TITLE!r}: 2 claims, {len(an_124s)} links, 1 event{published}"
