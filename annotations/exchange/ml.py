"""Training data for machine learning: annotations in a chip's pixel space, as COCO and YOLO.

Works on plain shapely geometries already placed in an image's pixel space (x along
columns, y down rows); cutting the chips themselves is the raster side's job. An
annotation crossing a chip's edge is clipped to the chip and flagged `truncated`, with the
share of its area left visible, as RarePlanes and the Airbus aircraft set do. Only areas
(boxes, rotated boxes, polygons) become training objects; points and lines are counted and
left out.

YOLO: a rotated box becomes an oriented box, `class x1 y1 x2 y2 x3 y3 x4 y4` (YOLO-OBB,
corners of the minimum rotated rectangle of what is visible); every other area an
axis-aligned `class cx cy w h`. All numbers are normalised by the chip's width and height.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from annotations.catalogue.geo import from_geojson_text
from annotations.catalogue.images import Image, get_image
from annotations.db import utcnow
from annotations.errors import InvalidInput
from annotations.exchange.budget import Budget
from annotations.exchange.selection import Selection, batches
from annotations.exchange.spec import Format
from annotations.labels.taxonomy import Taxonomy
from imagery.chips import ChipPlan, ChipSource, check_chip_size
from imagery.display import Display
from imagery.georef.placement import placement_text

AREA_SHAPES = ("box", "rotated-box", "polygon")
#: below this share of its area visible in a chip, an object is left out of that chip
DEFAULT_MIN_VISIBLE = 0.0
DIGITS = 6


@dataclass(frozen=True)
class PixelObject:
    """One annotation placed in its image's pixel space."""

    annotation_id: str
    label: str
    shape: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class ChipObject:
    """What of an object a chip shows, in the chip's own pixels."""

    source: PixelObject
    geometry: BaseGeometry
    truncated: bool
    visible: float


class Categories:
    """Label ids numbered for training: COCO ids from 1, YOLO classes from 0, in a stable
    (sorted) order, with the parent label as COCO's supercategory."""

    def __init__(self, labels: Iterable[str]) -> None:
        self.ids = sorted(set(labels))
        self._index = {label: i for i, label in enumerate(self.ids)}

    def coco_id(self, label: str) -> int:
        return self._index[label] + 1

    def yolo_class(self, label: str) -> int:
        return self._index[label]

    def coco(self, names: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {
                "id": i + 1,
                "name": label,
                "supercategory": label.rpartition(".")[0] or label,
                "display_name": names.get(label, label),
            }
            for i, label in enumerate(self.ids)
        ]


def is_area(obj: PixelObject) -> bool:
    return obj.shape in AREA_SHAPES and obj.geometry.geom_type in ("Polygon", "MultiPolygon")


def in_chip(
    objects: list[PixelObject],
    tree: shapely.STRtree,
    chip: BaseGeometry,
    min_visible: float = DEFAULT_MIN_VISIBLE,
) -> list[ChipObject]:
    """The objects a chip shows (the tree indexes `objects`' geometries), clipped to it
    and moved to the chip's own pixels."""
    west, north = chip.bounds[0], chip.bounds[1]
    found = []
    for index in sorted(int(i) for i in tree.query(chip, predicate="intersects")):
        obj = objects[index]
        whole = obj.geometry.area
        clipped = _areas_only(shapely.intersection(obj.geometry, chip))
        if clipped is None or clipped.area <= 0 or whole <= 0:
            continue
        visible = min(1.0, clipped.area / whole)
        if visible < min_visible:
            continue
        local = affinity.translate(clipped, -west, -north)
        found.append(ChipObject(obj, local, truncated=visible < 1 - 1e-9, visible=visible))
    return found


def _areas_only(geometry: BaseGeometry) -> BaseGeometry | None:
    """A clip can leave lines or points along an edge besides the area: keep the area."""
    if geometry.is_empty:
        return None
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", []) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if parts else None


def coco_annotation(
    item: ChipObject, annotation_id: int, chip_id: int, category_id: int
) -> dict[str, Any]:
    """One COCO object: polygon segmentation, [x, y, w, h] box, area, and our flags."""
    minx, miny, maxx, maxy = item.geometry.bounds
    polygons = list(getattr(item.geometry, "geoms", [item.geometry]))
    segmentation = [
        [round(v, 2) for xy in orient(p, sign=1.0).exterior.coords[:-1] for v in xy]
        for p in polygons
    ]
    return {
        "id": annotation_id,
        "image_id": chip_id,
        "category_id": category_id,
        "segmentation": segmentation,
        "bbox": [round(minx, 2), round(miny, 2), round(maxx - minx, 2), round(maxy - miny, 2)],
        "area": round(item.geometry.area, 2),
        "iscrowd": 0,
        "attributes": {
            "annotation_id": item.source.annotation_id,
            "shape": item.source.shape,
            "truncated": item.truncated,
            "visible_fraction": round(item.visible, 4),
        },
    }


