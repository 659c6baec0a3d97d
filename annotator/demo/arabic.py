"""The seed report in Arabic, for the demo (issue 16): the same two claims, translated for the
demo and marked so, linked to the same An-124 annotations, and published, so the Arabic path
(right-to-left text, the figure's caption and credits in Arabic) can be seen at once.

Idempotent like the rest of `annotator demo`: skipped when a report of its title exists.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from annotations.annotation import Actor
from annotations.catalogue.users import Role
from annotations.db import Database
from annotations.newsroom import publishing, reports
from annotator import services
from annotator.demo.evidence import link_an_124s

#: "The situation of the Russian forces in Syria (Arabic translation made for the demo)"
ARABIC_TITLE = "وضع القوات الروسية في سوريا (ترجمة عربية للعرض التوضيحي)"
#: the seed report's two claims, in the same order
ARABIC_CLAIMS = (
    "أظهرت صور الأقمار الصناعية طائرتين من طراز أنتونوف An-124 … في قاعدة حميميم، مع فتح "
    "مقدّمتي الطائرتين استعدادًا للتحميل",
    "رتلًا عسكريًا روسيًا متجهًا من جنوب العاصمة نحو الساحل",
)
ARABIC_TEXT = f"[…] {ARABIC_CLAIMS[0]}. […]\n\n[…] وشوهد {ARABIC_CLAIMS[1]} […]"
#: "A translation made for the annotator demo, not the outlet's text: only the two passages
#: the claims quote."
ARABIC_SUMMARY = (
    "ترجمة أُعدّت للعرض التوضيحي لبرنامج annotator، وليست نص الجهة الناشرة: "
    "المقطعان اللذان تقتبسهما الادعاءات فقط."
)
NOTE_OPEN = "مقدّمة الطائرة مرفوعة والمنحدر منزل"  # nose visor raised, ramp down
NOTE_CLOSED = "متوقفة، والمقدّمة مغلقة"  # parked, nose closed


def ensure_arabic_report(app: Flask, image_ids: list[str]) -> str:
    """The Arabic translation of the seed report, its claims linked to the demo's approved
    An-124s (supports when the nose is open, context otherwise), published."""
    database: Database = services.database(app)
    editor = Actor("editor", Role.editor)
    analyst = Actor("analyst", Role.analyst)
    with database.write() as session:
        if session.scalar(select(reports.Report.id).where(reports.Report.title == ARABIC_TITLE)):
            return "seed report in Arabic: present"
        report = reports.create_report(
            session,
            reports.parse_report(
                {
                    "title": ARABIC_TITLE,
                    "published_at": "2026-05-25",
                    "language": "ar",
                    "text": ARABIC_TEXT,
                    "summary": ARABIC_SUMMARY,
                }
            ),
            editor,
        )
        claims = [
            reports.create_claim(session, report, quote, "", "", editor) for quote in ARABIC_CLAIMS
        ]
        an_124s = link_an_124s(
            session, image_ids, report.id, claims[0].id, (NOTE_OPEN, NOTE_CLOSED), analyst
        )
        if not an_124s:
            return "seed report in Arabic: 2 claims, not published: no approved An-124s"
        images = Path(app.config["IMAGES_DIR"])
        publishing.publish(session, report, editor, images, services.taxonomy(app))
    return f"seed report in Arabic: 2 claims, {len(an_124s)} links, published"
