"""GDAL settings applied once per process, before any dataset is opened.

These are the options TiTiler's performance notes recommend for serving COGs: no
directory listing on open, a block cache sized for tiles, merged HTTP range reads for
imagery on object storage, and no network access for PROJ grids.

Unless a deployment allows it (ANNOTATOR_ALLOW_NETWORK), GDAL and PROJ make no network
request at all from the app's processes: a file from outside may name URLs (a GeoJSON
`crs` link, a PROJ grid, a remote path) and none of them is fetched. GDAL has no single
option that turns HTTP off, so `go_offline` closes every way out it has:

- every HTTP request GDAL makes through `CPLHTTPFetch` (CRS links, WFS/OAPIF/WMS, schema
  downloads, ...) is answered by a callback that refuses it (`CPLHTTPSetFetchCallback`);
- the network file systems (/vsicurl/, /vsis3/, /vsigs/, /vsiaz/, ...) are removed, so a
  remote path is a missing file (`VSIRemovePluginHandler`);
- the drivers that only talk to servers (WFS, OAPIF, WMS, Elasticsearch, ...) are
  deregistered, and listed in GDAL_SKIP so a later `GDALAllRegister` skips them too;
- PROJ_NETWORK=OFF for every PROJ in the process (GDAL's and pyproj's), so no grid is
  downloaded, and GML xlinks and external KML styles are never resolved.

Each GDAL library loaded in the process is treated (pyogrio and rasterio may each bring
their own). The environment variables reach any child process as well.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import threading
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

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

#: set whatever the environment says, unless the deployment allows network access
OFFLINE_SETTINGS: dict[str, str] = {
    "PROJ_NETWORK": "OFF",
    # GML: never resolve xlink:href, never download an application or WFS schema
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
    # LIBKML: never fetch a style named by an external styleUrl
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
    # the siblings of a file (.aux.xml, .ovr, .prj ...) are never listed on open
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
}

#: GDAL's virtual file systems that reach the network
NETWORK_FILE_SYSTEMS = (
    "/vsicurl/",
    "/vsicurl?",
    "/vsicurl_streaming/",
    "/vsis3/",
    "/vsis3_streaming/",
    "/vsigs/",
    "/vsigs_streaming/",
    "/vsiaz/",
    "/vsiaz_streaming/",
    "/vsiadls/",
    "/vsioss/",
    "/vsioss_streaming/",
    "/vsiswift/",
    "/vsiswift_streaming/",
    "/vsiwebhdfs/",
    "/vsihdfs/",
)
#: drivers whose only purpose is to talk to a server or a database over the network
NETWORK_DRIVERS = (
    "WFS",
    "OAPIF",
    "OGCAPI",
    "CSW",
    "HTTP",
    "NGW",
    "EEDA",
    "EEDAI",
    "PLSCENES",
    "PLMOSAIC",
    "DAAS",
    "WMS",
    "WMTS",
    "WCS",
    "Elasticsearch",
    "Carto",
    "AmigoCloud",
    "STACIT",
    "STACTA",
    "PostgreSQL",
    "MySQL",
    "MSSQLSpatial",
    "OCI",
    "MongoDBv3",
    "ODBC",
    "ADBC",
    "GPSBabel",
)
REFUSAL = b"network access is off in this server (ANNOTATOR_ALLOW_NETWORK); not fetched"

#: GDAL's CPLHTTPFetchCallbackFunc: (url, options, progress, progress arg, write, write arg,
#: user data) -> CPLHTTPResult*
_FETCH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
)
#: CPLHTTPResult starts {int nStatus; char *pszContentType; char *pszErrBuf; ...}; the rest
#: stays zero (allocated generously, so a later GDAL's extra members are zero too)
_RESULT_BYTES = 512
_ERRBUF_OFFSET = 2 * ctypes.sizeof(ctypes.c_void_p)

_lock = threading.Lock()
#: the URLs GDAL asked for and was refused, newest last (the last 100)
refused_urls: list[str] = []
_offline_libraries: dict[str, Any] = {}  # path -> (library, callback, drivers removed)


def configure_gdal(cache_mb: int | None = None, *, allow_network: bool = False) -> None:
    """Set GDAL's configuration through the environment, which GDAL reads lazily, and,
    unless `allow_network`, take GDAL and PROJ offline (see the module's notes).

    Tuning values already set by the operator win, so a deployment can tune any of them;
    the offline settings are forced.
    """
    settings = dict(GDAL_SETTINGS)
    if cache_mb is not None:
        settings["GDAL_CACHEMAX"] = str(cache_mb)
    for key, value in settings.items():
        os.environ.setdefault(key, value)
    if not allow_network:
        go_offline()


def go_offline() -> list[str]:
    """No network from GDAL or PROJ in this process (and its children); idempotent.
    Returns the GDAL libraries it holds offline."""
    os.environ.update(OFFLINE_SETTINGS)
    # load both GDALs (pyogrio's and rasterio's may differ) and register their drivers
    # now, so that the drivers removed below are not registered again afterwards
    import pyproj.network
    import rasterio

    _load_pyogrio_gdal()
    with rasterio.Env():
        pass
    pyproj.network.set_network_enabled(active=False)
    with _lock:
        skip = os.environ.get("GDAL_SKIP", "").replace(",", " ").split()
        for path in gdal_libraries():
            if path not in _offline_libraries:
                library = ctypes.CDLL(path)
                library.GDALAllRegister()  # pyogrio's library is loaded but not registered
                _offline_libraries[path] = _offline(library)
                # a GDALAllRegister still to come in this process (pyogrio's, when first
                # imported) skips every driver removed from this library
                _, _, found = _offline_libraries[path]
                library.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
                library.CPLSetConfigOption(
                    b"GDAL_SKIP", " ".join(dict.fromkeys(skip + found)).encode()
                )
        # for a GDALAllRegister in a child: only names every library knows, since GDAL
        # warns about a name it cannot find
        removed = [set(found) for _, _, found in _offline_libraries.values()]
        common = [d for d in NETWORK_DRIVERS if removed and all(d in r for r in removed)]
        os.environ["GDAL_SKIP"] = " ".join(dict.fromkeys(skip + common))
        return sorted(_offline_libraries)


def _load_pyogrio_gdal() -> None:
    """Map pyogrio's GDAL library into the process without importing pyogrio, whose package
    imports geopandas and pandas (a second of every process's start, wanted only by an
    import or an export of annotations). A wheel of pyogrio brings its own GDAL and its
    data files: its extension module is loaded as a plain shared library, which brings the
    GDAL it is linked with, and GDAL_DATA is set in that library as pyogrio's own start sets
    it (GDAL looks for its files where GDAL_DATA was when drivers were first registered).
    pyogrio, imported later, gets that very library (the loader maps a library once),
    already offline. Any other pyogrio is imported, as it is."""
    spec = importlib.util.find_spec("pyogrio")
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    folder = Path(locations[0]) if locations else None
    data = folder / "gdal_data" if folder else None
    found = [folder / f"_ogr{suffix}" for suffix in EXTENSION_SUFFIXES] if folder else []
    extension = next((path for path in found if path.is_file()), None)
    if extension is None or data is None or not data.is_dir():
        import pyogrio  # noqa: F401

        return
    mapped = set(gdal_libraries())
    ctypes.CDLL(str(extension))
    for path in set(gdal_libraries()) - mapped:  # pyogrio's own GDAL
        library = ctypes.CDLL(path)
        library.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        library.CPLSetConfigOption(b"GDAL_DATA", str(data.resolve()).encode())


def gdal_libraries() -> list[str]:
    """The GDAL shared libraries mapped into this process."""
    found: set[str] = set()
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:  # not Linux: look where the wheels keep their libraries
        maps = ""
    for line in maps.splitlines():
        path = line.rsplit(" ", 1)[-1]
        if re.search(r"/libgdal[^/]*\.(so|dylib)", path):
            found.add(path)
    if not found:
        import pyogrio
        import rasterio

        for package in (pyogrio, rasterio):
            folder = Path(str(package.__file__)).parent
            for pattern in ("../*.libs/libgdal*", "../.dylibs/libgdal*", ".dylibs/libgdal*"):
                found.update(str(p.resolve()) for p in folder.glob(pattern))
    return sorted(found)


def _offline(library: Any) -> Any:
    calloc, strdup = library.CPLCalloc, library.CPLStrdup
    calloc.restype, calloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t, ctypes.c_size_t]
    strdup.restype, strdup.argtypes = ctypes.c_void_p, [ctypes.c_char_p]

    def refuse(url: bytes | None, *_: Any) -> int | None:
        refused_urls.append((url or b"").decode("utf-8", "replace")[:500])
        del refused_urls[:-100]
        # a result GDAL frees itself (CPLHTTPDestroyResult): a failed request, with why
        result = calloc(1, _RESULT_BYTES)
        ctypes.c_int.from_address(result).value = 1
        ctypes.c_void_p.from_address(result + _ERRBUF_OFFSET).value = strdup(REFUSAL)
        return int(result)

    callback = _FETCH_CALLBACK(refuse)
    library.CPLHTTPSetFetchCallback.argtypes = [_FETCH_CALLBACK, ctypes.c_void_p]
    library.CPLHTTPSetFetchCallback(callback, None)
    library.VSIRemovePluginHandler.argtypes = [ctypes.c_char_p]
    for prefix in NETWORK_FILE_SYSTEMS:
        library.VSIRemovePluginHandler(prefix.encode())
    library.GDALGetDriverByName.restype = ctypes.c_void_p
    library.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
    library.GDALDeregisterDriver.argtypes = [ctypes.c_void_p]
    removed = []
    for name in NETWORK_DRIVERS:
        driver = library.GDALGetDriverByName(name.encode())
        if driver:
            library.GDALDeregisterDriver(driver)
            removed.append(name)
    if hasattr(library, "OSRSetPROJEnableNetwork"):
        library.OSRSetPROJEnableNetwork.argtypes = [ctypes.c_int]
        library.OSRSetPROJEnableNetwork(0)
    return library, callback, removed
