"""The demo scene's data: ``layout.toml`` and ``planforms.toml``, read and checked at import.

``LAYOUT`` holds both files as frozen models. A mistake in either file stops the import
with a `LayoutError` that names each wrong value by its path (``aircraft.il-76.span``)
or says which rule a cross-reference breaks (a stand of an unknown aircraft, a parking
on a stand that does not exist, a designator without a glyph).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

HERE = Path(__file__).resolve().parent
LAYOUT_FILE = HERE / "layout.toml"
PLANFORMS_FILE = HERE / "planforms.toml"


class LayoutError(ValueError):
    """The demo scene's data files are unreadable or break a rule."""


class Material(IntEnum):
    """What a pixel of the material raster shows: an index into the colour tables."""

    GROUND = 1
    STRIP = 2
    GRAVEL = 3
    SHOULDER = 4
    RUNWAY = 5
    TAXIWAY = 6
    APRON = 7
    WHITE = 8
    YELLOW = 9
    ROOF_METAL = 10
    ROOF_RED = 11
    ROOF_CONCRETE = 12
    TANK = 13
    TREE = 14
    VEHICLE = 15
    VEHICLE_CAB = 16
    BODY = 20
    WING = 21
    NACELLE = 22
    DARK = 23
    VISOR = 24
    RAMP = 25
    CANOPY = 26
    FIGHTER_BODY = 27
    FIGHTER_WING = 28
    LABEL = 30
    LABEL_EDGE = 31
    FIELD_TRACK = 99  # dirt between farm parcels
    FIELD_BASE = 100  # parcels use FIELD_BASE + k, k < farmland.colours


def _material_name(value: Any) -> Any:
    if isinstance(value, Material):
        return value
    if not isinstance(value, str) or value.upper() not in Material.__members__:
        names = ", ".join(m.name.lower() for m in Material)
        raise ValueError(f"{value!r} is not a material; materials are {names}")
    return Material[value.upper()]


