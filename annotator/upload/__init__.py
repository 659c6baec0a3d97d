"""Add imagery: resumable uploads in chunks (`/api/v1/uploads`), the header read that
prefills the form, and handing finished uploads, sidecars beside their image, to an ingest
job. The rules of the chunks are annotations.uploads.chunks'; grouping is its sidecars'."""
