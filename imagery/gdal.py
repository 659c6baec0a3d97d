"""GDAL settings applied once per process, before any dataset is opened.

These are the options TiTiler's performance notes recommend for serving COGs: no
directory listing on open, a block cache sized for tiles, merged HTTP range reads for
imagery on object storage, and no network access for PROJ grids.
"""

import os

GDAL_SETTINGS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_CACHEMAX": "256",
    "GDAL_BAND_BLOCK_CACHE": "HASHSET",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "GDAL_HTTP_VERSION": "2",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff",
    "VSI_CACHE": "TRUE",
    "VSI_CACHE_SIZE": "5000000",
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
    "PROJ_NETWORK": "OFF",
    # one tile is a few small blocks: decoding them on other threads only adds contention
    # between the workers (ingest asks for ALL_CPUS explicitly)
    "GDAL_NUM_THREADS": "1",
    "CPL_LOG_ERRORS": "OFF",
}


def configure_gdal(cache_mb: int | None = None) -> None:
    """Set GDAL's configuration through the environment, which GDAL reads lazily.

    Values already set by the operator win, so a deployment can tune any of them.
    """
    settings = dict(GDAL_SETTINGS)
    if cache_mb is not None:
        settings["GDAL_CACHEMAX"] = str(cache_mb)
    for key, value in settings.items():
        os.environ.setdefault(key, value)
