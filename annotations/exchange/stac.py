"""A static STAC catalogue: the images as Items, their annotations as label Items.

    catalog.json
    <site slug>/collection.json                one Collection per site: providers, licence
    <site slug>/<image id>/<image id>.json     the image: projection + raster, the COG asset
    <site slug>/<image id>-labels/...json      its selected annotations: label extension,
                                               `source` link to the image, `labels` asset
    <site slug>/<image id>-labels/labels.geojson  (written by the GeoJSON export, streamed)

Images on no site go to the `unsited` Collection; an image on several sites is catalogued
under the first (by slug). Built with pystac and written SELF_CONTAINED (relative links).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pystac
import rasterio
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from pystac.validation import RegisteredValidator, set_validator, validate_all_dict
from pystac.validation.stac_validator import GetSchemaError, JsonSchemaSTACValidator
from shapely.geometry import box, mapping
from sqlalchemy import select

from annotations.catalogue.images import Image
from annotations.catalogue.sites import Site, SiteImage
from annotations.exchange.gdal import GEOJSON, geometries
from annotations.exchange.selection import Selection, batches
from annotations.exchange.spec import Format
from imagery.footprint import rfc7946_bbox
from imagery.georef.placement import placement_text

# pystac warns that the label extension is "pilot" and unmaintained; the issue asks for it
# (it is what STAC catalogues of training data use), so the warning is expected here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pystac.extensions.label import (
        LabelClasses,
        LabelCount,
        LabelExtension,
        LabelMethod,
        LabelOverview,
        LabelTask,
        LabelType,
    )


UNSITED = "unsited"
#: stands for each image's id in the `image_url` option (the COG URL an HTTP export links)
IMAGE_ID = "IMAGE-ID"
LABELS_FILE = "labels.geojson"
ANNOTATOR = pystac.Provider(
    name="annotator",
    roles=[pystac.ProviderRole.PROCESSOR],
    description="annotations drawn and reviewed by analysts in annotator",
)


@dataclass
class ImageLabels:
    """What one image's selected annotations add up to (counted in one streamed pass)."""

    counts: Counter[str] = field(default_factory=Counter)
    bounds: list[float] = field(default_factory=lambda: [180.0, 90.0, -180.0, -90.0])

    def add(self, label: str, bounds: tuple[float, float, float, float]) -> None:
        self.counts[label] += 1
        self.bounds = [
            min(self.bounds[0], bounds[0]),
            min(self.bounds[1], bounds[1]),
            max(self.bounds[2], bounds[2]),
            max(self.bounds[3], bounds[3]),
        ]


def _tally(selection: Selection) -> dict[str, ImageLabels]:
    import shapely

    found: dict[str, ImageLabels] = defaultdict(ImageLabels)
    for batch in batches(selection):
        extents = shapely.bounds(geometries(batch))
        for image_id, label, extent in zip(
            batch.columns["image_id"], batch.columns["label"], extents, strict=True
        ):
            found[image_id].add(label, tuple(extent))
    return dict(found)


def _when(image: Image) -> datetime:
    return image.captured_at or image.created_at


def _licence(value: str | None) -> str:
    """STAC wants an SPDX id or 'other'."""
    text = (value or "").strip()
    return text if text and " " not in text and len(text) <= 64 else "other"


def _view(acquisition: dict[str, str]) -> dict[str, Any]:
    """The vendor's capture facts: the satellite as `platform` (common metadata), the
    angles under annotator: (the names of the STAC view extension, which the items do not
    declare: its schema would have to be fetched to validate them)."""
    out: dict[str, Any] = {}
    for key, name in (
        ("off_nadir_deg", "annotator:off_nadir"),
        ("sun_azimuth_deg", "annotator:sun_azimuth"),
        ("sun_elevation_deg", "annotator:sun_elevation"),
    ):
        with contextlib.suppress(KeyError, ValueError):
            out[name] = float(acquisition[key])
    if acquisition.get("platform"):
        out["platform"] = acquisition["platform"]
    if acquisition.get("source"):
        out["annotator:metadata_source"] = acquisition["source"]
    return out


