"""What the app holds for every request: the database, the label taxonomy and the tile renderer.

`create_app` installs them once; everything else reaches them through these typed accessors,
with the current app by default or the app given (the CLI and tests hold an app directly).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:  # only named here: the command line need not load the tile renderer
    from annotations.db import Database
    from annotations.labels.taxonomy import Taxonomy
    from imagery.tiles import TileRenderer

_DATABASE = "annotator.database"
_TAXONOMY = "annotator.labels"
_RENDERER = "annotator.renderer"


def install(app: Flask, *, database: Database, taxonomy: Taxonomy, renderer: TileRenderer) -> None:
    app.extensions[_DATABASE] = database
    app.extensions[_TAXONOMY] = taxonomy
    app.extensions[_RENDERER] = renderer


def _app(app: Flask | None) -> Flask:
    return app if app is not None else current_app


def database(app: Flask | None = None) -> Database:
    db: Database = _app(app).extensions[_DATABASE]
    return db


def taxonomy(app: Flask | None = None) -> Taxonomy:
    labels: Taxonomy = _app(app).extensions[_TAXONOMY]
    return labels


def renderer(app: Flask | None = None) -> TileRenderer:
    tiles: TileRenderer = _app(app).extensions[_RENDERER]
    return tiles
