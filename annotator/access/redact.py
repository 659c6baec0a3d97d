"""Keys and tokens out of log lines: what annotator.logs and gunicorn's access lines write
passes through `redact`. Plain `re` only, so the server's command line stays light."""

from __future__ import annotations

import re

#: a token (ann_) or key (ank_) as it appears in a URL or a header
SECRET = re.compile(r"an[nk]_[A-Za-z0-9_-]{8,}")
#: a `key=` parameter's value, plain or percent-encoded once (a `next=` that holds a URL)
KEY_VALUE = re.compile(r"((?:^|[?&;]|%26|%3[Ff])key(?:=|%3[Dd]))[^&;\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with keys, tokens and `key=` values replaced by `[redacted]`."""
    if "_" not in text and "key" not in text.lower():
        return text
    text = KEY_VALUE.sub(r"\1[redacted]", text)
    return SECRET.sub(lambda found: found.group(0)[:4] + "[redacted]", text)