def image_item(
    image: Image, cog: Path, *, copy_to: Path | None = None, url: str | None = None
) -> pystac.Item:
    """The image as a STAC Item, its COG as the `image` asset (the stored file, its copy
    beside the item, or `url`); projection and raster facts read from the COG's header."""
    footprint = image.footprint
    item = pystac.Item(
        id=image.id,
        geometry=mapping(footprint),
        bbox=rfc7946_bbox(footprint),  # west > east across 180 degrees (RFC 7946)
        datetime=_when(image),
        properties={
            "gsd": image.gsd_m,
            "title": image.original_filename,
            "annotator:captured_source": image.captured_source,
            "annotator:synthetic": image.synthetic,
            "annotator:georeferencing": placement_text(image.georeferencing),
            **_view(image.acquisition),
        },
    )
    if image.sensor:
        item.common_metadata.instruments = [image.sensor]
    if image.provider:
        item.common_metadata.providers = [
            pystac.Provider(name=image.provider, roles=[pystac.ProviderRole.PRODUCER])
        ]
    item.common_metadata.license = _licence(image.licence)
    href = str(copy_to) if copy_to is not None else url or str(cog)
    asset = pystac.Asset(
        href=href,
        media_type=pystac.MediaType.COG,
        roles=["data"],
        title=image.attribution or image.original_filename,
    )
    item.add_asset("image", asset)
    with rasterio.open(cog) as dataset:
        projection = ProjectionExtension.ext(item, add_if_missing=True)
        epsg = dataset.crs.to_epsg() if dataset.crs else None
        if epsg:
            projection.code = f"EPSG:{epsg}"
        else:
            projection.wkt2 = dataset.crs.to_wkt() if dataset.crs else None
        projection.shape = [dataset.height, dataset.width]
        projection.transform = list(dataset.transform)[:6]
        projection.bbox = list(dataset.bounds)
        raster = RasterExtension.ext(asset, add_if_missing=True)
        raster.bands = [
            RasterBand.create(
                nodata=dataset.nodata,
                data_type=DataType(dtype),
                spatial_resolution=image.gsd_m,
            )
            for dtype in dataset.dtypes
        ]
    return item


def label_item(image: Image, source: pystac.Item, labels: ImageLabels) -> pystac.Item:
    west, south, east, north = labels.bounds
    extent = box(west, south, east, north)
    item = pystac.Item(
        id=f"{image.id}-labels",
        geometry=mapping(extent),
        bbox=list(extent.bounds),
        datetime=_when(image),
        properties={"title": f"annotations on {image.original_filename}"},
    )
    classes = sorted(labels.counts)
    label = LabelExtension.ext(item, add_if_missing=True)
    label.apply(
        label_description="objects drawn and labelled by analysts (taxonomy label ids)",
        label_type=LabelType.VECTOR,
        label_properties=["label"],
        label_classes=[LabelClasses.create(classes=classes, name="label")],
        label_tasks=[LabelTask.DETECTION],
        label_methods=[LabelMethod.MANUAL],
        label_overviews=[
            LabelOverview.create(
                property_key="label",
                counts=[LabelCount.create(name, labels.counts[name]) for name in classes],
            )
        ],
    )
    label.add_source(source, title="the image the annotations were drawn on", assets=["image"])
    return item


def write_stac(selection: Selection, fmt: Format, target: Path) -> int:
    """The catalogue in the folder `target` (made empty by the caller)."""
    tally = _tally(selection)
    copy_images = selection.options.get("images") == "copy"
    # a URL the COG can be fetched from, IMAGE_ID standing for the image's id (the HTTP API)
    image_url = selection.options.get("image_url")
    catalog = pystac.Catalog(
        id="annotator-export",
        title="annotator export",
        description="Satellite images and the annotations analysts drew on them.",
    )
    placed: list[tuple[pystac.Item, Path | None]] = []  # item, COG to copy beside it
    with selection.database.read() as session:
        images = {i.id: i for i in session.scalars(select(Image).where(Image.id.in_(tally)))}
        homes: dict[str, Site] = {}
        rows = session.execute(
            select(SiteImage.image_id, Site)
            .join(Site, Site.id == SiteImage.site_id)
            .where(SiteImage.image_id.in_(tally))
            .order_by(Site.slug)
        )
        for image_id, home in rows:
            homes.setdefault(image_id, home)
        collections: dict[str, pystac.Collection] = {}
        members: dict[str, list[Image]] = defaultdict(list)
        for image_id in sorted(tally, key=lambda i: (_when(images[i]), i)):
            found = homes.get(image_id)
            members[found.slug if found else UNSITED].append(images[image_id])
        for slug, group in members.items():
            collection = _collection(slug, homes.get(group[0].id), group)
            collections[slug] = collection
            catalog.add_child(collection)
            for image in group:
                cog = selection.images_dir / image.cog_name
                copy = Path(f"{image.id}.tif") if copy_images else None
                url = image_url.replace(IMAGE_ID, image.id) if image_url else None
                source = image_item(image, cog, copy_to=copy, url=url)
                labels = label_item(image, source, tally[image.id])
                collection.add_items([source, labels])
                placed.append((source, cog if copy_images else None))
                placed.append((labels, None))
    catalog.normalize_hrefs(f"{target}/")  # a folder, whatever its name looks like
    written = 0
    geojson = GEOJSON
    for item, original in placed:
        folder = Path(item.get_self_href() or "").parent
        folder.mkdir(parents=True, exist_ok=True)
        if original is not None:
            shutil.copyfile(original, folder / f"{item.id}.tif")
            item.assets["image"].href = f"./{item.id}.tif"
        if LabelExtension.has_extension(item):
            image_id = item.id.removesuffix("-labels")
            labels_path = folder / LABELS_FILE
            only = dataclasses.replace(selection.filters, image=image_id)
            written += geojson.writer(
                dataclasses.replace(selection, filters=only), geojson, labels_path
            )
            LabelExtension.ext(item).add_geojson_labels(f"./{LABELS_FILE}", title="annotations")
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return written


