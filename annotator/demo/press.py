"""The demo's press picture (issue 14): a made-up "article picture" of the Hmeimim scene,
placed by control points, its two An-124s measured on it and (by the loader) linked to the
seed report's claim, so the demo shows article picture -> placed -> measured -> linked ->
published.

The picture is cut from the synthetic 2024-12-13 capture: a crop around the two An-124s,
turned by `TURN_DEG` and shown at `METRES_PER_PIXEL`, JPEG-encoded, with a caption band
carrying the credit line and a watermark; it says SYNTHETIC in its pixels, its EXIF
description and its catalogue record, like the other demo rasters. Because the crop, turn
and scale are known, so is every pixel's ground position: the control points are picked
off that truth, each nudged by less than a pixel as a hand would (a fixed seed), and placed
through the same code as `annotator images georeference` (place_press), so the RMSE is
small and stated. The An-124s are annotated where they are in the picture, carried to the
ground by the placement (GDAL's transformer of the fit), as an analyst's boxes on the
placed capture would be: they measure about 73 x 69 m, give or take the placement's error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from flask import Flask
from PIL import Image, ImageDraw, ImageFont
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window, from_bounds
from sqlalchemy import func, select

from annotations import annotation as store
from annotations.annotation import Actor, Annotation, AnnotationInput
from annotations.catalogue.users import Role
from annotations.db import Database
from annotations.geometry import normalise
from annotations.measure import box_polygon
from annotator import services
from annotator.demo import scene
from annotator.georeference.placing import Details, place_press, versions
from imagery.ingest import sha256_file
from imagery.press.fit import ORDERS, ControlPoint
from imagery.press.gdal_gcp import forward

#: the picture's file in the demo folder (the original, kept untouched in originals/)
PRESS_NAME = "hmeimim-press-synthetic-2024-12-13.jpg"
#: the capture it is cut from
FROM_DATE = "2024-12-13"
#: the picture's size: the image, then the caption band under it
WIDTH, HEIGHT, BAND = 1000, 720, 44
#: ground metres per picture pixel (the capture's 0.5 m, shown smaller), and the turn of the
#: picture's top from north, clockwise
METRES_PER_PIXEL = 0.6
TURN_DEG = 12.0
#: the credit line as published under the picture, and the made-up article it came from
CREDIT = "Satellite image \u00a92024 Example Imaging -- SYNTHETIC, made for the demo"
SOURCE_URL = "https://news.example.org/2024/12/14/satellite-images-an-124-hmeimim-demo"
#: the capture date the caption states (a date, no time)
STATED = datetime(2024, 12, 13, tzinfo=UTC)
METHOD = "affine"
#: where the control points are picked in the picture (pixels, top-left corner origin)
PICKED = ((70, 60), (930, 80), (500, 330), (90, 660), (920, 650), (480, 690))
#: how far off a hand picks them (pixels, standard deviation), and the fixed seed
HAND_PX = 0.7
SEED = 20241214


@dataclass(frozen=True)
class Framing:
    """Where the picture lies: picture pixel (col, row) -> UTM metres of the scene."""

    to_utm: Affine
    crs: str


def framing(centre_e: float, centre_n: float) -> Framing:
    """The picture turned by TURN_DEG about its centre, which lies at (centre_e, centre_n)."""
    s, turn = METRES_PER_PIXEL, math.radians(TURN_DEG)
    a, b = s * math.cos(turn), -s * math.sin(turn)
    d, e = -s * math.sin(turn), -s * math.cos(turn)
    half_w, half_h = WIDTH / 2, HEIGHT / 2
    c = centre_e - a * half_w - b * half_h
    f = centre_n - d * half_w - e * half_h
    return Framing(Affine(a, b, c, d, e, f), scene.UTM_CRS)


def an_124s() -> list[scene.DemoAircraft]:
    return [a for a in scene.demo_aircraft(FROM_DATE) if a.kind == "an-124"]


def _frame_for_aircraft() -> Framing:
    to_utm = Transformer.from_crs("EPSG:4326", scene.UTM_CRS, always_xy=True)
    centres = [to_utm.transform(a.lon, a.lat) for a in an_124s()]
    east = sum(c[0] for c in centres) / len(centres)
    north = sum(c[1] for c in centres) / len(centres)
    return framing(east, north)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def render(capture: Path, frame: Framing) -> Image.Image:
    """The picture: the capture's pixels under `frame` (GDAL's warp, bilinear), a watermark
    and the caption band."""
    corners = [frame.to_utm * (c, r) for c in (0, WIDTH) for r in (0, HEIGHT)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    with rasterio.open(capture) as source:
        window = from_bounds(min(xs), min(ys), max(xs), max(ys), source.transform)
        window = window.round_offsets().round_lengths()
        window = Window(window.col_off - 2, window.row_off - 2, window.width + 4, window.height + 4)
        data = source.read(window=window)
        window_transform = source.window_transform(window)
    out = np.zeros((3, HEIGHT, WIDTH), dtype=np.uint8)
    reproject(
        data,
        out,
        src_transform=window_transform,
        src_crs=frame.crs,
        dst_transform=frame.to_utm,
        dst_crs=frame.crs,
        resampling=Resampling.bilinear,
    )
    picture = Image.fromarray(np.moveaxis(out, 0, 2), mode="RGB").convert("RGBA")
    mark = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    big = _font(64)
    for row, text in ((HEIGHT // 2 - 40, "EXAMPLE IMAGING"), (HEIGHT // 2 + 30, "SYNTHETIC")):
        width = draw.textlength(text, font=big)
        draw.text(((WIDTH - width) / 2, row), text, font=big, fill=(255, 255, 255, 70))
    draw.text((12, 10), "SYNTHETIC DEMO", font=_font(22), fill=(255, 255, 255, 190))
    picture = Image.alpha_composite(picture, mark).convert("RGB")
    framed = Image.new("RGB", (WIDTH, HEIGHT + BAND), (24, 24, 24))
    framed.paste(picture, (0, 0))
    ImageDraw.Draw(framed).text((12, HEIGHT + 12), CREDIT, font=_font(19), fill=(235, 235, 235))
    return framed


def write_picture(capture: Path, target: Path) -> None:
    """The JPEG, with SYNTHETIC in its EXIF description like the demo GeoTIFFs' (only the
    kept original has it: what is served is made from the pixels alone)."""
    exif = Image.Exif()
    exif[0x010E] = scene.SYNTHETIC_NOTE  # ImageDescription
    exif[0x0131] = "annotator demo"  # Software
    exif[0x8298] = CREDIT.replace("\u00a9", "(c)")  # Copyright (EXIF text is ASCII)
    render(capture, _frame_for_aircraft()).save(target, format="JPEG", quality=85, exif=exif)


def control_points(frame: Framing) -> list[ControlPoint]:
    """PICKED with their true ground positions, each picked a little off (HAND_PX)."""
    to_lonlat = Transformer.from_crs(frame.crs, "EPSG:4326", always_xy=True)
    nudges = np.random.default_rng(SEED).normal(0.0, HAND_PX, (len(PICKED), 2))
    points = []
    for (col, row), (dc, dr) in zip(PICKED, nudges, strict=True):
        lon, lat = to_lonlat.transform(*(frame.to_utm * (col, row)))
        points.append(ControlPoint(col + float(dc), row + float(dr), float(lon), float(lat)))
    return points


def measured_box(aircraft: scene.DemoAircraft, frame: Framing, points: list[ControlPoint]) -> Any:
    """The aircraft's box as drawn on the picture, put on the ground by the placement."""
    truth = box_polygon(
        aircraft.lon, aircraft.lat, aircraft.length_m, aircraft.span_m, aircraft.heading_deg
    )
    to_utm = Transformer.from_crs("EPSG:4326", frame.crs, always_xy=True)
    back = ~frame.to_utm
    corners = [back * to_utm.transform(lon, lat) for lon, lat in truth.exterior.coords[:-1]]
    lons, lats = forward(
        [(p.col, p.row, p.lon, p.lat) for p in points],
        ORDERS[METHOD],
        np.array([c for c, _ in corners]),
        np.array([r for _, r in corners]),
    )
    return shapely.Polygon(list(zip(lons.tolist(), lats.tolist(), strict=True)))


