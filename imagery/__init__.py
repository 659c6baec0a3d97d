"""Raster side of annotator: ingest GeoTIFF to COG, describe it, render tiles.

Nothing here imports Flask; every function can be used from a script or a test.
"""

from imagery.errors import ImageryError

__all__ = ["ImageryError"]
