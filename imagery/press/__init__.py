"""Press imagery: a JPEG, PNG or WebP picture (an article's satellite image, a screenshot)
with no georeference, placed on the map by explicit control points (pixel -> lon/lat) and
warped to a COG through the ingest path, its error stated in metres."""
