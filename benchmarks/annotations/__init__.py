"""Annotation storage benchmark: 1,000,000 annotations in SQLite and in PostGIS, queried by
bounding box over HTTP, next to a GeoPandas in-memory floor.

`make bench-annotations` (and `make bench`, after the tile benchmark) runs it
(`python -m benchmarks.annotations`) with the app's venv; `--smoke` runs every step with
3,000 annotations and boxes of about 20 (PostGIS only when it is installed). On a fresh
machine, as on a re-run, it:

1. writes 100 small synthetic GeoTIFFs (50 sites x 2 captures, 512 px over 5.2 km) into
   benchmarks/out/annotations/ and, for each backend, imports them with the app's CLI
   (`annotator init`, `users add`, `tokens create`, `images import`) into a fresh data folder;
   PostGIS is a throwaway cluster (tests/postgis.py) on a free port of 127.0.0.1;
2. generates, from a fixed seed, realistic annotation rows (aircraft-sized rotated boxes and
   polygons, convoy lines) clustered on the 50 sites and bulk-loads them straight into the
   `annotations` table (executemany on SQLite, COPY on PostgreSQL); the migration's triggers
   fill the R*Tree and the `geom` column, and both are checked afterwards;
3. in a separate process, holds the same annotations in a GeoDataFrame with its spatial
   index, picks query boxes that each hold about 1,000 annotations, and times the GeoPandas
   floor (sindex query + `to_json`) and a naive scan without any index;
4. times the listing's own steps (search_rows, reports, feature_text) in-process, with the time
   spent in Python's garbage collector and a cProfile of the request (and of one POST), and
   a naive SQL scan that bypasses the spatial index;
5. serves each database with `annotator serve --workers 2`, times
   `GET /api/v1/annotations?bbox=...&limit=2000` over 127.0.0.1, checks every answer against
   the floor (the same annotation ids), posts FeatureCollections of 1,000 features, and
   samples the server's memory;
6. prints the report (benchmarks/templates/annotations.md.j2), writes it to
   docs/benchmarks-annotations.md, and makes sure docs/benchmarks.md holds a link to it.

The machine may be shared: CPU used by other processes during each measurement is read from
/proc/stat and reported, and a disturbed query run is repeated (bounded). Every server and the
PostgreSQL cluster are stopped on the way out. Linux only.
"""
