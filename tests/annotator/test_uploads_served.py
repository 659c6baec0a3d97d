"""A resumable upload through a real `annotator serve`: a client whose connection drops in the
middle of a chunk leaves the upload at its last whole chunk (the server hands the app whole
bodies only), goes on from there, and its ingest job is run by the embedded worker."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

from tests.annotator.test_durability import prepare, serving
from tests.annotator.test_jobs_served import call, ended
from tests.conftest import write_geotiff

CHUNK = 64 * 1024


def put(base: str, token: str, upload_id: str, content: bytes, first: int) -> dict[str, int]:
    piece = content[first : first + CHUNK]
    status, body = call(
        f"{base}/api/v1/uploads/{upload_id}", token, "PUT", data=piece,
        headers={"Content-Range": f"bytes {first}-{first + len(piece) - 1}/{len(content)}",
                 "Content-Type": "application/octet-stream"},
    )  # fmt: skip
    assert status == 200, body
    return dict(body)


def test_a_dropped_chunk_is_resumed_through_annotator_serve(
    tmp_path: Path, shared_data: Path
) -> None:
    instance = prepare(tmp_path, shared_data)
    data = np.random.default_rng(8).integers(1, 255, (3, 200, 300), dtype=np.uint8)
    content = write_geotiff(tmp_path / "dropped.tif", data).read_bytes()
    with serving(instance, "server") as server:
        base = f"http://127.0.0.1:{server.port}"
        status, upload = call(
            f"{base}/api/v1/uploads", instance.token, "POST",
            data=json.dumps({"name": "dropped.tif", "size": len(content)}).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 201, upload
        assert put(base, instance.token, upload["id"], content, 0)["received"] == CHUNK
        # the second chunk's connection drops half-way through its body
        head = (
            f"PUT /api/v1/uploads/{upload['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {instance.token}\r\n"
            f"Content-Range: bytes {CHUNK}-{2 * CHUNK - 1}/{len(content)}\r\n"
            f"Content-Length: {CHUNK}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as dropped:
            dropped.sendall(head.encode() + content[CHUNK : CHUNK + CHUNK // 2])
        status, state = call(f"{base}/api/v1/uploads/{upload['id']}", instance.token)
        assert status == 200 and state["received"] == CHUNK, state
        first = state["received"]
        while first < len(content):
            first = put(base, instance.token, upload["id"], content, first)["received"]
        status, job = call(
            f"{base}/api/v1/uploads/ingest", instance.token, "POST",
            data=json.dumps({"uploads": [upload["id"]], "provider": "Airbus"}).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 202 and job["kind"] == "ingest", job
        done = ended(base, instance.token, job["id"])
        assert done["status"] == "done", (done, server.tail())
        image = call(f"{base}{done['result']['images'][0]['href']}", instance.token)[1]
    assert image["original_filename"] == "dropped.tif" and image["provider"] == "Airbus"
    uploads = instance.data_dir / "tmp" / "uploads"  # shared by the server's processes
    assert uploads.is_dir() and not any(uploads.iterdir())
