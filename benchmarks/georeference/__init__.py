"""Georeferencing a press picture (issue 14): the warp against `gdalwarp`, and the editor's
preview over HTTP.

1. **Warp**: a 4,000 x 3,000 px RGB press picture (JPEG, quality 88, a smooth pattern with
   fine texture) is placed by 12 control points (picked off a known affine placement, with 1 m
   of noise) by the app's path, in this process: `imagery.press.place.write_placed` (decode the
   JPEG, write its pixels with the points as GCPs, or an affine placement as its geotransform)
   then `imagery.ingest.ingest` (GDAL warps it north-up in WGS 84 with the method's order, or
   the geotransform in one pass, then the COG: ZSTD 9, 256 px blocks, overviews).
   The peer is Debian's GDAL command line (`gdal_translate -of VRT -gcp ...` then `gdalwarp
   -order 1` or `-tps`, `-r bilinear -dstalpha -of COG -co COMPRESS=ZSTD -co LEVEL=9`, all
   CPUs), on the same file, same points, same method. Best of the rounds, each. Target: the
   app <= 1.2x the peer.
2. **Preview over HTTP**: the picture is sent to a running `annotator serve` (2 workers) as a
   resumable upload, then `POST /api/v1/georeference/preview` is asked 20 times, one point moved
   a little each time, as the editor does when a point is dragged; and the residuals 20 times.
   Each worker's first preview reads the picture (later ones reuse its small copy): the
   slower of those two is shown apart, p50/p95 of the rest.
   Target: the preview answers in <= 300 ms.

Run: .venv/bin/python -m benchmarks.georeference [--smoke]. The smoke mode uses a 400 x 300
picture, one round, and 3 requests.
"""
