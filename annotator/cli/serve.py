"""Commands that set up and run the app: init, demo, serve and worker."""

from __future__ import annotations

import os
import sys

import click

from annotations.schema import upgrade
from annotator import services
from annotator.cli.common import friendly, load_app, main
from annotator.serving import CLIENT_TIMEOUT_S, gunicorn_argv, metrics_folder


@main.command()
@friendly
def init() -> None:
    """Create or upgrade the data folder and database (idempotent)."""
    app = load_app(ready=False)
    revision = upgrade(services.database(app))
    click.echo(f"data folder {app.config['DATA_DIR']} ready (schema {revision})")


@main.command()
@friendly
def demo() -> None:
    """Load the demo: synthetic Hmeimim scene, the real sample rasters, demo users."""
    from annotator.demo.loader import load_demo

    app = load_app(ready=False)  # it initialises the data folder itself
    upgrade(services.database(app))
    with app.app_context():
        for line in load_demo(app):
            click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--client-timeout",
    default=CLIENT_TIMEOUT_S,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a connection may idle, take to send a request's headers, or leave a "
    "response unread, before it is closed.",
)
def serve(host: str, port: int, workers: int, threads: int, client_timeout: int) -> None:
    """Serve the app: gunicorn processes, each buffering requests with waitress."""
    app = load_app()  # fail here, with one line, on bad configuration
    metrics_folder(app.config["TMP_ROOT"])  # the workers' metrics, summed by /metrics
    argv = [sys.executable, *gunicorn_argv(host, port, workers, threads, client_timeout)]
    # each worker renders on one core; BLAS thread pools would only fight the other workers
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from annotator.jobs.setup import start_embedded

    start_embedded(int(app.config["JOBS_THREADS"]))  # one job worker per serve (see there)
    os.execv(sys.executable, argv)  # noqa: S606


@main.command()
@click.option("--threads", type=click.IntRange(1, 64), help="Jobs at once [ANNOTATOR_JOBS_THREADS]")
@click.option("--parent", type=int, hidden=True)
@friendly
def worker(threads: int | None, parent: int | None) -> None:
    """Run background jobs (ingest) until stopped (Ctrl-C, SIGTERM); see annotator.jobs.setup."""
    from annotator.jobs.setup import run_worker

    run_worker(load_app(), threads, parent)
