"""Evidence for the story-output tests, built on real COGs written by imagery.ingest."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box, mapping

from annotations.newsroom.evidence import (
    Evidence,
    EvidenceAnnotation,
    EvidenceClaim,
    EvidenceImage,
    EvidenceLink,
    EvidenceReport,
)
from imagery.ingest import ImageFacts, ingest
from tests.conftest import write_geotiff

HOSTILE = "<script>alert(1)</script> `tick` <img src=x onerror=alert(1)>"
#: The scene: 1000 x 800 pixels of 0.5 m in UTM 36N, near Hmeimim.
ORIGIN = (790_000.0, 3_922_000.0)
GSD = 0.5
CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
PUBLISHED = datetime(2026, 5, 25, 9, 0, tzinfo=UTC)
TO_LONLAT = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True)


def scene_data(seed: int = 11) -> np.ndarray[Any, Any]:
    """Smooth gradients plus noise, so crops and outlines can be told apart."""
    rows, cols = np.mgrid[0:800, 0:1000]
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 40, (3, 800, 1000))
    bands = [(cols * 0.2) % 180, (rows * 0.25) % 180, ((rows + cols) * 0.1) % 180]
    return (np.stack(bands) + noise + 20).astype(np.uint8)


def in_folder(folder: Path, name: str = "scene.tif", **kwargs: Any) -> Path:
    """`make_geotiff` for a module-scoped fixture: write into `folder`."""
    return write_geotiff(folder / name, **kwargs)


def ingest_scene(make_geotiff: Callable[..., Path], store: Path, name: str = "scene.tif",
                 captured: datetime = CAPTURED) -> ImageFacts:  # fmt: skip
    seed = 11 + captured.toordinal() - CAPTURED.toordinal()  # one scene per capture date
    path = make_geotiff(name, data=scene_data(seed), transform=from_origin(*ORIGIN, GSD, GSD))
    return ingest(path, store, captured=captured)


def two_captures(folder: Path) -> list[ImageFacts]:
    """The scene on 2024-12-13 and (other pixels) on 2024-12-10, written and ingested in folder."""
    write = functools.partial(in_folder, folder)
    return [
        ingest_scene(write, folder / "store", "after.tif"),
        ingest_scene(write, folder / "store", "before.tif", captured=CAPTURED.replace(day=10)),
    ]


def utm_box(col: float, row: float, width_m: float, height_m: float) -> dict[str, Any]:
    """A box whose top-left corner is at pixel (col, row) of the scene, as WGS 84 GeoJSON."""
    x0, y0 = ORIGIN[0] + col * GSD, ORIGIN[1] - row * GSD
    shape = box(x0, y0 - height_m, x0 + width_m, y0, ccw=True)
    lonlat = shapely.transform(shape, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))
    return dict(mapping(lonlat))


def evidence_image(facts: ImageFacts, *, provider: str = "Demo Provider",
                   licence: str = "CC BY 4.0", attribution: str | None = "Demo Provider, 2024",
                   synthetic: bool = False) -> EvidenceImage:  # fmt: skip
    return EvidenceImage(
        id=facts.sha256[:12],
        sha256=facts.sha256,
        cog_path=facts.cog_path,
        captured_at=facts.captured_at,
        provider=provider,
        licence=licence,
        attribution=attribution,
        gsd_m=facts.gsd_m,
        synthetic=synthetic,
        georeferencing=facts.georeferencing.get("text"),
    )


def annotation(ident: str, image: EvidenceImage, geometry: dict[str, Any], *,
               label_name: str = "Antonov An-124 Ruslan", colour: str = "#06b6d4",
               links: tuple[EvidenceLink, ...] = ()) -> EvidenceAnnotation:  # fmt: skip
    feature = {
        "type": "Feature",
        "id": ident,
        "geometry": geometry,
        "properties": {
            "label": "aircraft.transport.an-124",
            "label_name": label_name,
            "shape": "box",
            "confidence": "confirmed",
            "count": 1,
            "attributes": {"state": "nose door open"},
            "notes": "",
            "image_id": image.id,
            "observed_at": "2024-12-13T08:21:00Z",
            "status": "approved",
            "version": 3,
            "source": {"image_sha256": image.sha256, "provider": image.provider},
            "reports": ["1"],
        },
    }
    return EvidenceAnnotation(
        id=ident,
        version=3,
        image_id=image.id,
        label="aircraft.transport.an-124",
        label_name=label_name,
        colour=colour,
        confidence="confirmed",
        feature=feature,
        revised_by="analyst",
        revised_at=datetime(2024, 12, 14, 10, 0, tzinfo=UTC),
        approved_by="editor",
        approved_at=datetime(2024, 12, 14, 12, 0, tzinfo=UTC),
        links=links,
    )


def make_evidence(images: list[ImageFacts], *, hostile: bool = False,
                  caption: str | None = None) -> Evidence:  # fmt: skip
    """Two An-124 boxes on the first image (and one more on each further image), one claim
    they support; with `hostile`, every user-written text holds markup and a backtick."""
    text = HOSTILE if hostile else ""
    evidence_images = tuple(evidence_image(facts) for facts in images)
    claim = EvidenceClaim(
        id=7,
        exact=f"two Antonov AN-124 aircraft{text} at the Hmeimim base",
        prefix="Satellite images captured ",
        suffix=", with the noses",
    )
    supports = (EvidenceLink(stance="supports", claim_id=7, note=f"noses open{text}"),)
    first = evidence_images[0]
    annotations = [
        annotation(
            "a1",
            first,
            utm_box(300, 300, 69.0, 73.3),
            links=supports,
            label_name=f"Antonov An-124 Ruslan{text}",
        ),
        annotation("a2", first, utm_box(520, 330, 69.0, 73.3), links=supports),
    ]
    for index, image in enumerate(evidence_images[1:], start=3):
        context = (EvidenceLink(stance="context", claim_id=None, note="earlier capture"),)
        annotations.append(annotation(f"a{index}", image, utm_box(300, 300, 69.0, 73.3),
                                      links=context))  # fmt: skip
    return Evidence(
        report=EvidenceReport(
            id=1,
            title=f"The situation of the Russian forces in Syria{text}",
            url="https://example.org/news/russian-forces-syria",
            outlet="Example Outlet",
            authors=("A. Reporter",),
            published_at=PUBLISHED,
            language="en",
            summary=None,
        ),
        claims=(claim,),
        annotations=tuple(annotations),
        images=evidence_images,
        published_at=PUBLISHED,
        published_by="editor",
        site_name="Hmeimim",
        caption=caption if caption is not None else (f"Two An-124s{text}" if hostile else None),
    )
