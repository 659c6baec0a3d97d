"""FlatGeobuf, told by its signature: `fgb`, the major version (3), `fgb`, the patch.

GDAL reads it (`sources` hands it to the same reader as a GeoPackage's layers); its CRS,
like any layer's, may not name a URL, and GDAL and PROJ are held offline besides.
"""

from __future__ import annotations

#: the signature's bytes 0-2 and 4-6; byte 3 is the major version, 7 the patch
SIGNATURE = b"fgb"
MAJOR_VERSION = 3


def sniff(head: bytes) -> bool:
    return (
        len(head) >= 8
        and head[:3] == SIGNATURE
        and head[4:7] == SIGNATURE
        and head[3] == MAJOR_VERSION
    )
