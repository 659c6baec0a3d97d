"""/metrics from a real `annotator serve --workers 2`: the counts of both worker processes,
summed, whichever worker answers the scrape; a worker that dies keeps its counts."""

from __future__ import annotations

import http.client
import os
import re
import signal
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from gunicorn.config import Config
from prometheus_client.multiprocess import MultiProcessCollector

from annotator import create_app, serving
from tests.annotator.test_durability import Server, prepare
from tests.annotator.test_durability import serving as served
from tests.annotator.test_health_metrics import value

ROUTE = "/healthz"
THREADS = 8
#: requests are sent in rounds until both workers have answered some (at most this many)
MAX_ROUNDS = 20
PER_ROUND = 200


def get(port: int, path: str) -> tuple[int, str]:
    """One request on a connection of its own (so the kernel may hand it to either worker)."""
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=60)) as conn:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode()


def burst(port: int, count: int) -> int:
    """`count` GET /healthz from THREADS threads at once; returns how many answered 200."""
    answered: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        done = sum(1 for _ in range(n) if get(port, ROUTE)[0] == 200)
        with lock:
            answered.append(done)

    threads = [
        threading.Thread(target=send, args=(count // THREADS,), daemon=True) for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    return sum(answered)


def metrics_folder(data_dir: Path, server: Server) -> Path:
    found = list((data_dir / "tmp").glob(f"proc-{server.process.pid}-*/metrics"))
    assert len(found) == 1, f"the serve process's metrics folder: {found}"
    return found[0]


def per_worker(folder: Path) -> dict[int, float]:
    """The count of GET /healthz 200 in each worker's own file (counter_<pid>.db)."""
    counts: dict[int, float] = {}
    for path in folder.glob("counter_*.db"):
        pid = int(re.fullmatch(r"counter_(\d+)\.db", path.name).group(1))  # type: ignore[union-attr]
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)], accumulate=True):
            for sample in metric.samples:
                if (
                    sample.name == "annotator_http_requests_total"
                    and sample.labels.get("route") == ROUTE
                    and sample.labels.get("status") == "200"
                ):
                    total += sample.value
        if total:
            counts[pid] = total
    return counts


def scrape_count(port: int) -> float:
    status, text = get(port, "/metrics")
    assert status == 200, text
    return value(text, "annotator_http_requests_total", route=ROUTE, status="200")


def worker_pids(server: Server) -> set[int]:
    """Every worker gunicorn booted, read from the whole log: the requests' own lines can
    push the boot lines out of any tail (CI once saw none in the last 2,000 lines)."""
    text = server.log.read_text(errors="replace")
    return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", text)}


def test_metrics_sum_both_workers(tmp_path: Path, shared_data: Path) -> None:
    instance = prepare(tmp_path, shared_data)
    with served(instance, "metrics") as server:
        folder = metrics_folder(instance.data_dir, server)
        assert os.environ.get(serving.MULTIPROC_ENV) is None, "the test process keeps its own"
        sent = 0
        for _ in range(MAX_ROUNDS):
            sent += burst(server.port, PER_ROUND)
            if len(per_worker(folder)) >= 2:
                break
        workers = per_worker(folder)
        assert len(workers) == 2, f"requests reached only {workers} (log: {server.tail()})"
        assert workers.keys() <= worker_pids(server)
        assert all(count > 0 for count in workers.values())
        assert sum(workers.values()) == sent, "each worker's file holds its own requests"
        # a scrape answered by either worker shows the sum of both
        for _ in range(10):
            assert scrape_count(server.port) == sent

        # a worker killed (as the OOM killer would): its counts stay in the sums, and the
        # worker gunicorn starts in its place adds to them
        victim = next(iter(workers))
        before = worker_pids(server)
        os.kill(victim, signal.SIGKILL)
        while not worker_pids(server) - before:
            assert server.process.poll() is None, server.tail()
            time.sleep(0.1)
        sent += burst(server.port, PER_ROUND)
        assert scrape_count(server.port) == sent
    # the server has ended: its folder goes when the app next starts in this data folder
    # (once the killed processes have all exited, which drops their lock)
    for _ in range(100):
        create_app({"DATA_DIR": str(instance.data_dir), "DATABASE_URL": instance.url})
        if not folder.exists():
            break
        time.sleep(0.1)
    assert not folder.exists()


def test_a_metrics_folder_of_ones_own_is_emptied_of_old_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "prometheus"
    mine.mkdir()
    (mine / "counter_4242.db").write_bytes(b"old")
    (mine / "notes.txt").write_text("not prometheus's: kept")
    monkeypatch.setenv(serving.MULTIPROC_ENV, str(mine))
    assert serving.metrics_folder(tmp_path / "tmp") == mine
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert not (tmp_path / "tmp").exists(), "nothing made under tmp/"
    monkeypatch.delenv(serving.MULTIPROC_ENV)
    made = serving.metrics_folder(tmp_path / "tmp")
    assert made.name == "metrics" and made.parent.parent == tmp_path / "tmp"
    assert list(made.iterdir()) == []
    assert os.environ[serving.MULTIPROC_ENV] == str(made)


def test_gunicorn_takes_only_child_exit_from_the_serving_module() -> None:
    """`--config python:annotator.serving` makes gunicorn read the module's names as settings:
    none but the hook may be one by accident (a `timeout` or `workers` there would apply)."""
    names = set(vars(serving)) & set(Config().settings)
    assert names == {"child_exit"}
    argv = serving.gunicorn_argv("127.0.0.1", 8000, 2, 4, 30)
    assert argv[argv.index("--config") + 1] == "python:annotator.serving"
