"""Tables of features: FlatGeobuf, CSV (WKT or lon/lat columns) and GeoParquet.

Each reader turns a file into a `Layer` (geometries as WKB, field values column by column,
the CRS), which `annotations.exchange.sources` makes features of, as it does with what GDAL
reads; nothing here knows about annotations. `geoparquet` also writes the GeoParquet export.
"""
