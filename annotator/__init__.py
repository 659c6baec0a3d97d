"""annotator: a Flask app for annotating satellite imagery and tying it to news reports.

`create_app` lives in `annotator.app` and is handed out from here when first asked for, so
that importing a module of the package (as every `annotator` command does) does not load the
whole web app: `annotator --help`, `annotator backup` and `annotator restore` start without
Flask's blueprints, GDAL's drivers or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annotator.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from annotator.app import create_app

        return create_app
    raise AttributeError(f"module 'annotator' has no attribute {name!r}")
