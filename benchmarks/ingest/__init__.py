"""Ingest at scale: a large RGB scene into the store, against `rio cogeo create`, over the CLI and
over HTTP, and what an ingest does to tile serving (issue 12's speed and memory targets).

1. **Scale** (CLI): a 2-gigapixel RGB scene (44,720 x 44,720 px, uint8, tiled and uncompressed,
   6 GB) is ingested by `annotator images import` into a fresh data folder, and turned into a
   COG by `rio cogeo create` with the profile the ingest writes (ZSTD level 9, predictor 2,
   256-pixel blocks and overviews, average overviews, all CPUs). Both run as child processes,
   one after the other on the same file (the peer first, so both find it in the page cache);
   wall time and peak RSS (ru_maxrss of the process and all its descendants: the benchmark is
   their subreaper, so the sandbox child of the ingest's forkserver counts too) are kept.
   Targets: time <= 1.0x the peer, peak RSS <= 1.5 GB.
2. **Over HTTP**: a 12,000 x 12,000 RGB scene is POSTed to /api/v1/images of a running
   `annotator serve`. The request must answer as soon as the file is received (202 and a job);
   the job is polled until the image is ready. Target: ready within 1.5x the peer's time on the
   same file, with no worker killed (the server's log is searched for WORKER TIMEOUT).
3. **Tiles during an ingest**: 4 threads fetch random tiles of an image already in the store for
   a fixed time while the server is idle, then while the upload's ingest job runs; tiles a
   second and p50/p95 latency are compared.

Run: .venv/bin/python -m benchmarks.ingest [--smoke] [--part scale|http|all|report]   (`make bench`
runs all). Each part logs the load average before and after it (the machine may be shared), and a
full run keeps its figures in benchmarks/out/ingest/<part>.json: a part run alone is reported
beside the other part's last run. The sources are made once and kept in
benchmarks/out/ingest/sources/. The smoke mode uses 600 x 600 and 400 x 400 px scenes and a 2 s
tile window.
"""
