"""A form's refusal in the reader's language: the report, event, site and key forms show the
message of the domain's check (annotations/ writes it in English, for the API and the CLI).
The messages those forms meet most are said again here in the page's language; any other is
shown after a lead-in, as the server wrote it, in its own left-to-right <bdi lang="en">."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext
from markupsafe import Markup, escape

from annotator.language.choice import current
from annotator.language.formats import day, number

Saying = Callable[[re.Match[str]], str]


def _field(name: str) -> str:
    """A form field's name as its label says it."""
    names = {
        "title": gettext("Title"),
        "site": gettext("Site"),
        "start": gettext("From (day)"),
        "end": gettext("To (day, included)"),
        "description": gettext("Description"),
        "url": gettext("URL (http or https)"),
        "outlet": gettext("Outlet"),
        "summary": gettext("Summary"),
        "text": gettext("Text of the report, as pasted"),
        "language": gettext("Language (BCP 47, e.g. en)"),
        "published_at": gettext("Published (YYYY-MM-DD or ISO 8601)"),
        "name": gettext("Name"),
    }
    return names.get(name, name)


def _limit(match: re.Match[str]) -> str:
    return number(int(match[2].replace(",", "")))


#: (the English message, matched whole; what the reader is told)
SAID: tuple[tuple[re.Pattern[str], Saying], ...] = (
    (
        re.compile(r"'(\w+)' is required(?:: .*)?"),
        lambda m: gettext("“%(field)s” is required.", field=_field(m[1])),
    ),
    (
        re.compile(r"'(\w+)' must not be empty"),
        lambda m: gettext("“%(field)s” must not be empty.", field=_field(m[1])),
    ),
    (
        re.compile(r"'(\w+)' is longer than ([\d,]+) characters"),
        lambda m: gettext(
            "“%(field)s” is longer than %(num)s characters.", field=_field(m[1]), num=_limit(m)
        ),
    ),
    (
        re.compile(r"'published_at' must be an ISO 8601 date or time"),
        lambda m: gettext("The publication date must be a date such as 2024-12-13."),
    ),
    (
        re.compile(r"language .* is not a BCP 47 tag such as 'en' or 'ar'"),
        lambda m: gettext("The language must be a BCP 47 tag such as ar or en."),
    ),
    (
        re.compile(r"url .*|url has no host name .*"),
        lambda m: gettext("The URL must be a full web address starting with http:// or https://."),
    ),
    (
        re.compile(r"the event ends before it starts; swap 'start' and 'end'"),
        lambda m: gettext("The event ends before it starts: swap the two days."),
    ),
    (
        re.compile(r"place the site: a centre and a radius, or a drawn area"),
        lambda m: gettext("Place the site: a centre and a radius, or an area drawn on the map."),
    ),
    (
        re.compile(r"a site needs a name of 1 to 200 characters"),
        lambda m: gettext("A site needs a name of 1 to 200 characters."),
    ),
    (
        re.compile(r"a site with slug '([^']*)' exists already"),
        lambda m: gettext("A site with the slug %(slug)s exists already.", slug=m[1]),
    ),
    (
        re.compile(r"Name the key in 1 to (\d+) characters: what it is for\."),
        lambda m: gettext("Name the key in 1 to %(num)s characters: what it is for.", num=m[1]),
    ),
)


def form_error(message: str) -> Markup:
    """The refusal `message` (English, from the domain) as the page's reader reads it."""
    if current() == "en":
        return escape(message)
    for pattern, saying in SAID:
        found = pattern.fullmatch(message)
        if found:
            return escape(saying(found))
    lead = escape(gettext("Not saved:"))
    return Markup('{} <bdi dir="ltr" lang="en">{}</bdi>').format(lead, message)


def problem_line(problem: dict[str, Any]) -> Markup:
    """A linked annotation that keeps a report from being published, as the report page lists
    it (publishing.problems): "The Antonov An-124 on the 2024-12-13 Hmeimim capture is a
    draft: submit and approve it." in English, the same sentence in the reader's language."""
    if current() == "en":
        name = str(problem["name"])
        return escape(f"{name[:1].upper()}{name[1:]} {problem['words']}.")
    label = Markup("<bdi>{}</bdi>").format(problem["label_name"])
    when = day(problem["day"], gettext("undated"))
    # the translations are trusted text; the names and words are escaped into them
    named: dict[str, Any] = {"label": label, "date": when}
    if problem["site"]:
        named["site"] = Markup("<bdi>{}</bdi>").format(problem["site"])
        name = escape(gettext("the %(label)s on the %(date)s %(site)s capture")) % named
    else:
        name = escape(gettext("the %(label)s on the %(date)s capture")) % named
    problems = {
        "draft": gettext("is a draft: submit and approve it"),
        "in_review": gettext("is in review: approve it"),
        "rejected": gettext("was rejected: fix it, then approve it"),
    }
    words = (
        gettext("was deleted: unlink it")
        if problem["deleted"]
        else problems.get(problem["status"], problem["status"])
    )
    return escape(gettext("%(name)s %(problem)s.")) % {"name": name, "problem": words}
