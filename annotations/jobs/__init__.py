"""Background jobs: a row per job in the catalogue (what, whose, how far, what it made) and a
Huey queue that carries "run job <id>" to a consumer (SQLite in the data folder by default,
Redis for several workers). No Flask here: the web app, the CLI and `annotator worker` share it.
"""
