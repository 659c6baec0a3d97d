"""Backups of a data folder that lose nothing, and their restore.

A backup is a folder (or the same in an uncompressed .tar): the database as of one moment
(SQLite's backup API, or pg_dump in custom format), the COGs that copy of the catalogue
names, the keys, and a manifest with the schema revision, the rows per table and every
file's size and sha256. See make (writing), reader (checking) and restore.
"""

from annotations.backup.make import make_backup
from annotations.backup.manifest import BackupError
from annotations.backup.reader import verify_backup
from annotations.backup.restore import restore_backup

__all__ = ["BackupError", "make_backup", "restore_backup", "verify_backup"]
