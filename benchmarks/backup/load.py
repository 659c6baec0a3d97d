"""The tile client that runs through the whole measurement: one keep-alive connection to
`annotator serve` fetching PNG tiles of one image in a loop (a short pause between
requests, like a person panning), each reply checked and its latency filed under the phase
the benchmark was in when the request began (idle, our backup, the peer's backup)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import morecantile
import rasterio
from rasterio.warp import transform_bounds

from benchmarks.common.servers import Client, Server
from benchmarks.common.timing import percentile

ZOOMS = (16, 17, 18)
#: between a reply and the next request: a steady client, not a flood
THINK_S = 0.05
PNG = b"\x89PNG\r\n\x1a\n"


def tile_paths(image_id: str, cog: Path, seed: int = 17) -> list[str]:
    """Every tile of zooms 16-18 wholly inside the image, shuffled: more distinct tiles
    than the workers' tile caches hold, so most requests render."""
    with rasterio.open(cog) as dataset:
        west, south, east, north = transform_bounds(dataset.crs, "EPSG:4326", *dataset.bounds)
    tms = morecantile.tms.get("WebMercatorQuad")
    paths = []
    for z in ZOOMS:
        for t in tms.tiles(west, south, east, north, [z]):
            b = tms.bounds(t)
            if b.left >= west and b.right <= east and b.bottom >= south and b.top <= north:
                paths.append(f"/tiles/{image_id}/{t.z}/{t.x}/{t.y}.png")
    random.Random(seed).shuffle(paths)
    if not paths:
        raise RuntimeError(f"no tile of zooms {ZOOMS} lies inside {cog.name}")
    return paths


@dataclass
class Sample:
    phase: str
    ms: float
    ok: bool


@dataclass
class TileLoad:
    """The steady tile client, in a thread of this process, until `stop`."""

    server: Server
    paths: list[str]
    phase: str = ""  # "" = between measurements: not filed
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=90)

    def _run(self) -> None:
        client = Client(self.server.port, self.server.headers)
        index = 0
        while not self._stop.is_set():
            phase = self.phase
            reply = client.get(self.paths[index % len(self.paths)])
            index += 1
            ok = reply.status == 200 and reply.body.startswith(PNG)
            if not ok and len(self.errors) < 20:
                self.errors.append(f"HTTP {reply.status} {reply.error or reply.body[:80]!r}")
            if phase:  # filed under what ran when it began
                self.samples.append(Sample(phase, reply.ms, ok))
            self._stop.wait(THINK_S)
        client.close()

    def wait_for(self, phase: str, count: int, timeout_s: float) -> None:
        """Keep `phase` until it has `count` samples (at most `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(self.of(phase)) < count:
            time.sleep(0.05)

    def of(self, prefix: str) -> list[Sample]:
        """The samples of every phase whose name starts with `prefix`."""
        return [s for s in list(self.samples) if s.phase.startswith(prefix)]


def summary(samples: list[Sample]) -> dict[str, float]:
    ms = [s.ms for s in samples]
    return {
        "n": len(ms),
        "failed": sum(not s.ok for s in samples),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "max": max(ms) if ms else float("nan"),
    }
