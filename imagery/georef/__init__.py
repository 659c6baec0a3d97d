"""Vendor formats and georeferencing models: what places an image that is not a plain
north-up GeoTIFF (a rotated or sheared geotransform, ground control points, rational
polynomial coefficients), the warp that makes it north-up, and the capture facts that
vendor headers and metadata files carry (NITF, WorldView .IMD, SPOT/Pléiades DIMAP)."""
