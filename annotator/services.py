"""Per-application objects, created in create_app and reached through the app."""

from __future__ import annotations

from flask import current_app

from annotations.db import Database
from imagery.tiles import TileRenderer


def database() -> Database:
    db: Database = current_app.extensions["annotator.database"]
    return db


def renderer() -> TileRenderer:
    tiles: TileRenderer = current_app.extensions["annotator.renderer"]
    return tiles
