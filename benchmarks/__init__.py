"""The benchmarks: one module or package per subject (`python -m benchmarks.<subject>`), what
they share in `benchmarks.common`, and their reports' templates in benchmarks/templates/.
See benchmarks/README.md."""
