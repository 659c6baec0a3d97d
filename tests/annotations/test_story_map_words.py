"""The story map in the report's language (issue 16): a report in Arabic gets its legend,
popups' field names, stances, layer names, credits and Leaflet's own words in Arabic, read
right to left; a report in English keeps the English words (and carries no words table)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from annotations.newsroom.evidence import Evidence
from annotations.newsroom.figure_words import WORDS
from annotations.newsroom.story_map import CONTROL_WORDS, popup_html, story_map_html
from tests.annotations.test_story_map import Page, story_data
from tests.story import make_evidence, two_captures

#: what the test evidence's people wrote or named (user text, shown in its own language)
DATA = (
    "Antonov An-124 Ruslan",
    "two Antonov AN-124 aircraft at the Hmeimim base",
    "The situation of the Russian forces in Syria",
    "noses open",
    "earlier capture",
    "Demo Provider, 2024",
    "Demo Provider",
    "CC BY 4.0",
    "editor",
)
#: names kept in Latin letters: the time zone, the error measure, a script language's name
KEPT = {"UTC", "RMSE", "JavaScript"}


def english(text: str) -> list[str]:
    for value in DATA:
        text = text.replace(value, " ")
    return sorted(set(re.findall(r"[A-Za-z]{2,}", text)) - KEPT)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    made = make_evidence(two_captures(tmp_path_factory.mktemp("map-words")))
    placed = dataclasses.replace(
        made.images[0],
        georeferencing="placed by 6 control points, RMSE 3.2 m",
        placement_error_m=3.2,
        placement_points=6,
    )
    return dataclasses.replace(
        made,
        report=dataclasses.replace(made.report, language="ar"),
        images=(placed, *made.images[1:]),
    )


def text_of(html: str) -> str:
    page = Page()
    page.feed(html)
    return " ".join("".join(page.text).split())


def test_an_arabic_reports_map_has_no_english_interface_word(evidence: Evidence) -> None:
    html = story_map_html(evidence)
    data = story_data(html)
    panel = html[html.index('<div class="story-panel"') : html.index('<script type="application')]
    assert panel.startswith('<div class="story-panel" dir="rtl" lang="ar">')
    assert english(text_of(panel)) == []
    assert "المفتاح والإسناد" in panel and "نشر" in panel
    popups = [a["popup"] for capture in data["captures"] for a in capture["annotations"]]
    for popup in popups:
        assert popup.startswith('<div class="evidence-popup" dir="rtl" lang="ar">')
        assert english(text_of(popup)) == [], popup
    joined = " ".join(text_of(popup) for popup in popups)
    assert "درجة الثقة: \u2068مؤكَّد\u2069" in joined and "يدعم «" in joined
    assert "التقرير ككل" in joined  # the later capture's link to the report as a whole
    assert "نقاط التحكم: \u20686\u2069، خطأ التموضع (RMSE): \u20683.2\u2069 م" in joined
    for capture in data["captures"]:
        names = [capture["name"], capture["image"]["name"], capture["image"]["alt"]]
        names.append(capture["image"]["attribution"])
        assert all(english(text_of(name)) == [] for name in names), names
    # Leaflet's own words (zoom, layers, the popup's close button, the scale's units)
    assert data["rtl"] is True
    assert data["words"] == {key: WORDS["ar"][key] for key in CONTROL_WORDS}
    assert all(english(value) == [] for value in data["words"].values())


def test_an_english_reports_map_keeps_its_words(evidence: Evidence) -> None:
    english_report = dataclasses.replace(
        evidence, report=dataclasses.replace(evidence.report, language="en")
    )
    data = story_data(story_map_html(english_report))
    assert "words" not in data and "rtl" not in data
    popup = popup_html(english_report, english_report.annotations[0])
    assert popup.startswith('<div class="evidence-popup"><strong dir="auto">')
    assert "Confidence: confirmed" in popup and "Placed by 6 control points, RMSE 3.2 m" in popup


def test_every_word_has_its_arabic() -> None:
    assert set(WORDS["ar"]) == set(WORDS["en"])
    assert all(WORDS["ar"][key] for key in WORDS["en"])
