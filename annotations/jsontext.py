"""JSON from outside (request bodies, imported files, label maps), with bounded nesting.

Python's json module parses nested arrays and objects by recursion: 100,000 `[` raise
RecursionError, which no caller expects, and a document a little under the interpreter's
limit parses but then breaks whatever walks it later (shapely, the encoder that writes it
back out). So the depth is measured first, on the raw text and without recursion, and a
document deeper than `MAX_DEPTH` is refused as malformed. GeoJSON needs 7 levels (a
FeatureCollection of MultiPolygons); 64 leaves room for any attribute a user means.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

#: The deepest nesting of arrays and objects accepted from outside.
MAX_DEPTH = 64
#: Every byte but brackets, quotes, backslashes and the letters an escape may start with;
#: deleting them shrinks a GeoJSON body (mostly digits) several times before the scan.
_NOISE = bytes(b for b in range(256) if b not in b'[]{}"\\/bfnrtu')
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')


class TooDeeplyNested(ValueError):
    """The document nests arrays/objects deeper than the limit (a ValueError, as a JSON
    syntax error is, so callers that refuse bad JSON refuse this too)."""

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(
            f"arrays and objects are nested {depth:,} levels deep; at most {limit} are accepted"
        )
        self.depth = depth
        self.limit = limit


def nesting_depth(document: str | bytes) -> int:
    """The deepest nesting of `[` and `{` outside strings, in linear time without recursion."""
    raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    kept = raw.translate(None, _NOISE)
    kept = _STRING.sub(b"", _ESCAPE.sub(b"", kept))
    codes = np.frombuffer(kept, dtype=np.uint8)
    if codes.size == 0:
        return 0
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    steps = opens.astype(np.int32) - closes
    return int(np.cumsum(steps).max(initial=0))


def loads(document: str | bytes, *, max_depth: int = MAX_DEPTH, **options: Any) -> Any:
    """`json.loads`, refusing documents nested deeper than `max_depth` with
    `TooDeeplyNested`; `options` go to json.loads (parse_float, object_pairs_hook...)."""
    depth = nesting_depth(document)
    if depth > max_depth:
        raise TooDeeplyNested(depth, max_depth)
    try:
        return json.loads(document, **options)
    except RecursionError:  # the scan is exact for valid JSON; this is a last guard
        raise TooDeeplyNested(depth, max_depth) from None
