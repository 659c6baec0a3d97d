"""A small newsroom for report tests: a real image, a site, annotations in chosen review
states, and a report with text, all made through the API as the users would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pyproj import Transformer
from shapely.geometry import mapping

from annotations.catalogue.images import Provenance
from annotations.measure import box_polygon
from annotator import services
from annotator.intake import Upload, import_images
from tests.conftest import token_for

# the middle of make_geotiff's default scene: 400 x 300 px of 0.5 m in UTM 36N, near Hmeimim
CENTRE = Transformer.from_crs("EPSG:32636", "EPSG:4326", always_xy=True).transform(
    790_100.0, 3_921_925.0
)
TEXT = (
    "Satellite images captured two Antonov AN-124 aircraft \u2026 at the Hmeimim base, with "
    "the noses of the two aircraft open in preparation for loading. Separately, a Russian "
    "convoy heading from the south of the capital towards the coast was reported."
)
CLAIM = "two Antonov AN-124 aircraft \u2026 at the Hmeimim base"
HOSTILE = "<script>alert(1)</script> `tick` <img src=x onerror=alert(1)></script>"


@dataclass
class Newsroom:
    app: Flask
    client: FlaskClient
    image_id: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, user: str) -> dict[str, str]:
        if user not in self.headers:
            self.headers[user] = {"Authorization": f"Bearer {token_for(self.app, user)}"}
        return self.headers[user]

    def call(self, method: str, path: str, user: str = "editor", **kwargs: Any) -> Any:
        headers = {**self.as_(user), **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def annotation(
        self,
        status: str = "approved",
        offset_m: float = 0.0,
        label: str = "aircraft.transport.an-124",
    ) -> dict[str, Any]:
        """An annotation by the analyst, reviewed by the editor into `status`."""
        lon = CENTRE[0] + offset_m / 90_000
        box = box_polygon(lon, CENTRE[1], length_m=30, width_m=30, heading_deg=172)
        feature = {
            "type": "Feature",
            "geometry": json.loads(json.dumps(mapping(box))),
            "properties": {
                "label": label,
                "image_id": self.image_id,
                "shape": "rotated-box",
                "confidence": "confirmed",
            },
        }
        made = self.call("POST", "/api/v1/annotations", "analyst", json=feature)
        assert made.status_code == 201, made.get_json()
        body: dict[str, Any] = made.get_json()
        steps = {
            "draft": [],
            "in_review": [("analyst", "in_review")],
            "approved": [("analyst", "in_review"), ("editor", "approved")],
            "rejected": [("analyst", "in_review"), ("editor", "rejected")],
        }[status]
        for user, target in steps:
            moved = self.call(
                "POST",
                f"/api/v1/annotations/{body['id']}/status",
                user,
                json={"status": target, "comment": "checked"},
                headers={"If-Match": f'"{body["id"]}-v{body["properties"]["version"]}"'},
            )
            assert moved.status_code == 200, moved.get_json()
            body = moved.get_json()
        return body

    def report(self, **fields: Any) -> dict[str, Any]:
        body = {
            "title": "The situation of the Russian forces in Syria",
            "text": TEXT,
            "url": "https://news.example.org/syria",
            "outlet": "Example News",
            "authors": ["A. Reporter"],
            "published_at": "2026-05-25",
            "language": "en",
            **fields,
        }
        made = self.call("POST", "/api/v1/reports", json=body)
        assert made.status_code == 201, made.get_json()
        result: dict[str, Any] = made.get_json()
        return result

    def claim(self, report_id: int, exact: str = CLAIM) -> dict[str, Any]:
        made = self.call("POST", f"/api/v1/reports/{report_id}/claims", json={"exact": exact})
        assert made.status_code == 201, made.get_json()
        result: dict[str, Any] = made.get_json()
        return result

    def link(self, user: str = "analyst", **body: Any) -> Any:
        return self.call("POST", "/api/v1/links", user, json={"stance": "supports", **body})

    def published(self, **report: Any) -> tuple[str, dict[str, Any]]:
        """A report (with `report`'s fields) whose claim has one approved annotation linked,
        published: (its API base, the publication)."""
        made = self.report(**report)
        claim = self.claim(made["id"])
        annotation = self.annotation("approved")
        assert self.link(annotation_id=annotation["id"], claim_id=claim["id"]).status_code == 201
        base = f"/api/v1/reports/{made['id']}"
        publication = self.call("POST", f"{base}/publish")
        assert publication.status_code == 201, publication.get_json()
        result: dict[str, Any] = publication.get_json()
        return base, result


def catalogued(
    app: Flask,
    path: Path,
    provenance: Provenance | None = None,
    captured: datetime | None = None,
) -> Any:
    """The GeoTIFF at `path` ingested into the app's catalogue, as an import makes it: its
    Image."""
    return import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(path, path.name)],
        provenance or Provenance(),
        captured=captured,
        max_pixels=10**9,
    )[0].image


def newsroom(
    app: Flask,
    geotiff: Path,
    captured: datetime | None = None,
    *,
    provenance: Provenance | None = None,
    site: str = "Hmeimim apron",
) -> Newsroom:
    """`geotiff` is a file from the make_geotiff fixture (its default place and size); the
    image comes with `provenance`, and the site around it is named `site`."""
    given = provenance or Provenance(provider="SpaceNet / CosmiQ Works", licence="CC BY-SA 4.0")
    image = catalogued(app, geotiff, given, captured)
    room = Newsroom(app, app.test_client(), image.id)
    made = room.call(
        "POST",
        "/api/v1/sites",
        "analyst",
        json={"name": site, "lon": CENTRE[0], "lat": CENTRE[1], "radius_m": 1000},
    )
    assert made.status_code == 201, made.get_json()
    return room
