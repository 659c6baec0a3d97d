"""The web app: `create_app` builds it from the configuration, with every blueprint."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from annotations import times
from annotations.db import Database
from annotations.labels.taxonomy import load_taxonomy
from annotator import auth, errors, health, logs, metrics, readiness, scratch, services, urls
from annotator.access import page as keys_page
from annotator.access import wmts
from annotator.api import annotations as annotations_api
from annotator.api import discussion as discussion_api
from annotator.api import events as events_api
from annotator.api import exports, images, imports, openapi, same_object, sites, tiles, users
from annotator.api import links as links_api
from annotator.api import reports as reports_api
from annotator.config import resolve
from annotator.georeference import api as georeference_api
from annotator.georeference import page as georeference_page
from annotator.jobs import setup as jobs_setup
from annotator.language import init_app as language_init_app
from annotator.ogcapi import bp as ogcapi_bp
from annotator.pages import compare, embed, event_forms, review, site_form
from annotator.pages import home as pages
from annotator.pages import imports as import_page
from annotator.pages import inbox as inbox_page
from annotator.pages import reports as report_pages
from annotator.pages import site as timeline
from annotator.upload import api as upload_api
from imagery.gdal import configure_gdal
from imagery.tiles import TileRenderer

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides the ANNOTATOR_* environment (tests use it)."""
    settings = resolve(config)
    configure_gdal(int(settings["GDAL_CACHE_MB"]), allow_network=bool(settings["ALLOW_NETWORK"]))
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(settings)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(
        MAX_CONTENT_LENGTH=int(settings["MAX_UPLOAD_MB"]) * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["SECURE_COOKIES"]),
        SESSION_COOKIE_NAME="annotator_session",
    )
    for folder in (settings["DATA_DIR"], settings["IMAGES_DIR"], settings["TMP_DIR"]):
        Path(folder).mkdir(parents=True, exist_ok=True)
    # tmp/ holds a locked folder per process: what killed processes left there goes now
    scratch.init_app(app, Path(settings["TMP_DIR"]))
    services.install(
        app,
        database=Database(str(settings["DATABASE_URL"])),
        taxonomy=load_taxonomy(Path(settings["DATA_DIR"])),
        renderer=TileRenderer(),
    )
    logs.init_app(app)  # first: the request id is set before any other hook logs
    metrics.init_app(app)  # before readiness: its 503s are counted and timed too
    errors.init_app(app)
    readiness.init_app(app)
    health.init_app(app)  # /healthz and /readyz, served before init too
    urls.init_app(app)
    auth.init_app(app)
    app.jinja_env.filters.update(day=times.day, moment=times.moment)  # one date format
    language_init_app(app)  # Flask-Babel; dates and numbers in the reader's language
    tiles.init_app(app)
    jobs_setup.init_app(app)  # the background jobs' queue, API and page
    blueprints = (
        sites.bp,
        images.bp,
        pages.bp,
        annotations_api.bp,
        users.bp,
        openapi.bp,
        timeline.bp,
        compare.bp,
        review.bp,
        imports.bp,
        import_page.bp,
        reports_api.bp,
        events_api.bp,
        links_api.bp,
        same_object.bp,
        discussion_api.bp,
        inbox_page.bp,
        report_pages.bp,
        event_forms.bp,
        site_form.bp,
        embed.bp,
        exports.bp,
        reports_api.signing_bp,
        keys_page.bp,
        wmts.bp,
        ogcapi_bp,
        upload_api.bp,
        georeference_api.bp,
        georeference_page.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    # a configured basemap's origin is the one place images may come from besides the app
    basemap = f" {settings['BASEMAP_ORIGIN']}" if settings["BASEMAP_ORIGIN"] else ""
    policy = (
        f"default-src 'self'; img-src 'self' data: blob:{basemap}; style-src 'self' 'unsafe-inline'"
    )

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return app
