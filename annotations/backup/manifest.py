"""A backup's manifest: what it holds (schema, counts, every file's size and sha256).

`manifest.json` lists every other file of the backup; `manifest.sha256` holds the sha256 of
manifest.json's bytes, so one flipped byte anywhere (a file, or the manifest itself) is found.
Both are written last: a backup without them is not one.

A file is listed with one sha256, or (format 2: the SQLite copy of a folder backup, hashed
while SQLite writes it) with `sha256_parts`, the sha256 of each of its consecutive pieces:
the first page, which SQLite writes last, then the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import PurePosixPath
from typing import IO, Any

from annotations.catalogue.files import ORIGINALS
from annotations.errors import AnnotationError

FORMAT = "annotator-backup/2"
#: the formats this version reads: 1 lists one sha256 per file, 2 may list a file in parts
READABLE = ("annotator-backup/1", FORMAT)
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
#: the database's file in a backup, by engine
DATABASE_FILES = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
IMAGES = "images"
KEYS = "keys"
#: a deployment's own labels (DATA_DIR/labels.json), kept when there is one
LABELS = "labels.json"
CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_ENTRY_KEYS = ({"path", "size", "sha256"}, {"path", "size", "sha256_parts"})


class BackupError(AnnotationError):
    """A backup that cannot be made, checked or restored; the message is one line."""


def sha256_stream(
    stream: IO[bytes], sink: IO[bytes] | None = None, limit: int | None = None
) -> tuple[int, str]:
    """The size and sha256 of what `stream` holds (its next `limit` bytes at most), read in
    chunks (and written to `sink`)."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while limit is None or size < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - size)
        count = stream.readinto(view[:want]) if hasattr(stream, "readinto") else 0
        if not count:
            break
        digest.update(view[:count])
        if sink is not None:
            sink.write(view[:count])
        size += count
    return size, digest.hexdigest()


def parts(entry: dict[str, Any]) -> list[tuple[int, str]]:
    """The (size, sha256) of each consecutive piece a manifest entry's file is hashed in."""
    if "sha256_parts" in entry:
        return [(int(part["size"]), str(part["sha256"])) for part in entry["sha256_parts"]]
    return [(int(entry["size"]), str(entry["sha256"]))]


def matches(stream: IO[bytes], entry: dict[str, Any], sink: IO[bytes] | None = None) -> bool:
    """Whether what `stream` holds is the file `entry` lists, byte for byte (copied to `sink`
    as it is read)."""
    for size, digest in parts(entry):
        if sha256_stream(stream, sink, limit=size) != (size, digest):
            return False
    return sha256_stream(stream, sink, limit=1)[0] == 0  # and nothing after it


def plain_name(name: str) -> bool:
    """Whether `name` is a plain file name (no folder, no '..'), as COGs and keys are named."""
    return bool(_NAME.fullmatch(name)) and name not in (".", "..")


def allowed_path(path: str) -> bool:
    """Whether a manifest may list `path`: the database, labels, images/<name>, keys/<name>,
    originals/<sha256> (press pictures as received)."""
    if path in DATABASE_FILES.values() or path == LABELS:
        return True
    parts = PurePosixPath(path).parts
    if len(parts) != 2 or "/".join(parts) != path:
        return False
    if parts[0] == ORIGINALS:
        return bool(_SHA256.fullmatch(parts[1]))
    return parts[0] in (IMAGES, KEYS) and plain_name(parts[1])


def version() -> str:
    try:
        return metadata.version("annotator")
    except metadata.PackageNotFoundError:
        return "unknown"


def build(
    engine: str, revision: str, counts: dict[str, int], files: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "annotator_version": version(),
        "schema_revision": revision,
        "engine": engine,
        "counts": counts,
        "files": files,
    }


def encode(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def digest_line(raw: bytes) -> bytes:
    return (hashlib.sha256(raw).hexdigest() + "\n").encode("ascii")


def parse(raw: bytes, digest: bytes, where: str) -> dict[str, Any]:
    """The manifest from its bytes, once they match `digest` and have the expected shape."""
    stated = digest.decode("ascii", errors="replace").strip()
    if stated != hashlib.sha256(raw).hexdigest():
        raise BackupError(
            f"{where}: {MANIFEST} does not match {MANIFEST_HASH}: the backup was changed or damaged"
        )
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise BackupError(f"{where}: {MANIFEST} is not valid JSON") from None
    problem = _shape_problem(manifest)
    if problem:
        raise BackupError(f"{where}: {MANIFEST} {problem}")
    result: dict[str, Any] = manifest
    return result


def _shape_problem(manifest: Any) -> str | None:
    if not isinstance(manifest, dict):
        return "is not a JSON object"
    if manifest.get("format") not in READABLE:
        return f"is not an {FORMAT} manifest (format {manifest.get('format')!r})"
    engine = manifest.get("engine")
    if engine not in DATABASE_FILES:
        return f"names an unknown database engine {engine!r}"
    if not isinstance(manifest.get("schema_revision"), str):
        return "has no schema revision"
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in counts.items()
    ):
        return "has no table counts"
    files = manifest.get("files")
    if not isinstance(files, list):
        return "has no file list"
    seen: set[str] = set()
    for entry in files:
        if not isinstance(entry, dict) or set(entry) not in _ENTRY_KEYS:
            return "has a file entry that is not {path, size, sha256 or sha256_parts}"
        path, size = entry["path"], entry["size"]
        if not isinstance(path, str) or not allowed_path(path) or path in seen:
            return f"lists a file it may not hold: {path!r}"
        if type(size) is not int or size < 0:
            return f"has a bad size for {path}"
        if not _good_hashes(entry):
            return f"has a bad sha256 for {path}"
        seen.add(path)
    if DATABASE_FILES[engine] not in seen:
        return f"lists no {DATABASE_FILES[engine]}"
    return None


def _good_hashes(entry: dict[str, Any]) -> bool:
    """One sha256, or pieces {size, sha256} whose sizes add up to the file's."""
    if "sha256" in entry:
        return isinstance(entry["sha256"], str) and bool(_SHA256.fullmatch(entry["sha256"]))
    pieces = entry["sha256_parts"]
    if not isinstance(pieces, list) or not pieces:
        return False
    for piece in pieces:
        if not isinstance(piece, dict) or set(piece) != {"size", "sha256"}:
            return False
        if type(piece["size"]) is not int or piece["size"] < 0:
            return False
        if not isinstance(piece["sha256"], str) or not _SHA256.fullmatch(piece["sha256"]):
            return False
    return sum(piece["size"] for piece in pieces) == entry["size"]
