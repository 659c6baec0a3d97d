"""A small line chart of objects counted per label over time, drawn as SVG on the server.

No chart library and no script: the page's template writes the SVG from these numbers.
Time runs left to right in proportion to the capture dates; captures of unknown date
are left out of the chart (they are still listed on the page). No series hides another:
each has its own dash and marker shape, and where several have the same count on a date
their points (and lines) are spread a few pixels apart around it; the tooltip keeps the count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from annotations.timeline import Capture, Timeline

WIDTH = 640
HEIGHT = 220
MARGIN_LEFT = 44
MARGIN_RIGHT = 16
MARGIN_TOP = 14
MARGIN_BOTTOM = 40
MAX_SERIES = 8
MIN_TICK_GAP = 72  # pixels between date labels
SPREAD = 3.5  # pixels between series that share a count on a date
DASHES = ("", "7 3", "2 3", "9 3 2 3", "4 4", "12 4", "2 6", "7 3 2 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: int
    date: str


@dataclass(frozen=True)
class Series:
    label: str
    name: str
    colour: str
    points: tuple[Point, ...]
    dash: str = ""
    marker: str = "circle"

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    def marker_path(self, point: Point, size: float = 4.0) -> str:
        """The SVG path of this series' marker at a point (none for a circle)."""
        x, y = point.x, point.y
        if self.marker == "square":
            s = size * 0.85
            return f"M{x - s:.1f},{y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}Z"
        if self.marker == "triangle":
            return f"M{x:.1f},{y - size * 1.1:.1f}L{x + size:.1f},{y + size * 0.8:.1f}" + (
                f"L{x - size:.1f},{y + size * 0.8:.1f}Z"
            )
        if self.marker == "diamond":
            s = size * 1.15
            return (
                f"M{x:.1f},{y - s:.1f}L{x + s:.1f},{y:.1f}L{x:.1f},{y + s:.1f}L{x - s:.1f},{y:.1f}Z"
            )
        return ""  # a circle: the template draws a <circle>

    @property
    def legend_marker(self) -> str:
        """The marker in the legend's 28 x 12 sample."""
        return self.marker_path(Point(14, 6, 0, ""), 3.5)


@dataclass(frozen=True)
class Tick:
    at: float
    text: str
    anchor: str = "middle"  # SVG text-anchor: the outermost dates stay inside the chart


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    left_out: int  # labels not drawn (beyond MAX_SERIES)


def _nice_step(top: int) -> int:
    """1, 2 or 5 times a power of ten, giving about four gridlines."""
    raw = max(1.0, top / 4)
    power = 10 ** math.floor(math.log10(raw))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def timeline_chart(timeline: Timeline, names: dict[str, str], colours: dict[str, str]) -> Chart:
    dated = [c for c in timeline.captures if c.image.captured_at is not None]
    labels = timeline.labels
    drawn = labels[:MAX_SERIES]
    right, bottom = WIDTH - MARGIN_RIGHT, HEIGHT - MARGIN_BOTTOM
    if not dated:
        return Chart(WIDTH, HEIGHT, MARGIN_LEFT, right, MARGIN_TOP, bottom, (), (), (), 0)
    stamps = [c.image.captured_at.timestamp() for c in dated if c.image.captured_at]
    first, last = min(stamps), max(stamps)
    span = last - first

    def x_of(stamp: float) -> float:
        if span == 0:
            return (MARGIN_LEFT + right) / 2
        return MARGIN_LEFT + (stamp - first) / span * (right - MARGIN_LEFT)

    counts = [{count.label: count.objects for count in c.counts} for c in dated]
    peak = max([value for row in counts for value in row.values()] or [0])
    step = _nice_step(peak)
    top_value = max(step, math.ceil(peak / step) * step)

    def y_of(value: int) -> float:
        return bottom - value / top_value * (bottom - MARGIN_TOP)

    series = tuple(
        Series(
            label=label,
            name=names.get(label, label),
            colour=colours.get(label, "#555555"),
            points=tuple(
                Point(
                    x_of(stamp),
                    y_of(row.get(label, 0)) + _spread(label, row, drawn),
                    row.get(label, 0),
                    _day(capture),
                )
                for stamp, row, capture in zip(stamps, counts, dated, strict=True)
            ),
            dash=DASHES[index % len(DASHES)],
            marker=MARKERS[index % len(MARKERS)],
        )
        for index, label in enumerate(drawn)
    )
    y_ticks = tuple(Tick(y_of(v), str(v)) for v in range(0, top_value + 1, step))
    days: dict[str, float] = {}
    for stamp, capture in zip(stamps, dated, strict=True):
        days.setdefault(_day(capture), x_of(stamp))
    x_ticks: list[Tick] = []
    for day, x in days.items():  # in date order; a label only where it has room
        if not x_ticks or x - x_ticks[-1].at >= MIN_TICK_GAP:
            x_ticks.append(Tick(x, day, _anchor(x, right)))
    return Chart(
        WIDTH,
        HEIGHT,
        MARGIN_LEFT,
        right,
        MARGIN_TOP,
        bottom,
        series,
        y_ticks,
        tuple(x_ticks),
        len(labels) - len(drawn),
    )


def _spread(label: str, row: dict[str, int], drawn: list[str]) -> float:
    """Pixels to move this series' point on a date so that series sharing its count there
    sit side by side around it instead of on top of one another."""
    value = row.get(label, 0)
    sharing = [other for other in drawn if row.get(other, 0) == value]
    if len(sharing) < 2:
        return 0.0
    return (sharing.index(label) - (len(sharing) - 1) / 2) * SPREAD


def _anchor(x: float, right: float) -> str:
    if x - MARGIN_LEFT < MIN_TICK_GAP / 2:
        return "start"
    if right - x < MIN_TICK_GAP / 2:
        return "end"
    return "middle"


def _day(capture: Capture) -> str:
    captured = capture.image.captured_at
    return captured.date().isoformat() if captured else ""
