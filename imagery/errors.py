"""One base exception for the raster side, with precise subclasses.

Each message says what was wrong with the image and, where it can, how to fix it.
"""


class ImageryError(Exception):
    """Base class: a problem with an image that a user can act on."""


class NotAGeoTIFF(ImageryError):
    """The file is empty, not a TIFF, or read by a driver other than GTiff."""


class NotGeoreferenced(ImageryError):
    """The TIFF has no CRS or no usable geotransform."""


class ImageTooLarge(ImageryError):
    """The header claims more pixels than the configured limit."""


class UnreadableImage(ImageryError):
    """The header opened but the pixels could not be read (truncated, corrupt)."""


class UnsupportedImage(ImageryError):
    """A valid GeoTIFF the tool cannot display (complex data, no valid pixels)."""


class BadTileAddress(ImageryError):
    """z/x/y outside the WebMercator grid."""


class TileOutsideImage(ImageryError):
    """The tile does not intersect the image."""


class BadFigureRequest(ImageryError):
    """A figure size, resolution or caption that cannot be laid out."""
