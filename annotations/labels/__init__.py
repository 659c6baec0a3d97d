"""The label taxonomy, and identifying an object by its size."""
