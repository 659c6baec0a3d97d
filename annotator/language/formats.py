"""Dates and numbers written in the reader's language through Babel: the templates' `moment`
and `day` filters (English keeps its one format, 2024-12-13 08:21 UTC), `number` for counts
and measures, and ANNOTATOR_ARABIC_DIGITS (latin, the default, or arabic-indic: ٠١٢٣).
Coordinates are never passed through these: they stay in Latin digits."""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app
from flask_babel import gettext

from annotations import times
from annotator.language.choice import current

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic_indic() -> bool:
    return current() == "ar" and current_app.config["ARABIC_DIGITS"] == "arabic-indic"


def digits(text: str) -> str:
    """`text` with its digits as the reader's language writes them."""
    return text.translate(ARABIC_INDIC) if arabic_indic() else text


def _when(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    return times.parse_time(value) if isinstance(value, str) else value.astimezone(UTC)


def moment(value: datetime | str | None, unknown: str | None = None) -> str:
    """A time for people: 2024-12-13 08:21 UTC, or in Arabic 13 ديسمبر 2024، 08:21 UTC."""
    language = current()
    if language == "en":
        return times.moment(value, unknown or "date unknown")
    when = _when(value)
    if when is None:
        return unknown or gettext("date unknown")
    text = format_datetime(when, "d MMMM y، HH:mm", tzinfo=UTC, locale=language)
    return digits(text) + " UTC"


def day(value: datetime | str | None, unknown: str | None = None) -> str:
    language = current()
    if language == "en":
        return times.day(value, unknown or "date unknown")
    when = _when(value)
    if when is None:
        return unknown or gettext("date unknown")
    return digits(format_datetime(when, "d MMMM y", tzinfo=UTC, locale=language))


def number(value: float | int, decimals: int | None = None) -> str:
    """A count or a measure in the reader's language: `decimals` fixed places, else as many
    as it has (up to three)."""
    pattern = "#,##0" if decimals is None else "0" if decimals == 0 else "0." + "0" * decimals
    if decimals is None and not float(value).is_integer():
        pattern = "#,##0.###"
    if not arabic_indic():
        return format_decimal(value, format=pattern, locale=current(), numbering_system="latn")
    # Babel gives the Arabic separators for "arab"; the digits themselves are ours to write
    text = format_decimal(value, format=pattern, locale=current(), numbering_system="arab")
    return text.translate(ARABIC_INDIC)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(moment=moment, day=day, number=number, digits=digits)
    app.jinja_env.globals["arabic_indic"] = arabic_indic  # base.html's annotator-digits
