"""Configuration read once from ANNOTATOR_* environment variables.

Tests pass a mapping to `create_app` instead; its keys override the environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from annotations.db import sqlite_url
from annotations.keyfile import create_once

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": "instance",
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    "MAX_UPLOAD_MB": 2048,
    # a resumable upload (sent in chunks): one file's cap, and hours an unfinished one is kept
    "UPLOAD_FILE_MAX_MB": 51200,
    "UPLOAD_EXPIRE_HOURS": 24,
    # the browser sends a resumable upload in chunks of this size (under any proxy's body cap)
    "UPLOAD_CHUNK_KB": 8192,
    "MAX_JSON_MB": 32,
    "MAX_IMAGE_PIXELS": 2_000_000_000,
    "TILE_CACHE_MB": 64,
    "GDAL_CACHE_MB": 256,
    "SECURE_COOKIES": False,
    "SAMPLE_DATA_DIR": None,
    "BASEMAP_URL": None,
    "BASEMAP_ATTRIBUTION": None,
    "EXPORT_MAX_FEATURES": 1_000_000,
    # browser sessions: ended this long after sign-in, or after this long without a request
    "SESSION_LIFETIME_MINUTES": 720,
    "SESSION_IDLE_MINUTES": 120,
    # sign-in throttle (`limits` rates), its counters (default: the app's database) and how
    # many password checks one worker process runs at once
    "SIGNIN_ACCOUNT_LIMIT": "10 per 15 minutes",
    "SIGNIN_ADDRESS_LIMIT": "100 per 15 minutes",
    "SIGNIN_STORAGE_URI": None,
    "SIGNIN_CONCURRENCY": 1,
    # a publication's map, figures and bundle, kept on disk (data folder/cache/outputs)
    "OUTPUT_CACHE_MB": 1024,
    "FIGURE_CONCURRENCY": 2,
    # the Ed25519 key that signs evidence bundles; made there once (mode 600) when missing
    "SIGNING_KEY_FILE": None,
    # what one export over HTTP may spend before it is stopped (see annotations/exchange/budget)
    "EXPORT_MAX_CHIPS": 20_000,
    "EXPORT_MAX_MB": 4096,
    "EXPORT_MAX_SECONDS": 300,
    # hours a finished export job's file is kept for its owner to download
    "EXPORT_KEEP_HOURS": 24,
    # absolute URLs (TileJSON, STAC, embed links): this base, else an allowed Host header
    "PUBLIC_URL": None,
    "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1]",
    # GDAL and PROJ may reach the network (remote paths, CRS links, PROJ grids): off
    "ALLOW_NETWORK": False,
    # a DEM (a raster of heights in metres, any GDAL format) that RPC images are
    # orthorectified on; without one, at a constant height (imagery/georef/warp.py)
    "DEM": None,
    # the app's own log lines: from this level up, as text or as JSON lines (annotator/logs)
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "text",
    # where `annotator backup`/`restore` find pg_dump and pg_restore for PostGIS (default:
    # /usr/lib/postgresql/<the server's major version>/bin, else PATH)
    "PG_BINDIR": None,
    # when set, GET /metrics needs `Authorization: Bearer <this>`; unset, /metrics is open
    "METRICS_TOKEN": None,
    # a save or copy warns of a possible duplicate on its image: areas overlapping by at least
    # this IoU (percent), points and lines at most this many metres apart; CHECK off: no check
    "DUPLICATE_CHECK": True,
    "DUPLICATE_IOU_PERCENT": 50,
    "DUPLICATE_DISTANCE_M": 10,
    # background jobs: Huey's queue in the data folder (jobs/queue.db), or Redis at this
    # redis:// URL; jobs one user may have queued or running; seconds each kind may run;
    # threads of each worker (`annotator serve` runs one worker, `annotator worker` more)
    "JOBS_URL": None,
    "JOBS_PER_USER": 4,
    "JOBS_TIME_LIMITS": "ingest=3600,import=1800,export=1800,georeference=3600,story=1800",
    "JOBS_THREADS": 1,
    # each file's ingest runs in a child process: its address space (MB; GDAL's cache gets a
    # quarter), CPU seconds and wall-clock seconds; past any of them the file is refused
    "INGEST_MEMORY_MB": 4096,
    "INGEST_CPU_S": 3600,
    "INGEST_WALL_S": 7200,
    # the interface's language when neither the user's setting, a cookie nor the browser's
    # Accept-Language names one it has (en, ar); Arabic pages' digits: latin or arabic-indic
    "DEFAULT_LANGUAGE": "en",
    "ARABIC_DIGITS": "latin",
}
INTEGERS = {
    "SESSION_LIFETIME_MINUTES",
    "SESSION_IDLE_MINUTES",
    "SIGNIN_CONCURRENCY",
    "OUTPUT_CACHE_MB",
    "FIGURE_CONCURRENCY",
    "EXPORT_MAX_FEATURES",
    "EXPORT_MAX_CHIPS",
    "EXPORT_MAX_MB",
    "EXPORT_MAX_SECONDS",
    "EXPORT_KEEP_HOURS",
    "MAX_JSON_MB",
    "MAX_UPLOAD_MB",
    "UPLOAD_FILE_MAX_MB",
    "UPLOAD_EXPIRE_HOURS",
    "UPLOAD_CHUNK_KB",
    "MAX_IMAGE_PIXELS",
    "TILE_CACHE_MB",
    "GDAL_CACHE_MB",
    "DUPLICATE_IOU_PERCENT",
    "DUPLICATE_DISTANCE_M",
    "JOBS_PER_USER",
    "JOBS_THREADS",
    "INGEST_MEMORY_MB",
    "INGEST_CPU_S",
    "INGEST_WALL_S",
}
BOOLEANS = {"SECURE_COOKIES", "ALLOW_NETWORK", "DUPLICATE_CHECK"}
#: settings that take one of a few words, whatever their case
CHOICES: dict[str, tuple[str, ...]] = {
    "LOG_LEVEL": ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    "LOG_FORMAT": ("text", "json"),
    "DEFAULT_LANGUAGE": ("en", "ar"),
    "ARABIC_DIGITS": ("latin", "arabic-indic"),
}


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the variable."""


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        raw = environ.get(f"ANNOTATOR_{key}")
        if raw is None or raw == "":
            continue
        settings[key] = _convert(key, raw)
    return settings


