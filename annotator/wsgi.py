"""Entry point for gunicorn: `gunicorn annotator.wsgi:app`."""

import gc

from annotator import create_app

app = create_app()
# Everything made at start (modules, the app, the taxonomy) lives as long as the worker:
# move it out of the collector's sight, so full collections stay short (measured in
# docs/benchmarks-annotations.md: they were a quarter of a list request's time).
gc.collect()
gc.freeze()
