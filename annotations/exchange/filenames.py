"""What a downloaded file is called: a name that says what was exported (the site, the label,
the report, the dates) instead of `annotations.gpkg` ten times over in a Downloads folder.

Every part of a name may be user text (a site slug from the query string, a report's title),
so each is cut to letters, digits, `.`, `_` and `-`: no quote, slash, control or bidi
character reaches the header or the user's file system. A name with non-ASCII letters (an
Arabic title) is sent as RFC 6266's `filename*` (UTF-8) with an ASCII `filename` beside it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import quote

from annotations.search import Filters

#: anything but a letter or digit (in any script), `.`, `_` and `-`
_UNSAFE = re.compile(r"[^\w.-]+")
_EDGES = "-._"
PART_CHARS = 48
NAME_CHARS = 160


def part(text: str, limit: int = PART_CHARS) -> str:
    """One piece of a file name from any text: runs of other characters become one '-'."""
    cleaned = _UNSAFE.sub("-", unicodedata.normalize("NFC", text)).strip(_EDGES)
    return cleaned[:limit].strip(_EDGES)


def file_name(parts: list[str], extension: str) -> str:
    """The pieces (empty ones left out) joined with '-', then the extension ('.gpkg')."""
    kept = [p for p in (part(text) for text in parts) if p]
    stem = "-".join(kept)[:NAME_CHARS].strip(_EDGES) or "download"
    return stem + extension


def export_name(filters: Filters, extension: str, today: date) -> str:
    """`annotations-<site>-<label>-<report N>-<event N>-<statuses>-<from>-<to>-<day>.ext`,
    with only the filters that were given, and the day of the export."""
    parts = ["annotations", filters.site or "", filters.label or ""]
    if filters.image:
        parts.append(f"image-{filters.image[:12]}")
    if filters.report is not None:
        parts.append(f"report-{filters.report}")
    if filters.event is not None:
        parts.append(f"event-{filters.event}")
    parts += [status.replace("_", "-") for status in filters.status]
    if filters.start is not None:
        parts.append(f"from-{filters.start:%Y-%m-%d}")
    if filters.end is not None:
        parts.append(f"to-{filters.end:%Y-%m-%d}")
    parts.append(f"{today:%Y-%m-%d}")
    return file_name(parts, extension)


def publication_name(title: str, number: int, published_at: datetime, what: str) -> str:
    """`<report title>-v<number>-<day published>-<what>`, e.g.
    `an-124s-at-hmeimim-v2-2024-12-14-map.html`."""
    stem, dot, extension = what.rpartition(".")
    return file_name(
        [title.lower(), f"v{number}", f"{published_at:%Y-%m-%d}", stem], f"{dot}{extension}"
    )


def disposition(name: str, *, inline: bool = False) -> str:
    """The Content-Disposition value that offers `name` (a name made by file_name)."""
    kind = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"-{2,}", "-", ascii_name).strip(_EDGES)
    if ascii_name == name:
        return f'{kind}; filename="{name}"'
    extension = name.rpartition(".")[2]
    fallback = ascii_name if "." in ascii_name else f"download.{extension}"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
