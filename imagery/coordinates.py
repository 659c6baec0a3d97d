"""Coordinates typed by people: decimal degrees, degrees-minutes-seconds and MGRS, both ways.

`parse` reads what an analyst types into "Go to" and answers WGS 84 latitude and longitude,
or raises `CoordinateError` whose text says in one line what is wrong. `formats` writes one
point in all three notations. MGRS goes through the `mgrs` package (GeoTrans); degrees are
read here, since their spellings are many and none needs a library:

    35.4011, 35.9483            (latitude first, as maps and people say it)
    -33.92 18.42                (a sign for south and west)
    35.4011N 35.9483E           (hemisphere letters, before or after; then any order)
    35°24'04"N 35°56'54"E       (also primes, curly quotes, º and a d for the symbols)
    35 24 04 N, 35 56 54 E      (spaces for the symbols)
    N35°24.07' E35°56.9'        (degrees and decimal minutes)
    36S YE 67759 21519          (MGRS, any spacing, 1 to 5 digit pairs; also UPS near a pole)
"""

from __future__ import annotations

import dataclasses
import math
import re

import mgrs

MGRS_PATTERN = re.compile(r"(\d{1,2}[C-HJ-NP-X]|[ABYZ])[A-HJ-NP-Z][A-HJ-NP-Z](\d\d){0,5}")
HELP = (
    "give decimal degrees (35.4011, 35.9483), DMS (35°24'04\"N 35°56'54\"E) "
    "or MGRS (36S YE 67759 21519)"
)
SYMBOLS = {  # written as escapes: several look alike
    "\u00ba": "°",  # masculine ordinal, typed for a degree sign
    "\u02da": "°",  # ring above
    "\u2032": "'",  # prime
    "\u2019": "'",  # right single quotation mark
    "\u2018": "'",  # left single quotation mark
    "\u00b4": "'",  # acute accent
    "`": "'",
    "\u2033": '"',  # double prime
    "\u201c": '"',
    "\u201d": '"',
    "''": '"',
}
UNITS = {"°": 0, "D": 0, "'": 1, '"': 2}
DEGREE_UNITS = {("unit", "°"), ("unit", "D")}
TOKEN = re.compile(r"\s*(?:([NSEW])|([+-])|(\d+(?:\.\d+)?|\.\d+)|([°D'\"])|(\S))")
MAX_LENGTH = 100


class CoordinateError(ValueError):
    """What is wrong with a coordinate as typed, in one line."""


@dataclasses.dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclasses.dataclass
class _Part:
    """One half of a pair as read: its hemisphere letter, sign and degrees/minutes/seconds."""

    text: str
    letter: str | None = None
    negative: bool = False
    numbers: list[tuple[str, int | None]] = dataclasses.field(default_factory=list)


def _normalise(text: str) -> str:
    text = text.strip().upper()
    for symbol, plain in SYMBOLS.items():
        text = text.replace(symbol, plain)
    return text.replace("DEG", "D")


def parse(text: str) -> Point:
    """The point `text` names; `CoordinateError` with one line saying what is wrong."""
    if not text or not text.strip():
        raise CoordinateError(f"nothing typed: {HELP}")
    if len(text) > MAX_LENGTH:
        raise CoordinateError(f"too long for a coordinate ({len(text)} characters): {HELP}")
    plain = _normalise(text)
    squeezed = re.sub(r"\s+", "", plain)
    if MGRS_PATTERN.fullmatch(squeezed):
        return _from_mgrs(squeezed, text.strip())
    if re.fullmatch(r"\d{1,2}[A-Z]{3}\d*", squeezed):
        raise CoordinateError(
            f"{text.strip()!r} is not an MGRS reference: zone and band (36S), the 100 km "
            "square (YE), then an even number of digits, up to 10 (67759 21519)"
        )
    first, second = _split(plain, text.strip())
    return _pair(_read(first), _read(second))


def _from_mgrs(squeezed: str, shown: str) -> Point:
    try:
        lat, lon = mgrs.MGRS().toLatLon(squeezed)
    except Exception as error:  # the library raises its own MGRSError for any bad reference
        raise CoordinateError(
            f"{shown!r} is not a valid MGRS reference (no such zone, band or 100 km square)"
        ) from error
    return Point(lat=float(lat), lon=float(lon))


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in TOKEN.finditer(text):
        letter, sign, number, unit, other = match.groups()
        if letter:
            found.append(("letter", letter))
        elif sign:
            found.append(("sign", sign))
        elif number:
            found.append(("number", number))
        elif unit:
            found.append(("unit", unit))
        elif other in {",", ";", "/"}:
            found.append(("separator", other))
        else:
            raise CoordinateError(f"{other!r} has no place in a coordinate: {HELP}")
    return found