def yolo_line(item: ChipObject, class_index: int, width: int, height: int) -> str:
    """One YOLO label line, normalised to the chip (see the module's docstring)."""

    def nx(x: float) -> str:
        return _number(min(max(x / width, 0.0), 1.0))

    def ny(y: float) -> str:
        return _number(min(max(y / height, 0.0), 1.0))

    if item.source.shape == "rotated-box":
        rectangle = shapely.minimum_rotated_rectangle(item.geometry)
        if not isinstance(rectangle, shapely.Polygon):  # a sliver: no area to orient
            rectangle = shapely.box(*item.geometry.bounds)
        corners = list(orient(rectangle, sign=-1.0).exterior.coords)[:4]
        return " ".join([str(class_index), *(f"{nx(x)} {ny(y)}" for x, y in corners)])
    minx, miny, maxx, maxy = item.geometry.bounds
    return " ".join(
        [
            str(class_index),
            nx((minx + maxx) / 2),
            ny((miny + maxy) / 2),
            nx(maxx - minx),
            ny(maxy - miny),
        ]
    )


def _number(value: float) -> str:
    return f"{value:.{DIGITS}f}".rstrip("0").rstrip(".") or "0"


# ---- writing a training set: chips, and COCO or YOLO labels ---------------------------


DEFAULT_CHIP_SIZE = 512
DEFAULT_OVERLAP = 64


@dataclass(frozen=True)
class ChipOptions:
    size: int = DEFAULT_CHIP_SIZE
    overlap: int = DEFAULT_OVERLAP
    #: also write chips that show no annotation (background examples)
    empty: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> ChipOptions:
        def whole(name: str, default: int) -> int:
            raw = options.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                raise InvalidInput(f"{name} must be a whole number of pixels") from None

        empty = str(options.get("empty_chips", "")).lower() in ("1", "true", "yes")
        chosen = cls(
            whole("chip_size", DEFAULT_CHIP_SIZE), whole("overlap", DEFAULT_OVERLAP), empty
        )
        try:
            check_chip_size(chosen.size, chosen.overlap)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        return chosen


