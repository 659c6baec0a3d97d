"""Background jobs on the web side: the queue an app submits to, the jobs API, the Jobs page,
the kinds of job the app knows (ingest), and the worker `annotator serve` and
`annotator worker` run (see annotations.jobs for the rules)."""
