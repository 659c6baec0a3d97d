"""`annotator serve` runs one job worker beside gunicorn (not one per gunicorn worker): an
upload answered 202 is ingested with nothing else started; a worker killed outright is
replaced; the worker ends with the server."""

from __future__ import annotations

import io
import json
import os
import signal
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.annotator.test_durability import prepare, serving
from tests.conftest import write_geotiff
from tests.jobs import wait_until

SECOND = np.random.default_rng(2).integers(1, 255, (3, 300, 400), dtype=np.uint8)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of each live child of `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(entry.name), command))
    return found


def call(url: str, token: str, method: str = "GET", **extra: Any) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, **extra)  # noqa: S310  (local)
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  (local)
        return response.status, json.loads(response.read())


def upload(base: str, token: str, path: Path) -> tuple[int, Any]:
    form: MultiDict[str, Any] = MultiDict()
    form.add("file", FileStorage(io.BytesIO(path.read_bytes()), filename=path.name))
    boundary, body = encode_multipart(form)
    return call(
        f"{base}/api/v1/images?async=1", token, "POST", data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip


def ended(base: str, token: str, job_id: str) -> Any:
    return wait_until(
        lambda: call(f"{base}/api/v1/jobs/{job_id}", token)[1],
        lambda found: found["status"] in ("done", "failed", "cancelled"),
    )


def test_serve_keeps_one_job_worker_that_ends_with_it(tmp_path: Path, shared_data: Path) -> None:
    instance = prepare(tmp_path, shared_data)
    scene = write_geotiff(tmp_path / "scene.tif")
    with serving(instance, "server") as server:
        base = f"http://127.0.0.1:{server.port}"
        status, job = upload(base, instance.token, scene)
        assert status == 202 and job["kind"] == "ingest"
        done = ended(base, instance.token, job["id"])
        assert done["status"] == "done", done
        image = call(f"{base}{done['result']['images'][0]['href']}", instance.token)[1]
        assert image["original_filename"] == "scene.tif"
        [supervisor] = [pid for pid, cmd in children(server.process.pid) if "supervise" in cmd]
        [first] = [pid for pid, _ in children(supervisor)]
        # a worker killed outright is replaced; the new one runs the next upload's job
        os.kill(first, signal.SIGKILL)
        [second] = wait_until(
            lambda: [pid for pid, _ in children(supervisor) if pid != first], bool
        )
        status, job = upload(base, instance.token, write_geotiff(tmp_path / "two.tif", SECOND))
        assert status == 202
        assert ended(base, instance.token, job["id"])["status"] == "done"
        os.kill(server.process.pid, signal.SIGINT)  # the arbiter alone (as Ctrl-C would)
        server.process.wait(timeout=60)
        for pid in (supervisor, second):
            wait_until(lambda pid=pid: {"alive": _alive(pid)}, lambda seen: not seen["alive"])
    assert f"job worker {first} ended (-9); starting another" in server.tail(400)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