def _convert(key: str, raw: str) -> Any:
    if key in INTEGERS:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"ANNOTATOR_{key}={raw!r} is not a whole number") from None
        if value <= 0:
            raise ConfigError(f"ANNOTATOR_{key} must be positive")
        return value
    if key in BOOLEANS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if key in CHOICES:
        return choice(key, raw)
    return raw


def choice(key: str, raw: str) -> str:
    """`raw` as it is spelt in CHOICES[key]; any other word is refused, naming the words."""
    for allowed in CHOICES[key]:
        if raw.strip().lower() == allowed.lower():
            return allowed
    raise ConfigError(f"ANNOTATOR_{key}={raw!r} is not one of {', '.join(CHOICES[key])}")


def resolve(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Environment, then overrides, then values derived from the data folder."""
    settings = from_environment()
    if overrides:
        settings.update(overrides)
    data_dir = Path(settings["DATA_DIR"]).resolve()
    settings["DATA_DIR"] = data_dir
    settings["IMAGES_DIR"] = data_dir / "images"
    settings["TMP_DIR"] = data_dir / "tmp"
    settings["SIGNING_KEY_FILE"] = Path(settings["SIGNING_KEY_FILE"] or data_dir / "signing_key")
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = sqlite_url(data_dir / "annotator.db")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _stored_secret(data_dir)
    settings["BASEMAP_ORIGIN"] = basemap_origin(settings["BASEMAP_URL"])
    return settings


def basemap_origin(url: str | None) -> str | None:
    """The origin the CSP must allow for a configured basemap; the URL is checked at start."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"ANNOTATOR_BASEMAP_URL={url!r} must be an http(s) URL")
    if not all(f"{{{key}}}" in url for key in "zxy"):
        raise ConfigError("ANNOTATOR_BASEMAP_URL must hold {z}, {x} and {y} (an XYZ tile URL)")
    if any(c in parts.netloc for c in "{}@ ;'\""):
        raise ConfigError("ANNOTATOR_BASEMAP_URL: the host part must be a plain host[:port]")
    return f"{parts.scheme}://{parts.netloc}"


def _stored_secret(data_dir: Path) -> str:
    """A key kept in the data folder, so every worker and restart signs alike."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    create_once(path, secrets.token_hex(32).encode())
    return path.read_text().strip()