class TrainingSet:
    """Chips written to `folder/images`, with their objects gathered for the labels."""

    def __init__(
        self, folder: Path, kind: str, options: ChipOptions, budget: Budget | None = None
    ) -> None:
        self.folder = folder
        self.kind = kind
        self.options = options
        self.budget = budget  # checked at every chip and every 1,000 label files
        (folder / "images").mkdir(parents=True, exist_ok=True)
        if kind == "yolo":
            (folder / "labels").mkdir(exist_ok=True)
        self.chips: list[dict[str, Any]] = []
        self.objects: list[tuple[int, ChipObject]] = []
        self.annotations: set[str] = set()
        self.left_out = 0

    def plan(self, width: int, height: int, objects: list[PixelObject]) -> ChipPlan:
        """The chips an image will give: every window with empty chips, else only those
        whose area meets an area object's bounds (a few may then show nothing, and are
        skipped)."""
        size, overlap = self.options.size, self.options.overlap
        if self.options.empty:
            return ChipPlan.every(width, height, size, overlap)
        boxes = [obj.geometry.bounds for obj in objects if is_area(obj)]
        return ChipPlan.touching(width, height, size, overlap, boxes)

    def add_image(
        self, image: Image, objects: list[PixelObject], source: ChipSource, plan: ChipPlan
    ) -> None:
        areas = [obj for obj in objects if is_area(obj)]
        self.left_out += len(objects) - len(areas)
        tree = shapely.STRtree([obj.geometry for obj in areas])
        for window in plan:
            shown = in_chip(areas, tree, window.box)
            if not shown and not self.options.empty:
                continue
            name = window.name(image.id)
            png = source.png(window)
            (self.folder / "images" / f"{name}.png").write_bytes(png)
            if self.budget is not None:
                self.budget.add_chip(len(png))
            chip_id = len(self.chips) + 1
            self.chips.append(
                {
                    "id": chip_id,
                    "file_name": f"images/{name}.png",
                    "width": window.width,
                    "height": window.height,
                    "date_captured": _iso(image.captured_at),
                    "annotator": {
                        "image_id": image.id,
                        "sha256": image.sha256,
                        "window": [window.column, window.row, window.width, window.height],
                        "gsd_m": image.gsd_m,
                        "georeferencing": placement_text(image.georeferencing),
                        "provider": image.provider,
                        "licence": image.licence,
                        "attribution": image.attribution,
                    },
                }
            )
            self.objects.extend((chip_id, item) for item in shown)
            self.annotations.update(item.source.annotation_id for item in shown)

    def finish(self, taxonomy: Taxonomy) -> int:
        categories = Categories(item.source.label for _, item in self.objects)
        if self.kind == "coco":
            self._write_coco(categories, taxonomy)
        else:
            self._write_yolo(categories)
        return len(self.annotations)

    def _write_coco(self, categories: Categories, taxonomy: Taxonomy) -> None:
        names = {label.id: label.name for label in taxonomy}
        document = {
            "info": {
                "description": "annotator training set: PNG chips cut from the COGs",
                "date_created": _iso(utcnow()),
                "version": "1.0",
                "chip_size": self.options.size,
                "overlap": self.options.overlap,
                "points_and_lines_left_out": self.left_out,
            },
            "licenses": sorted({c["annotator"]["licence"] or "unknown" for c in self.chips}),
            "images": self.chips,
            "annotations": [
                coco_annotation(item, number, chip_id, categories.coco_id(item.source.label))
                for number, (chip_id, item) in enumerate(self.objects, start=1)
            ],
            "categories": categories.coco(names),
        }
        (self.folder / "annotations.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    def _write_yolo(self, categories: Categories) -> None:
        lines: dict[int, list[str]] = {chip["id"]: [] for chip in self.chips}
        sizes = {chip["id"]: (chip["width"], chip["height"]) for chip in self.chips}
        for chip_id, item in self.objects:
            width, height = sizes[chip_id]
            lines[chip_id].append(
                yolo_line(item, categories.yolo_class(item.source.label), width, height)
            )
        for number, chip in enumerate(self.chips, start=1):
            if self.budget is not None and number % 1000 == 0:
                self.budget.check()
            stem = Path(chip["file_name"]).stem
            text = "".join(f"{line}\n" for line in lines[chip["id"]])
            (self.folder / "labels" / f"{stem}.txt").write_text(text, encoding="utf-8")
        names = "".join(f"  {i}: {json.dumps(label)}\n" for i, label in enumerate(categories.ids))
        (self.folder / "data.yaml").write_text(
            "# annotator training set; rotated boxes are YOLO-OBB lines (class x1 y1 .. x4 y4),\n"
            "# other areas axis-aligned (class cx cy w h); all normalised to the chip\n"
            f"# points and lines left out: {self.left_out}\n"
            f"path: .\ntrain: images\nval: images\nnames:\n{names}",
            encoding="utf-8",
        )


def write_coco(selection: Selection, fmt: Format, target: Path) -> int:
    """COCO JSON with PNG chips: a folder with `images/` and `annotations.json`."""
    return _write(selection, target, "coco")


def write_yolo(selection: Selection, fmt: Format, target: Path) -> int:
    """YOLO with PNG chips: `images/`, `labels/` (one .txt per chip) and `data.yaml`."""
    return _write(selection, target, "yolo")


def _write(selection: Selection, target: Path, kind: str) -> int:
    options = ChipOptions.from_options(selection.options)
    budget = selection.budget
    training = TrainingSet(target, kind, options, budget)
    by_image: dict[str, list[tuple[str, str, str, str]]] = {}
    for batch in batches(selection):
        columns = batch.columns
        for values in zip(
            columns["image_id"],
            columns["id"],
            columns["label"],
            columns["shape"],
            batch.geometry,
            strict=True,
        ):
            by_image.setdefault(values[0], []).append(values[1:])
    with selection.database.read() as session:
        images = {i: get_image(session, i) for i in by_image}
    # every image's objects placed and its chips counted before the first chip is cut, so
    # settings that would cut too many are refused up front, with the number
    placed: list[tuple[Image, list[PixelObject], ChipPlan]] = []
    for image_id, rows in by_image.items():
        image = images[image_id]
        with ChipSource(
            selection.images_dir / image.cog_name, Display.from_dict(image.display)
        ) as source:
            objects = [
                PixelObject(
                    annotation_id, label, shape_name, source.to_pixels(from_geojson_text(geometry))
                )
                for annotation_id, label, shape_name, geometry in rows
            ]
            placed.append((image, objects, training.plan(source.width, source.height, objects)))
    if budget is not None:
        # with empty chips the grid is the count; without, the windows an object's bounds
        # meet are the most there can be (a rotated box's corner may leave one empty)
        planned = sum(len(plan) for _, _, plan in placed)
        budget.check_chip_plan(planned, options.size, exact=options.empty)
    for image, objects, plan in placed:
        with ChipSource(
            selection.images_dir / image.cog_name, Display.from_dict(image.display)
        ) as source:
            training.add_image(image, objects, source, plan)
    return training.finish(selection.taxonomy)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
