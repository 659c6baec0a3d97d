"""Resumable uploads in chunks, kept in the data folder's tmp until they are handed on.

An upload is started with its file name and its whole size (within a cap) and belongs to
the user who started it. Its bytes then arrive in order, one chunk per request, each saying
where it starts (`Content-Range: bytes <first>-<last>/<size>`). A chunk must start where the
received bytes end: one that does not is refused with the offset to go on from, so a client
whose connection dropped asks how much arrived and sends the rest (nothing twice). A chunk
whose body stops short is cut back off, so the offset is always where a whole chunk ended.

On disk: `<root>/<id>/meta.json` (owner, name, size, started) and `<root>/<id>/data`.
A finished upload is moved out by its taker (`take`); a cancelled one is removed; one not
touched for the expiry time is removed by `sweep`, which runs when an upload starts.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

#: bytes read from a request body at a time
PIECE = 1 << 20
CONTENT_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class UploadError(Exception):
    """A refusal, with the HTTP status the web side answers and details for the client."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, **details: int | str) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NoSuchUpload(UploadError):
    status = 404
    code = "not_found"


class WrongOffset(UploadError):
    status = 409
    code = "conflict"


class TooLarge(UploadError):
    status = 413
    code = "too_large"


class Incomplete(UploadError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class Upload:
    id: str
    owner: str
    name: str
    size: int
    received: int
    started: float

    @property
    def complete(self) -> bool:
        return self.received == self.size

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "received": self.received,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class Chunks:
    """The uploads under `root`, each at most `max_bytes`, gone after `expire_s` untouched."""

    root: Path
    max_bytes: int
    max_chunk_bytes: int
    expire_s: float

    def start(self, owner: str, name: str, size: int) -> Upload:
        if size < 1:
            raise UploadError("an upload needs its size in bytes (more than 0)")
        if size > self.max_bytes:
            raise TooLarge(
                f"{name} is {size} bytes; one file may be at most {self.max_bytes} bytes",
                limit=self.max_bytes,
            )
        self.sweep()
        upload_id = uuid.uuid4().hex
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        meta = {"owner": owner, "name": name[:255], "size": size, "started": time.time()}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        (folder / "data").touch()
        return self.get(owner, upload_id)

    def get(self, owner: str, upload_id: str) -> Upload:
        """The upload, if `owner` started it (anyone else is told there is none)."""
        folder = self._folder(upload_id)
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            received = (folder / "data").stat().st_size
        except (OSError, ValueError):
            raise NoSuchUpload(f"no upload {upload_id}") from None
        if meta.get("owner") != owner:
            raise NoSuchUpload(f"no upload {upload_id}")
        return Upload(
            id=upload_id,
            owner=owner,
            name=str(meta["name"]),
            size=int(meta["size"]),
            received=received,
            started=float(meta["started"]),
        )

    def append(self, owner: str, upload_id: str, content_range: str, body: IO[bytes]) -> Upload:
        """Write one chunk (see the module); returns the upload with its new offset."""
        match = CONTENT_RANGE.match(content_range or "")
        if match is None:
            raise UploadError(
                "send each chunk with Content-Range: bytes <first>-<last>/<size>",
                header=content_range[:100] if content_range else "",
            )
        first, last, total = (int(g) for g in match.groups())
        upload = self.get(owner, upload_id)
        if total != upload.size or last < first or last >= total:
            raise UploadError(
                f"Content-Range {content_range} does not fit an upload of {upload.size} bytes",
                size=upload.size,
            )
        length = last - first + 1
        if length > self.max_chunk_bytes:
            raise TooLarge(
                f"a chunk may be at most {self.max_chunk_bytes} bytes",
                limit=self.max_chunk_bytes,
            )
        with self._locked(upload_id) as data:
            data.seek(0, 2)
            offset = data.tell()
            if first != offset:
                raise WrongOffset(
                    f"this upload has {offset} bytes; send the chunk that starts there",
                    offset=offset,
                )
            written = 0
            try:
                while written < length:
                    piece = body.read(min(PIECE, length - written))
                    if not piece:
                        break
                    data.write(piece)
                    written += len(piece)
                extra = body.read(1)
            except BaseException:
                data.truncate(offset)
                raise
            if written != length or extra:
                data.truncate(offset)
                raise UploadError(
                    f"the chunk's body is not the {length} bytes its Content-Range says",
                    offset=offset,
                )
            data.flush()
        return self.get(owner, upload_id)

    def take(self, owner: str, upload_id: str, target: Path) -> Upload:
        """Move a complete upload's bytes to `target` and forget the upload."""
        upload = self.get(owner, upload_id)
        if not upload.complete:
            raise Incomplete(
                f"{upload.name} has {upload.received} of {upload.size} bytes; send the rest first",
                offset=upload.received,
            )
        folder = self._folder(upload_id)
        shutil.move(folder / "data", target)
        shutil.rmtree(folder, ignore_errors=True)
        return upload

    def cancel(self, owner: str, upload_id: str) -> None:
        self.get(owner, upload_id)
        shutil.rmtree(self._folder(upload_id), ignore_errors=True)

    def sweep(self) -> list[str]:
        """Remove uploads untouched for the expiry time; returns their ids."""
        gone: list[str] = []
        if not self.root.is_dir():
            return gone
        now = time.time()
        for folder in self.root.iterdir():
            try:
                touched = max(p.stat().st_mtime for p in (folder, *folder.iterdir()))
            except (OSError, ValueError):
                touched = 0.0
            if now - touched > self.expire_s:
                shutil.rmtree(folder, ignore_errors=True)
                gone.append(folder.name)
        return gone

    def _folder(self, upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id):
            raise NoSuchUpload(f"no upload {upload_id[:40]}")
        return self.root / upload_id

    @contextmanager
    def _locked(self, upload_id: str) -> Iterator[BinaryIO]:
        """The upload's data file, held against a second chunk writing at the same time."""
        try:
            data = (self._folder(upload_id) / "data").open("r+b")
        except OSError:
            raise NoSuchUpload(f"no upload {upload_id}") from None
        with data:
            try:
                fcntl.flock(data.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WrongOffset(
                    "another chunk of this upload is being written; ask for the offset again"
                ) from None
            yield data