def _split(plain: str, shown: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The two halves of a pair: at a comma, else at a hemisphere letter, else by the units."""
    tokens = _tokens(plain)
    separators = [i for i, (kind, _) in enumerate(tokens) if kind == "separator"]
    if len(separators) > 1:
        raise CoordinateError(
            f"{shown!r} has {len(separators)} separators: one comma between latitude and "
            "longitude (decimals take a point, not a comma)"
        )
    if separators:
        at = separators[0]
        return tokens[:at], tokens[at + 1 :]
    letters = [i for i, (kind, _) in enumerate(tokens) if kind == "letter"]
    if letters:
        if letters[0] == 0:  # N35 E35: a letter opens each half
            if len(letters) < 2:
                raise CoordinateError(f"{shown!r} has one hemisphere letter: give both or none")
            return tokens[: letters[1]], tokens[letters[1] :]
        return tokens[: letters[0] + 1], tokens[letters[0] + 1 :]  # 35N 35E: it closes them
    numbers = [i for i, (kind, _) in enumerate(tokens) if kind == "number"]
    degrees = [i for i in numbers if i + 1 < len(tokens) and tokens[i + 1] in DEGREE_UNITS]
    if len(degrees) == 2:
        start = degrees[1]
        if start > 0 and tokens[start - 1][0] == "sign":
            start -= 1
        return tokens[:start], tokens[start:]
    if len(numbers) in (2, 4, 6) and len(numbers) == len(tokens) - _count(tokens, "sign"):
        half = numbers[len(numbers) // 2]
        if half > 0 and tokens[half - 1][0] == "sign":
            half -= 1
        return tokens[:half], tokens[half:]
    raise CoordinateError(f"cannot read {shown!r} as a latitude and a longitude: {HELP}")


def _count(tokens: list[tuple[str, str]], kind: str) -> int:
    return sum(1 for k, _ in tokens if k == kind)


def _read(tokens: list[tuple[str, str]]) -> _Part:
    text = "".join(value if kind != "number" else f" {value}" for kind, value in tokens).strip()
    part = _Part(text=text or "(nothing)")
    if not tokens:
        raise CoordinateError(f"one of the two coordinates is missing: {HELP}")
    for kind, value in tokens:
        if kind == "letter":
            if part.letter is not None:
                raise CoordinateError(f"{part.text!r} has two hemisphere letters")
            part.letter = value
        elif kind == "sign":
            if part.numbers or part.negative:
                raise CoordinateError(
                    f"a sign belongs before the degrees, not inside {part.text!r}"
                )
            part.negative = value == "-"
        elif kind == "number":
            part.numbers.append((value, None))
        elif kind == "unit":
            if not part.numbers or part.numbers[-1][1] is not None:
                raise CoordinateError(f"{value!r} follows no number in {part.text!r}")
            part.numbers[-1] = (part.numbers[-1][0], UNITS[value])
    if not part.numbers:
        raise CoordinateError(f"{part.text!r} has no number: {HELP}")
    if len(part.numbers) > 3:
        raise CoordinateError(f"{part.text!r} has more than degrees, minutes and seconds")
    if part.letter and part.negative:
        raise CoordinateError(f"{part.text!r} has both a minus sign and a hemisphere letter")
    return part


def _degrees(part: _Part) -> float:
    places = [unit if unit is not None else i for i, (_, unit) in enumerate(part.numbers)]
    if places != sorted(places) or len(set(places)) != len(places) or places[0] != 0:
        raise CoordinateError(f"{part.text!r}: degrees, then minutes, then seconds")
    total = 0.0
    for index, ((value, _), place) in enumerate(zip(part.numbers, places, strict=True)):
        if "." in value and index != len(part.numbers) - 1:
            raise CoordinateError(f"{part.text!r}: only the last of its numbers may have decimals")
        number = float(value)
        if place > 0 and number >= 60:
            name = "minutes" if place == 1 else "seconds"
            raise CoordinateError(f"{name} must be under 60, not {value} in {part.text!r}")
        total += number / 60**place
    return -total if part.negative or part.letter in {"S", "W"} else total


def _pair(first: _Part, second: _Part) -> Point:
    axes = [
        None if p.letter is None else ("lat" if p.letter in "NS" else "lon")
        for p in (first, second)
    ]
    if None in axes and axes != [None, None]:
        raise CoordinateError("give a hemisphere letter to both coordinates, or to neither")
    if axes[0] is not None and axes[0] == axes[1]:
        which = "north/south (N, S)" if axes[0] == "lat" else "east/west (E, W)"
        raise CoordinateError(f"both coordinates are {which}: one latitude and one longitude")
    lat_part, lon_part = (second, first) if axes[0] == "lon" else (first, second)
    lat, lon = _degrees(lat_part), _degrees(lon_part)
    if not -90 <= lat <= 90:
        raise CoordinateError(
            f"latitude must be between -90 and 90, not {lat:g} (latitude comes first)"
        )
    if not -180 <= lon <= 180:
        raise CoordinateError(f"longitude must be between -180 and 180, not {lon:g}")
    return Point(lat=lat, lon=lon)


def decimal(point: Point) -> str:
    return f"{point.lat:.6f}, {point.lon:.6f}"


def dms(point: Point) -> str:
    """35°24'04.0"N 35°56'54.0"E: seconds to a tenth (about 3 m)."""
    return f"{_dms(point.lat, 'NS')} {_dms(point.lon, 'EW')}"


def _dms(value: float, letters: str) -> str:
    tenths = round(abs(value) * 36000)
    degrees, rest = divmod(tenths, 36000)
    minutes, seconds = divmod(rest, 600)
    letter = letters[0] if value >= 0 else letters[1]
    return f"{degrees}°{minutes:02d}'{seconds // 10:02d}.{seconds % 10}\"{letter}"


def mgrs_reference(point: Point) -> str | None:
    """36S YE 67759 21519 (1 m), or None where MGRS has no square."""
    if not math.isfinite(point.lat) or not math.isfinite(point.lon):
        return None
    try:
        squeezed = mgrs.MGRS().toMGRS(point.lat, point.lon, MGRSPrecision=5)
    except Exception:  # the library raises its own MGRSError
        return None
    text = squeezed.decode() if isinstance(squeezed, bytes) else str(squeezed)
    match = re.fullmatch(r"(\d{0,2}[A-Z])([A-Z]{2})(\d*)", text)
    if not match:
        return text
    zone, square, digits = match.groups()
    half = len(digits) // 2
    return f"{zone} {square} {digits[:half]} {digits[half:]}".strip()


def formats(point: Point) -> dict[str, str | None]:
    """The point in every notation the workspace offers."""
    return {"decimal": decimal(point), "dms": dms(point), "mgrs": mgrs_reference(point)}
