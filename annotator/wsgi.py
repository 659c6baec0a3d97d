"""Entry point for gunicorn: `gunicorn annotator.wsgi:app`."""

from annotator import create_app

app = create_app()
