"""Campaigns on real Dask clusters on 127.0.0.1: the same Dataset as serial, and a lost worker.

A ``LocalCluster(n_workers=2)`` and a ``dask scheduler`` + ``dask worker`` pair started as
subprocesses on loopback ports picked here; every cluster is shut down by its fixture.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
import xarray as xr
from campaign_scenario import TINY

from openbmd.analysis import heap
from openbmd.scenario import parse_scenario
from openbmd.scenario.uncertain import campaign

pytestmark = pytest.mark.slow
TRIALS, SEED = 16, 21


@pytest.fixture(scope="module")
def tiny():
    return parse_scenario(TINY, "tiny.yaml")


@pytest.fixture(scope="module")
def serial(tiny):
    ds = campaign(tiny, trials=TRIALS, seed=SEED)[0]
    assert "area_defended" in ds  # the footprint tiles are compared exactly too
    return ds


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask_cli(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    return subprocess.Popen(
        [sys.executable, "-m", "distributed.cli." + args[0], *args[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _wait_for_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=60) as c:
        c.wait_for_workers(n, timeout=120)


@pytest.fixture
def cli_cluster():
    port = _port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        _dask_cli(
            "dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                _dask_cli(
                    "dask_worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--dashboard-address",
                    ":0",
                )
            )
        _wait_for_workers(address, 2)
        yield address, procs
    finally:
        _stop(procs)


def test_a_local_cluster_of_two_workers_gives_the_serial_dataset(tiny, serial):
    from distributed import Client, LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        got, timing = campaign(
            tiny, trials=TRIALS, seed=SEED, executor="dask", scheduler=cluster.scheduler_address
        )
        with Client(cluster) as client:
            tuned = client.run(lambda: list(heap._done))
    xr.testing.assert_identical(serial, got)
    assert list(tuned.values()) == [[True], [True]]  # each worker's heap keeps freed memory
    assert timing["chunks"] == 2 * 2  # at least 8 trials per chunk x 2 pieces


def test_executor_dask_without_scheduler_starts_its_own_local_cluster(tiny, serial):
    got, _ = campaign(tiny, trials=TRIALS, seed=SEED, executor="dask", chunk_trials=8)
    xr.testing.assert_identical(serial, got)


def test_a_scheduler_and_workers_started_as_processes_give_the_serial_dataset(
    tiny, serial, cli_cluster
):
    address, _ = cli_cluster
    got, _ = campaign(tiny, trials=TRIALS, seed=SEED, executor="dask", scheduler=address)
    xr.testing.assert_identical(serial, got)


def test_killing_a_worker_mid_campaign_still_completes_it_with_the_same_results(
    tiny, serial, cli_cluster
):
    address, procs = cli_cluster
    done: list[int] = []
    first = threading.Event()

    def progress(k: int, total: int) -> None:
        done.append(k)
        first.set()

    result: dict[str, object] = {}

    def run() -> None:
        result["ds"] = campaign(
            tiny,
            trials=TRIALS,
            seed=SEED,
            executor="dask",
            scheduler=address,
            chunk_trials=1,
            progress=progress,
        )[0]

    t = threading.Thread(target=run)
    t.start()
    assert first.wait(timeout=300), "no chunk finished"
    os.killpg(procs[1].pid, signal.SIGKILL)  # one worker dies with its chunks in flight
    procs[1].wait()
    t.join(timeout=600)
    assert not t.is_alive()
    tasks = 2 * TRIALS  # one trial per chunk x (engageability + 1 footprint tile)
    assert done[-1] == tasks and len(done) == tasks
    xr.testing.assert_identical(serial, result["ds"])
