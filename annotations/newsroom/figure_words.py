"""The story outputs' own words in the report's language: the figure's (caption, credits, scale
bar, north arrow) and the story map's (legend, popups, layer names, Leaflet's controls).

One small table, so that the figure and the map credit a capture in the same words: English,
and Arabic for the newsrooms that cover Syria in Arabic (its terms as docs/glossary-ar.md has
them). A report in any other language gets English. Dates and numbers stay in Latin digits, as
coordinates and measures do. The table lives here, not in the interface's gettext catalogues,
because a story output follows the report's language, not the reader's, and is made with no app.
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
        # the story map's words
        "confidence": "Confidence: {confidence}",
        "confirmed": "confirmed",
        "probable": "probable",
        "possible": "possible",
        "captured_at": "Captured: {date}",
        "supports": "Supports",
        "contradicts": "Contradicts",
        "context": "Context for",
        "whole_report": "the report as a whole",
        "legend": "Legend and credits",
        "annotations_on": "Annotations on {date}",
        "image_on": "Image {date}",
        "synthetic_alt": "{name} (synthetic demo imagery)",
        "left_off": "The imagery is left off this map so that it cannot show exact positions.",
        "merged_one": "1 annotation marked the same object as another on the same capture: "
        "each object is drawn and counted once.",
        "merged_many": "{count} annotations marked the same object as another on the same "
        "capture: each object is drawn and counted once.",
        "published": "Evidence published {date} by {name}.",
        "placed_by": "Placed by {how}",
        "zoom_in": "Zoom in",
        "zoom_out": "Zoom out",
        "layers": "Layers",
        "close": "Close popup",
        "leaflet": "A JavaScript library for interactive maps",
        "foot": "ft",
        "mile": "mi",
        "quote_open": "\u201c",
        "quote_close": "\u201d",
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
        "confidence": "درجة الثقة: {confidence}",
        "confirmed": "مؤكَّد",
        "probable": "مرجَّح",
        "possible": "محتمَل",
        "captured_at": "تاريخ الالتقاط: {date}",
        "supports": "يدعم",
        "contradicts": "يناقض",
        "context": "يضع في سياق",
        "whole_report": "التقرير ككل",
        "legend": "المفتاح والإسناد",
        "annotations_on": "التعليقات التوضيحية بتاريخ {date}",
        "image_on": "صورة بتاريخ {date}",
        "synthetic_alt": "{name} (صور اصطناعية للعرض)",
        "left_off": "حُذفت الصور من هذه الخريطة كي لا تكشف المواقع الدقيقة.",
        "merged_one": "تعليق توضيحي واحد عُلِّم على أنه الجسم نفسه الذي يمثّله تعليق آخر على "
        "اللقطة نفسها: يُرسم كل جسم ويُحسب مرة واحدة.",
        "merged_many": "عُلِّمت {count} من التعليقات التوضيحية على أنها الجسم نفسه الذي يمثّله "
        "تعليق آخر على اللقطة نفسها: يُرسم كل جسم ويُحسب مرة واحدة.",
        "published": "نشر {name} الأدلة بتاريخ {date}.",
        "placed_by": "التموضع: {how}",
        "zoom_in": "تكبير",
        "zoom_out": "تصغير",
        "layers": "الطبقات",
        "close": "إغلاق النافذة المنبثقة",
        "leaflet": "مكتبة JavaScript للخرائط التفاعلية",
        "foot": "قدم",
        "mile": "ميل",
        "quote_open": "«",
        "quote_close": "»",
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
