"""A small world to export: one real GeoTIFF and annotations of every geometry type, with
Arabic, Cyrillic and markup-like text, in several review states, one deleted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from flask import Flask
from shapely.geometry import mapping

from annotations import annotation as store
from annotations.annotation import Actor
from annotations.catalogue.geo import geodesic_circle
from annotations.catalogue.images import Provenance
from annotations.catalogue.sites import add_site
from annotations.catalogue.users import Role
from annotations.feature import parse_feature
from annotations.measure import box_polygon
from annotator import services
from annotator.intake import Upload, import_images

ANALYST = Actor("analyst", Role.analyst)
EDITOR = Actor("editor", Role.editor)
CAPTURED = datetime(2024, 12, 13, 8, 21, tzinfo=UTC)
ARABIC = "طائرتا نقل على المدرج، الأنف مفتوح"
CYRILLIC = "Колонна из 40 машин «на юг»"
MARKUP = '<b>bold</b> & "quoted" </description><script>alert(1)</script>'
PROVIDER = "وكالة الصور الفضائية"
ATTRIBUTION = "Снимок: демонстрация"


@dataclass
class World:
    app: Flask
    image_id: str
    ids: dict[str, str]  # name -> annotation id
    centre: tuple[float, float]


def build_world(app: Flask, make_geotiff: Callable[..., Path]) -> World:
    database = services.database(app)
    labels = services.taxonomy(app)
    path = make_geotiff("hmeimim.tif")
    [imported] = import_images(
        database, app.config["IMAGES_DIR"], [Upload(path, path.name)],
        Provenance(provider=PROVIDER, licence="CC-BY-4.0", attribution=ATTRIBUTION),
        captured=CAPTURED, max_pixels=10**9,
    )  # fmt: skip
    image = imported.image
    lon, lat = image.footprint.centroid.x, image.footprint.centroid.y
    with database.write() as session:
        add_site(session, "Hmeimim air base", geodesic_circle(lon, lat, 3000), slug="hmeimim")

    def feature(geometry: Any, label: str, **properties: Any) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": mapping(geometry),
            "properties": {"label": label, "image_id": image.id, **properties},
        }

    d = 0.00025  # the image is 200 m x 150 m
    features = {
        "an124": feature(
            box_polygon(lon, lat, 68.96, 73.3, 172), "aircraft.transport.an-124",
            shape="rotated-box", confidence="confirmed", notes=ARABIC,
            attributes={"state": "nose door open", "registration": "RA-82041 «Руслан»",
                        "heading_deg": 172.5},
        ),
        "truck": feature(shapely.Point(lon + 3.5 * d, lat), "vehicle.truck", notes=MARKUP, count=3),
        "convoy": feature(
            shapely.LineString([(lon - d, lat - d), (lon, lat - 2 * d), (lon + d, lat - d)]),
            "vehicle.convoy", notes=CYRILLIC, count=40,
            attributes={"state": "moving", "length_km": 0.12},
        ),
        "hangar": feature(
            shapely.Polygon(
                [(lon - 2 * d, lat + d), (lon - d, lat + d), (lon - d, lat + 2 * d),
                 (lon - 2 * d, lat + 2 * d)],
                [[(lon - 1.7 * d, lat + 1.3 * d), (lon - 1.3 * d, lat + 1.3 * d),
                  (lon - 1.3 * d, lat + 1.7 * d)]],
            ),
            "structure.hangar", notes="line one\nline two, tab\there", shape="polygon",
            attributes={"occupied": True},
        ),
        "tanks": feature(
            shapely.MultiPoint([(lon + 2 * d, lat + 2 * d), (lon + 2.1 * d, lat + 2 * d)]),
            "vehicle.tank", count=2, confidence="possible",
        ),
        "tents": feature(
            shapely.MultiPolygon([
                shapely.box(lon + d, lat + d, lon + 1.2 * d, lat + 1.2 * d),
                shapely.box(lon + 1.5 * d, lat + d, lon + 1.7 * d, lat + 1.2 * d),
            ]),
            "structure.tent", shape="polygon", count=2,
        ),
        "deleted": feature(shapely.Point(lon - 2 * d, lat - 2 * d), "vehicle.truck"),
    }  # fmt: skip
    ids: dict[str, str] = {}
    with database.write() as session:
        for name, data in features.items():
            made = store.create(session, parse_feature(data, labels), ANALYST)
            ids[name] = made.id
        an124 = store.get(session, ids["an124"])
        store.set_status(session, an124, "in_review", ANALYST, an124.version)
        store.set_status(session, an124, "approved", EDITOR, an124.version)
        convoy = store.get(session, ids["convoy"])
        store.set_status(session, convoy, "in_review", ANALYST, convoy.version)
        gone = store.get(session, ids["deleted"])
        store.delete(session, gone, ANALYST, gone.version)
    return World(app=app, image_id=image.id, ids=ids, centre=(lon, lat))
