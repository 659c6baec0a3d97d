"""Entry point for gunicorn: `gunicorn annotator.wsgi:app`."""

import gc

from annotator import create_app, logs

app = create_app()
# the log of this worker process: ANNOTATOR_LOG_LEVEL and ANNOTATOR_LOG_FORMAT, on stderr
logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
# Everything made at start (modules, the app, the taxonomy) lives as long as the worker:
# move it out of the collector's sight, so full collections stay short (measured in
# docs/benchmarks-annotations.md: they were a quarter of a list request's time).
gc.collect()
gc.freeze()
