"""Parts 2 and 3: an upload over HTTP answered when received and ingested by a job, and tile
serving measured idle and while that job runs."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import morecantile
import rasterio
from rasterio.warp import transform_bounds

from benchmarks.common.servers import REQUEST_TIMEOUT_S, Client, Server
from benchmarks.common.system import status_kb
from benchmarks.common.timing import log, percentile
from benchmarks.ingest.scale import descendants

CHUNK = 1 << 20
POLL_S = 0.5
THREADS = 4


@dataclass(frozen=True)
class Upload:
    """One upload: when the request answered, when the image was ready, and the job's end."""

    status: int
    received_s: float
    ready_s: float
    job_status: str
    peak_rss_mb: float


@dataclass
class TileLoad:
    """Tiles fetched by THREADS keep-alive clients for a while."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)


def tile_paths(image_id: str, cog: Path, zooms: range, count: int) -> list[str]:
    """`count` random tiles inside the image's bounds, over `zooms`."""
    with rasterio.open(cog) as dataset:
        west, south, east, north = transform_bounds(dataset.crs, "EPSG:4326", *dataset.bounds)
    tms = morecantile.tms.get("WebMercatorQuad")
    rng = random.Random(7)
    inner = [
        tile
        for zoom in zooms
        for tile in tms.tiles(west, south, east, north, [zoom])
        if tms.bounds(tile).left >= west and tms.bounds(tile).right <= east
    ]
    chosen = [inner[rng.randrange(len(inner))] for _ in range(count)] if inner else []
    return [f"/tiles/{image_id}/{t.z}/{t.x}/{t.y}.png" for t in chosen]


def load_tiles(server: Server, paths: list[str], seconds: float, stop: threading.Event) -> TileLoad:
    """Fetch tiles from `paths` in turn with THREADS clients for `seconds` (or until `stop`)."""
    load = TileLoad()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work(offset: int) -> None:
        client = Client(server.port, server.headers)
        index = offset
        while time.monotonic() < deadline and not stop.is_set():
            reply = client.get(paths[index % len(paths)])
            index += THREADS
            with lock:
                if reply.status == 200:
                    load.latencies_ms.append(reply.ms)
                else:
                    load.errors += 1
        client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.monotonic() - started
    return load


def _multipart(path: Path, boundary: str) -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: image/tiff\r\n\r\n'
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


def _body(path: Path, head: bytes, tail: bytes) -> Iterator[bytes]:
    yield head
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk
    yield tail


def upload(server: Server, path: Path, on_received: threading.Event) -> Upload:
    """POST `path` to /api/v1/images; wait for its job (if it made one) to end."""
    boundary = uuid.uuid4().hex
    head, tail = _multipart(path, boundary)
    length = len(head) + path.stat().st_size + len(tail)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT_S)
    headers = {
        **server.headers,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
    }
    started = time.perf_counter()
    connection.request(
        "POST", "/api/v1/images?async=1", body=_body(path, head, tail), headers=headers
    )
    response = connection.getresponse()
    answer = json.loads(response.read() or b"{}")
    received = time.perf_counter() - started
    on_received.set()
    location = response.getheader("Location")
    connection.close()
    peak = 0
    status = "done" if response.status == 201 else "?"
    if response.status == 202 and location:
        client = Client(server.port, server.headers)
        while True:
            assert server.process is not None
            # the tree, not the group: the sandbox child of an ingest has a group of its own
            tree = [server.process.pid, *descendants(server.process.pid)]
            peak = max([peak, *(status_kb(pid, "VmHWM") for pid in tree)])
            reply = client.get(location)
            job = json.loads(reply.body or b"{}")
            status = str(job.get("status", "?"))
            if status in ("done", "failed", "cancelled") or reply.status != 200:
                break
            time.sleep(POLL_S)
        client.close()
    elif response.status != 201:
        raise RuntimeError(f"upload answered {response.status}: {answer}")
    ready = time.perf_counter() - started
    log(f"  upload answered {response.status} after {received:.1f} s; {status} after {ready:.1f} s")
    return Upload(response.status, received, ready, status, peak / 1024)


def timeouts_in(log_path: Path) -> int:
    """How many workers gunicorn killed for a timeout, from the server's log."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return text.count("WORKER TIMEOUT")
