"""ISO 8601 times in, timezone-aware UTC out."""

from __future__ import annotations

from datetime import UTC, datetime

from annotations.errors import InvalidInput


def parse_time(value: str, name: str = "time") -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} {value!r} is not ISO 8601 (e.g. 2024-12-13T08:21:00Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_interval(value: str) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant or an interval 'start/end' where either side may be '..'."""
    if "/" not in value:
        instant = parse_time(value, "datetime")
        return instant, instant
    start, _, end = value.partition("/")
    return (
        None if start in ("", "..") else parse_time(start, "datetime start"),
        None if end in ("", "..") else parse_time(end, "datetime end"),
    )


def _as_time(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_time(value) if isinstance(value, str) else value.astimezone(UTC)


def day(value: datetime | str | None, unknown: str = "date unknown") -> str:
    """The one way a date is written for people: 2024-12-13 (UTC)."""
    when = _as_time(value)
    return unknown if when is None else when.strftime("%Y-%m-%d")


def moment(value: datetime | str | None, unknown: str = "date unknown") -> str:
    """The one way a time is written for people: 2024-12-13 08:21 UTC."""
    when = _as_time(value)
    return unknown if when is None else when.strftime("%Y-%m-%d %H:%M UTC")
