"""The figure's own words (caption, credits, scale bar, north arrow) in the report's language.

One small table, kept here in one place until the interface's gettext catalogues can hold it:
English, and Arabic for the newsrooms that cover Syria in Arabic. A report in any other language
gets English. Dates and numbers stay in Latin digits, as coordinates and measures do.
"""

from __future__ import annotations

from collections.abc import Mapping

from imagery.figure import FigureWords

WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "metre": "m",
        "kilometre": "km",
        "north": "N",
        "count": "{count} x {name}",
        "merged": "{name} ({count} merged)",
        "list": ", ",
        "at": " at {site}",
        "on": " on {date}",
        "evidence_for": ". Evidence for \u201c{title}\u201d.",
        "captured": "Captured {date}",
        "date_unknown": "capture date unknown",
        "image": "Image: {provider}",
        "provider_unknown": "Provider unknown",
        "licence": "Licence: {licence}",
        "licence_unknown": "Licence unknown",
        "coarsened": "Positions coarsened: {how}.",
        "synthetic": "Synthetic demo imagery: not a real capture.",
        "placed": "Placed by {count} control points, RMSE {rmse} m",
    },
    "ar": {
        "metre": "م",
        "kilometre": "كم",
        "north": "ش",
        "count": "{count} \u00d7 {name}",
        "merged": "{name} ({count} مدمجة)",
        "list": "، ",
        "at": " في {site}",
        "on": " بتاريخ {date}",
        "evidence_for": ". دليل على «{title}».",
        "captured": "التُقطت {date}",
        "date_unknown": "تاريخ الالتقاط غير معروف",
        "image": "الصورة: {provider}",
        "provider_unknown": "المزوّد غير معروف",
        "licence": "الترخيص: {licence}",
        "licence_unknown": "الترخيص غير معروف",
        "coarsened": "المواقع مقرّبة: {how}.",
        "synthetic": "صور اصطناعية للعرض: ليست التقاطًا حقيقيًا.",
        "placed": "نقاط التحكم: {count}، خطأ التموضع (RMSE): {rmse} م",
    },
}


RIGHT_TO_LEFT = frozenset({"ar"})
FSI, PDI = "\u2068", "\u2069"  # first strong isolate, pop directional isolate


def figure_language(language: str | None) -> str:
    """'ar' for a report in Arabic ('ar', 'ar-SY', ...), else 'en'."""
    primary = (language or "en").replace("_", "-").split("-")[0].lower()
    return primary if primary in WORDS else "en"


def right_to_left(language: str) -> bool:
    return figure_language(language) in RIGHT_TO_LEFT


def word(language: str, key: str, **values: object) -> str:
    """The phrase with its values; in a right-to-left language each value is a bidi isolate
    (FSI ... PDI), so a date, a time or a Latin name keeps its own order inside the sentence
    (without it '2024-12-13' after Arabic letters reads as 13-12-2024)."""
    language = figure_language(language)
    if language in RIGHT_TO_LEFT:
        values = {name: f"{FSI}{value}{PDI}" for name, value in values.items()}
    return WORDS[language][key].format(**values)


def scale_words(language: str | None) -> FigureWords:
    table = WORDS[figure_language(language)]
    return FigureWords(metre=table["metre"], kilometre=table["kilometre"], north=table["north"])
