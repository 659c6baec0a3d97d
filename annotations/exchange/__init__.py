"""GIS exchange: annotations out to the formats analysts use, and back in from them.

The names below are handed out from `formats` and `selection` when first asked for, so that
importing a module of the package (the models import `batch.tables`) does not load the
formats and the libraries they read and write with (pyogrio, pyarrow, rio-tiler)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_FROM = {
    "FORMATS": "formats",
    "Format": "formats",
    "UnknownFormat": "formats",
    "export": "formats",
    "export_file": "formats",
    "get_format": "formats",
    "Selection": "selection",
    "count": "selection",
}


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
