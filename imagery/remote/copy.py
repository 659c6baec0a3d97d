"""Copy one remote file through GDAL's streaming virtual file systems (/vsicurl_streaming/
for http and https, /vsis3_streaming/ for s3://bucket/key with the deployment's AWS_*
credentials), with progress, in a child Python process.

The app's processes have GDAL's network file systems removed (imagery.gdal.go_offline), so
the copy runs in a fresh interpreter that never loads them off; it writes to a file in
the folder it is given and prints `bytes total` lines, then `done`. A failure (a bad
address, 404, a refused connection, over `max_bytes`) is one line on its stderr, which
the parent raises as RemoteCopyError; the partial file is removed.

Usage (by the parent): python -m imagery.remote.copy URL DESTINATION MAX_BYTES
"""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import rasterio

from imagery.errors import ImageryError
from imagery.gdal import gdal_libraries

CHUNK = 4 << 20
SCHEMES = ("http", "https", "s3")


class RemoteCopyError(ImageryError):
    """The URL could not be copied; the message is one line for the user."""


def gdal_path(url: str) -> str:
    """The GDAL virtual path of an http(s):// or s3:// URL; anything else is refused."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.netloc:
        raise RemoteCopyError(
            f"{url[:200]!r} is not an http://, https:// or s3:// address of one file"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise RemoteCopyError("the address holds spaces or control characters")
    if scheme == "s3":
        key = parts.path.lstrip("/")
        if not key:
            raise RemoteCopyError(f"{url[:200]!r} names a bucket but no file (s3://bucket/key)")
        return f"/vsis3_streaming/{parts.netloc}/{key}"
    return f"/vsicurl_streaming/{url.strip()}"


def file_name(url: str) -> str:
    """The name the file goes by: the last part of the address's path."""
    name = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
    return re.sub(r"[^\w.+-]", "_", name)[:200] or "remote.tif"


def is_url(text: str) -> bool:
    return re.match(r"(?i)^(https?|s3)://", text.strip()) is not None


def fetch(
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Copy `url` to `destination` in a child process; `progress(bytes, total or None)`."""
    gdal_path(url)  # refuse a bad address before starting anything
    env = dict(os.environ)
    # every extension may be fetched; no GDAL_SKIP from an offline parent needed here
    env.pop("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", None)
    env["GDAL_HTTP_MAX_RETRY"] = env.get("GDAL_HTTP_MAX_RETRY", "2")
    command = [sys.executable, "-m", "imagery.remote.copy", url, str(destination), str(max_bytes)]
    done = False
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            for line in process.stdout:
                if line.strip() == "done":
                    done = True
                elif progress is not None and (match := re.fullmatch(r"(\d+) (\d+|-)\s*", line)):
                    total = None if match[2] == "-" else int(match[2])
                    progress(int(match[1]), total)
            error = process.stderr.read()
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            destination.unlink(missing_ok=True)
            raise
    if code != 0 or not done:
        destination.unlink(missing_ok=True)
        lines = [line for line in error.strip().splitlines() if line.strip()]
        raise RemoteCopyError(lines[-1][:300] if lines else f"copy of {url[:200]} failed")
    return destination


def _gdal() -> ctypes.CDLL:
    with rasterio.Env():  # loads rasterio's GDAL
        pass
    found = [p for p in gdal_libraries() if "rasterio" in p] or gdal_libraries()
    library = ctypes.CDLL(found[0])
    library.VSIFOpenL.restype = ctypes.c_void_p
    library.VSIFOpenL.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    library.VSIFReadL.restype = ctypes.c_size_t
    library.VSIFReadL.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_void_p,
    ]
    library.VSIFCloseL.argtypes = [ctypes.c_void_p]
    library.CPLGetLastErrorMsg.restype = ctypes.c_char_p
    library.VSIStatL.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    return library


def _size(library: ctypes.CDLL, path: bytes) -> int | None:
    # VSIStatBufL is struct stat on Linux: st_size at offset 48 on x86-64 and aarch64
    buffer = ctypes.create_string_buffer(256)
    if library.VSIStatL(path, buffer) != 0:
        return None
    size = int.from_bytes(buffer.raw[48:56], sys.byteorder)
    return size if size > 0 else None


def _copy(url: str, destination: Path, max_bytes: int) -> None:
    library = _gdal()
    path = gdal_path(url).encode()
    total = _size(library, path)
    if total is not None and total > max_bytes:
        raise RemoteCopyError(f"{url[:200]} is {total:,} bytes, over the limit of {max_bytes:,}")
    handle = library.VSIFOpenL(path, b"rb")
    if not handle:
        reason = (library.CPLGetLastErrorMsg() or b"").decode("utf-8", "replace").strip()
        raise RemoteCopyError(
            f"cannot read {url[:200]}: {reason or 'not found, or the server did not answer'}"
        )
    copied = 0
    buffer = ctypes.create_string_buffer(CHUNK)
    try:
        with open(destination, "wb") as out:
            while True:
                count = library.VSIFReadL(buffer, 1, CHUNK, handle)
                if count == 0:
                    break
                copied += count
                if copied > max_bytes:
                    raise RemoteCopyError(f"{url[:200]} is over the limit of {max_bytes:,} bytes")
                out.write(buffer.raw[:count])
                print(copied, total if total is not None else "-", flush=True)
    finally:
        library.VSIFCloseL(handle)
    if copied == 0:
        reason = (library.CPLGetLastErrorMsg() or b"").decode("utf-8", "replace").strip()
        raise RemoteCopyError(f"cannot read {url[:200]}: {reason or 'it is empty'}")
    if total is not None and copied != total:
        raise RemoteCopyError(f"{url[:200]} ended after {copied:,} of {total:,} bytes")
    print("done", flush=True)


def main(argv: list[str]) -> int:
    url, destination, max_bytes = argv[0], Path(argv[1]), int(argv[2])
    try:
        _copy(url, destination, max_bytes)
    except (RemoteCopyError, OSError) as exc:
        destination.unlink(missing_ok=True)
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
