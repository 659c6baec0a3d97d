"""OGC API - Features without the web: CRS by reference, query parameters, collections
and item pages over the annotations store (the HTTP layer is annotator.ogcapi)."""
