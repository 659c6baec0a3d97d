"""User text carries its own direction in the outputs made without a browser: KML balloons
(Google Earth renders them as HTML) and the story map's popups and panel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from annotations.exchange.kml import balloon_html
from annotations.newsroom.evidence import EvidenceLink
from annotations.newsroom.story_map import popup_html, story_map_csp, story_map_html
from tests.story import make_evidence, two_captures

NOTE = "الأنف مفتوح (صورة 13 ديسمبر)"


def test_a_kml_balloon_takes_its_direction_from_its_text() -> None:
    assert balloon_html("Hangar\ncount 1") == '<div dir="auto">Hangar<br>count 1</div>'
    mixed = balloon_html(f"Hangar\ncount 1\n{NOTE}\n<b>x</b>")
    assert mixed == (
        '<div dir="auto">Hangar<br>count 1</div>'
        f'<div dir="auto">{NOTE}</div>'
        '<div dir="auto">&lt;b&gt;x&lt;/b&gt;</div>'
    ), "an Arabic line is a block of its own direction; markup stays text"


def test_story_map_popups_isolate_user_text(tmp_path: Path) -> None:
    evidence = make_evidence(two_captures(tmp_path))
    first = evidence.annotations[0]
    link = EvidenceLink(stance="supports", claim_id=evidence.claims[0].id, note=NOTE)
    evidence = dataclasses.replace(
        evidence,
        report=dataclasses.replace(evidence.report, language="ar"),
        annotations=(dataclasses.replace(first, links=(link,)), *evidence.annotations[1:]),
    )
    popup = popup_html(evidence, evidence.annotations[0])
    assert '<strong dir="auto">' in popup
    assert '<span class="evidence-quote" dir="auto" lang="ar">' in popup
    assert f'(<span dir="auto">{NOTE}</span>)' in popup, "the parentheses stay outside"
    html = story_map_html(evidence)
    assert '<div class="story-title" dir="auto">' in html
    assert "url(data:font/woff2;base64," in html and "Noto Naskh Arabic" in html
    assert "font-src data:;" in story_map_csp(html)
