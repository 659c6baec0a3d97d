"""Tile-serving benchmark: the app's renderer in-process and over HTTP, next to TiTiler.

`make bench` runs it (`python -m benchmarks.tiles`) with the app's venv; `--smoke` runs every
step with a 2048 px image, a handful of tiles and one format (benchmarks/common/options.py).
On a fresh machine it:

1. writes a synthetic 8000 x 8000, 3-band, 0.5 m GeoTIFF in UTM 36N into benchmarks/out/ and
   ingests it with the app's own CLI (`annotator init`, `images import`, `users add`,
   `tokens create`) into benchmarks/out/instance;
2. picks a fixed, seeded, zoom-stratified list of unique tiles z14-z19 inside the image;
3. times `imagery.tiles.TileRenderer` in-process (and naive rio-tiler for reference), each
   renderer and format in a fresh process so that GDAL's block cache starts empty;
4. serves the stored COG with `annotator serve` (gunicorn, 2 worker processes, each
   buffering requests with waitress: annotator/serving.py) and with TiTiler (uvicorn, 2
   workers, from its own venv .venv-bench, created when missing) and loads both from this
   process over 127.0.0.1 at concurrency 1 and 4, PNG and JPEG, restarting the server for
   every measured run so that no run is served from an earlier run's caches; then, as
   diagnostics, the app with one thread per worker, TiTiler with one worker, and the app
   under the serving setup it had before issue 10 (gunicorn's gthread workers), so that
   the two setups are compared on the same machine in the same run;
5. measures the app's cache path (a repeated tile, and a 304 for If-None-Match);
6. prints the figures and rewrites its section of docs/benchmarks.md
   (benchmarks/templates/tiles.md.j2) (raw figures go to
   benchmarks/out/results.json, server logs to benchmarks/out/logs/).

The machine may be shared: CPU used by other processes during each measurement is read from
/proc/stat and reported, and a disturbed measurement is repeated (bounded). Everything is
bounded in time and every server it starts is stopped on the way out. Linux only.
"""