MaterialName = Annotated[Material, BeforeValidator(_material_name)]
Point = tuple[float, float]
Box = tuple[float, float, float, float]
Rgb = tuple[
    Annotated[float, Field(ge=0, le=255)],
    Annotated[float, Field(ge=0, le=255)],
    Annotated[float, Field(ge=0, le=255)],
]
Positive = Annotated[float, Field(gt=0)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ----------------------------------------------------------------------- planforms


class Wing(_Data):
    """A straight tapered surface from its root at ``root_x`` (leading edge ``root_le``)."""

    root_x: float = Field(ge=0)
    root_le: float
    root_chord: Positive
    tip_chord: Positive
    sweep: float = Field(gt=-90, lt=90)


class Tail(Wing):
    half_span: Positive


class Nacelle(_Data):
    length: Positive
    width: Positive


class Canopy(_Data):
    y: float
    radius: Positive
    width: Positive  # scale across
    length: Positive  # scale along


class Planform(_Data):
    """One aircraft type, in its body frame (y forward, x right, metres, box centre)."""

    length: Positive
    span: Positive
    half_fuselage: tuple[Point, ...] = Field(min_length=3)
    wing: Wing
    tail: Tail
    engines: tuple[Positive, ...] = ()
    nacelle: Nacelle | None = None
    canopy: Canopy | None = None
    exhausts: tuple[Box, ...] = ()
    shadow: float = Field(ge=0)
    body: MaterialName
    wing_material: MaterialName

    @model_validator(mode="after")
    def _outline(self) -> Planform:
        xs = [x for x, _ in self.half_fuselage]
        ys = [y for _, y in self.half_fuselage]
        half = self.length / 2
        if xs[0] != 0.0 or not math.isclose(ys[0], half) or not math.isclose(ys[-1], -half):
            raise ValueError(
                f"half_fuselage must run from the nose at (0, {half:g}) to the tail at "
                f"y = {-half:g} (half the length either side)"
            )
        if min(xs) < 0 or any(b >= a for a, b in itertools.pairwise(ys)):
            raise ValueError("half_fuselage must keep x >= 0 and go strictly from nose to tail")
        if bool(self.engines) != (self.nacelle is not None):
            raise ValueError("engines and nacelle go together: give both or neither")
        if any(x >= self.span / 2 for x in self.engines):
            raise ValueError(f"engines must lie under the wing, within {self.span / 2:g} m")
        return self


class Part(_Data):
    box: Box
    material: MaterialName


class Vehicle(_Data):
    parts: tuple[Part, ...] = Field(min_length=1)
    shadow_height: Positive


# -------------------------------------------------------------------------- layout


class Frame(_Data):
    reference_lon: float = Field(ge=-180, le=180)
    reference_lat: float = Field(ge=-90, le=90)
    utm_crs: str


class Grid(_Data):
    pixel_size: Positive
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    block_size: int = Field(gt=0, multiple_of=16)  # GeoTIFF tiles are multiples of 16


class Aoi(_Data):
    half_width: Positive
    half_height: Positive


class Sun(_Data):
    azimuth: float = Field(ge=0, lt=360)
    elevation: float = Field(gt=0, le=90)


class Parked(_Data):
    stand: str
    nose_open: bool = False


class Capture(_Data):
    date: str
    seed: int = Field(ge=0)
    brightness: Positive
    haze: Rgb
    parked: tuple[Parked, ...]

    @model_validator(mode="after")
    def _checked(self) -> Capture:
        try:
            date.fromisoformat(self.date)
        except ValueError:
            raise ValueError(f"date {self.date!r} is not YYYY-MM-DD") from None
        stands = [p.stand for p in self.parked]
        if len(set(stands)) != len(stands):
            raise ValueError(f"{self.date}: a stand is parked on twice")
        return self


class Runway(_Data):
    centre_w: float
    north_number: str = Field(min_length=1)  # painted at the north threshold (landing 17x)
    north_letter: str = Field(min_length=1)
    south_number: str = Field(min_length=1)
    south_letter: str = Field(min_length=1)


class Runways(_Data):
    heading: float = Field(ge=0, lt=360)
    length: Positive
    width: Positive
    offset: Positive
    lines: tuple[Runway, ...] = Field(min_length=1)


class Stand(_Data):
    """An apron stand in the runway frame: s along 352 deg, w along 82 deg, metres."""

    name: str
    s: float
    w: float
    heading: float
    kind: str


class Building(_Data):
    s0: float
    s1: float
    w0: float
    w1: float
    height: Positive
    roof: MaterialName


class Orchard(_Data):
    x: float
    y: float
    width: Positive
    depth: Positive


class Airfield(_Data):
    buildings: tuple[Building, ...]
    shelters_s: tuple[float, ...]
    tanks: tuple[Point, ...]
    orchards: tuple[Orchard, ...]


class Farmland(_Data):
    anchors: tuple[Rgb, ...] = Field(min_length=2)
    colours: int = Field(gt=0, le=256 - Material.FIELD_BASE)
    large: float = Field(ge=0)
    grain: float = Field(ge=0)


class Paint(_Data):
    colour: Rgb
    large: float = Field(ge=0)  # amplitude of the large-scale terrain variation
    grain: float = Field(ge=0)  # amplitude of the per-pixel grain
    raised: bool = False  # stands above the ground: no shadow falls on it


Glyph = tuple[tuple[Point, ...], ...]


class Layout(_Data):
    """Both data files together, with the rules that join them."""

    capture_time: str = Field(pattern=r"^\d\d:\d\d:\d\d$")
    layout_seed: int = Field(ge=0)
    frame: Frame
    grid: Grid
    aoi: Aoi
    sun: Sun
    captures: tuple[Capture, ...] = Field(min_length=1)
    runways: Runways
    glyphs: dict[str, Glyph]
    stands: tuple[Stand, ...]
    airfield: Airfield
    farmland: Farmland
    palette: dict[MaterialName, Paint]
    aircraft: dict[str, Planform] = Field(min_length=1)
    truck: Vehicle

    @model_validator(mode="after")
    def _joined(self) -> Layout:
        dates = [c.date for c in self.captures]
        if len(set(dates)) != len(dates):
            raise ValueError("captures: each date comes once")
        names = [s.name for s in self.stands]
        if len(set(names)) != len(names):
            raise ValueError("stands: each name comes once")
        for stand in self.stands:
            if stand.kind not in self.aircraft:
                raise ValueError(f"stand {stand.name}: no aircraft {stand.kind!r} in planforms")
        for capture in self.captures:
            for parked in capture.parked:
                if parked.stand not in names:
                    raise ValueError(f"{capture.date}: no stand {parked.stand!r}")
        painted_text = "".join(
            r.north_number + r.north_letter + r.south_number + r.south_letter
            for r in self.runways.lines
        )
        if no_glyph := sorted(set(painted_text) - set(self.glyphs)):
            raise ValueError(f"runway designators: no glyph for {', '.join(no_glyph)}")
        painted = set(Material) - {Material.FIELD_BASE}
        if set(self.palette) != painted:
            missing = sorted(m.name.lower() for m in painted - set(self.palette))
            extra = sorted(m.name.lower() for m in set(self.palette) - painted)
            raise ValueError(f"palette: missing {missing}, not paintable {extra}")
        return self


def load_layout(layout: Path = LAYOUT_FILE, planforms: Path = PLANFORMS_FILE) -> Layout:
    """Read and check the two data files; `LayoutError` names every problem found."""
    data: dict[str, Any] = {}
    for path in (layout, planforms):
        try:
            with path.open("rb") as file:
                table = tomllib.load(file)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise LayoutError(f"demo scene data {path.name}: {exc}") from None
        if clash := sorted(data.keys() & table.keys()):
            raise LayoutError(f"demo scene data {path.name}: {', '.join(clash)} given twice")
        data.update(table)
    try:
        return Layout.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or '(scene)'}: {e['msg']}" for e in exc.errors()
        ]
        raise LayoutError("demo scene data: " + "; ".join(problems)) from None


LAYOUT = load_layout()