def _collection(slug: str, site: Site | None, images: list[Image]) -> pystac.Collection:
    bounds = [
        min(i.min_lon for i in images),
        min(i.min_lat for i in images),
        max(i.max_lon for i in images),
        max(i.max_lat for i in images),
    ]
    times = sorted(_when(i) for i in images)
    licences = {_licence(i.licence) for i in images}
    providers = [
        pystac.Provider(
            name=name, roles=[pystac.ProviderRole.PRODUCER, pystac.ProviderRole.LICENSOR]
        )
        for name in sorted({i.provider for i in images if i.provider})
    ]
    title = site.name if site else "Images on no site"
    return pystac.Collection(
        id=slug,
        title=title,
        description=f"Imagery of {title} and the annotations drawn on it.",
        extent=pystac.Extent(
            pystac.SpatialExtent([bounds]), pystac.TemporalExtent([[times[0], times[-1]]])
        ),
        license=licences.pop() if len(licences) == 1 else "other",
        providers=[*providers, ANNOTATOR],
    )


# ---- validation, offline -------------------------------------------------------------


class OfflineValidator(JsonSchemaSTACValidator):
    """pystac's JSON-schema validator on a local registry only, never the network.

    The STAC core schemas (item, catalog, collection and what they refer to, and GeoJSON)
    come from the copies pystac ships. Extension schemas (label, projection, raster) ship in
    no package here: they are read from `extension_schemas` (a folder of the published
    schema files, each keyed by its `$id`) when given; otherwise each extension an object
    declares is listed in `unchecked` instead of being fetched.
    """

    def __init__(self, extension_schemas: Path | None = None) -> None:
        super().__init__()
        self.unchecked: set[str] = set()
        if extension_schemas is not None:
            for path in sorted(extension_schemas.glob("*.json")):
                schema = json.loads(path.read_text(encoding="utf-8"))
                self.schema_cache[str(schema.get("$id") or schema.get("id")).rstrip("#")] = schema

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            raise GetSchemaError(schema_uri, LookupError("not in the local schema registry"))
        return self.schema_cache[schema_uri]

    def validate_extension(
        self,
        stac_dict: dict[str, Any],
        stac_object_type: Any,
        stac_version: str,
        extension_id: str,
        href: str | None = None,
    ) -> str | None:
        if extension_id not in self.schema_cache:
            self.unchecked.add(extension_id)
            return None
        return super().validate_extension(
            stac_dict, stac_object_type, stac_version, extension_id, href
        )


def validate_catalogue(root: Path, extension_schemas: Path | None = None) -> set[str]:
    """Validate every object of the catalogue at `root` (its catalog.json) offline; raises
    pystac's STACValidationError on the first invalid one. Returns the extension schemas
    that could not be checked for want of a local copy."""
    validator = OfflineValidator(extension_schemas)
    previous = RegisteredValidator._validator
    set_validator(validator)
    try:
        href = str(root / "catalog.json")
        validate_all_dict(json.loads(Path(href).read_text(encoding="utf-8")), href)
    finally:
        RegisteredValidator._validator = previous
    return validator.unchecked
