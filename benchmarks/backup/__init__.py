"""Backup benchmark: `annotator backup` of 1,000,000 annotations and 20 GB of COGs, next to
SQLite's own `.backup` plus `cp -al` of the images, while `annotator serve` answers tiles."""
