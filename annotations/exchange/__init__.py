"""GIS exchange: annotations out to the formats analysts use, and back in from them."""

from annotations.exchange.formats import (
    FORMATS,
    Format,
    UnknownFormat,
    export,
    export_file,
    get_format,
)
from annotations.exchange.selection import Selection, count

__all__ = [
    "FORMATS",
    "Format",
    "Selection",
    "UnknownFormat",
    "count",
    "export",
    "export_file",
    "get_format",
]
