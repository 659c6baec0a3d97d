"""The REST API: one blueprint per subject, under /api/v1 (and /tiles)."""