def ensure_press_picture(app: Flask, site: str, reference: str) -> tuple[str, str]:
    """Place the demo's press picture (once) and annotate its two An-124s (approved); the
    placed capture's id and a line for the demo's output."""
    database: Database = services.database(app)
    folder = Path(app.config["DATA_DIR"]) / "demo"
    picture = folder / PRESS_NAME
    if not picture.is_file():
        write_picture(folder / f"hmeimim-synthetic-{FROM_DATE}.tif", picture)
    frame = _frame_for_aircraft()
    points = control_points(frame)
    with database.read() as session:
        placed = versions(session, sha256_file(picture))
        image_id = placed[-1].id if placed else None
    if image_id is None:
        done = place_press(
            database,
            app.config,
            picture,
            PRESS_NAME,
            points,
            METHOD,
            Details(
                source_url=SOURCE_URL,
                provider="annotator demo (synthetic)",
                licence="CC0-1.0",
                attribution=CREDIT,
                captured=STATED,
                sites=(site,),
                reference=reference,
                synthetic=True,
                note=scene.SYNTHETIC_NOTE,
            ),
            owner="analyst",
        )
        image_id = done.imported.image.id
        said = (
            f"press picture {PRESS_NAME}: placed by {len(points)} control points ({METHOD}), "
            f"RMSE {done.fit.rmse_m:.2f} m; SYNTHETIC, made for the demo"
        )
    else:
        said = f"press picture {PRESS_NAME}: present"
    made = _annotate(database, services.taxonomy(app), image_id, frame, points)
    return image_id, f"{said}; {made} An-124s annotated on it"


def _annotate(
    database: Database, labels: Any, image_id: str, frame: Framing, points: list[ControlPoint]
) -> int:
    """Both An-124s on the placed capture, made, submitted and approved like the demo's
    reference annotations; none when it already has annotations."""
    analyst, editor = Actor("analyst", Role.analyst), Actor("editor", Role.editor)
    with database.write() as session:
        if session.scalar(
            select(func.count()).select_from(Annotation).where(Annotation.image_id == image_id)
        ):
            return 0
        made = 0
        for aircraft in an_124s():
            label = "aircraft.transport.an-124"
            attributes = {
                "heading_deg": aircraft.heading_deg % 360,
                "state": "nose door open" if aircraft.nose_open else "parked",
            }
            annotation = store.create(
                session,
                AnnotationInput(
                    geometry=normalise(measured_box(aircraft, frame, points)),
                    label=label,
                    image_id=image_id,
                    shape="rotated-box",
                    confidence="confirmed",
                    count=1,
                    attributes=labels.validate_attributes(label, attributes),
                    notes="measured on the placed press picture; nose visor raised, ramp down",
                ),
                analyst,
                comment="demo annotation on the press picture",
            )
            store.set_status(session, annotation, "in_review", analyst, annotation.version)
            store.set_status(
                session,
                annotation,
                "approved",
                editor,
                annotation.version,
                comment="matches the reference size, within the placement's error",
            )
            made += 1
    return made
