"""The gettext catalogues in annotator/translations: each language's messages.po is kept in
the repository, its compiled messages.mo is made from it (by `make translations`, or here
when the app starts and finds it missing or older than the .po), and the strings the
scripts use (those found in .js files) are served to them as JSON."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

FOLDER = Path(__file__).resolve().parent.parent / "translations"
log = logging.getLogger(__name__)


def po_file(language: str, folder: Path = FOLDER) -> Path:
    return folder / language / "LC_MESSAGES" / "messages.po"


def compile_stale(folder: Path) -> None:
    """Compile each messages.po whose messages.mo is missing or older, written whole (a
    temporary file renamed) so that workers starting together never read half a file."""
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            handle, name = tempfile.mkstemp(dir=po.parent, prefix=".messages.", suffix=".mo")
            with os.fdopen(handle, "wb") as target:
                write_mo(target, catalog)
            os.replace(name, mo)
        except (OSError, ValueError) as exc:  # read-only, or a broken .po: read as English
            log.warning("could not compile %s: %s", po, exc)


@dataclass(frozen=True)
class ScriptCatalogue:
    strings: dict[str, str]
    body: bytes
    etag: str


def for_scripts(language: str) -> ScriptCatalogue:
    """The translated strings of the scripts (msgid -> msgstr) in `language`, as JSON."""
    po = po_file(language)
    stamp = po.stat().st_mtime_ns if po.exists() else 0
    return _for_scripts(language, stamp)


@cache
def _for_scripts(language: str, _stamp: int) -> ScriptCatalogue:
    strings: dict[str, str] = {}
    po = po_file(language)
    if po.exists():
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        for message in catalog:
            if not message.id or message.fuzzy or not isinstance(message.id, str):
                continue
            if not any(path.endswith(".js") for path, _line in message.locations):
                continue
            if isinstance(message.string, str) and message.string:
                strings[message.id] = message.string
    body = json.dumps(strings, ensure_ascii=False, sort_keys=True).encode()
    return ScriptCatalogue(strings, body=body, etag=hashlib.sha256(body).hexdigest()[:32])
