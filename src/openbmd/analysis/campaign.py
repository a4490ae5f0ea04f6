"""Monte Carlo campaigns: draws, chunks and executors (serial, processes, Dask), one code path.

A campaign draws every uncertain parameter once per trial from the trial's own stream
(``numpy.random.SeedSequence(seed).spawn(n)``), so a trial's values depend on its index only;
each trial's outcomes depend on its values only. The executors differ only in *where*
:func:`run_chunk` runs, so the assembled Dataset is bit-identical serial, in processes and on
any Dask cluster, with any number of workers and any chunking.

A *model* is any picklable object with a ``token`` (str, names its prepared state),
``pieces`` (int: how its work splits for one trial, e.g. the engageability pairs and the
footprint's grid tiles), ``prepare() -> state`` (expensive set-up, run once per worker process
and kept in :data:`_PREPARED`), ``evaluate(state, values, piece) -> dict[str, ndarray]``
(values ``(k, P)``, arrays ``(k, ...)``) and ``combine(list of per-piece dicts) -> dict``
(the pieces' outcomes, each ``(n, ...)`` in trial order, into the campaign's). A task is one
chunk of trials × one piece. Trials are sorted by their quantised values before chunking, so a
chunk needs few distinct fly-out fans (built up front into a shared store, only read here).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from openbmd.analysis.heap import keep_freed_memory
from openbmd.errors import InputError

__all__ = [
    "DISTRIBUTIONS",
    "EXECUTORS",
    "Distribution",
    "Parameter",
    "TrialModel",
    "chunks",
    "draw",
    "generator",
    "run_chunk",
    "run_trials",
]

FloatArray = NDArray[np.float64]
EXECUTORS = ("serial", "processes", "dask")
DISTRIBUTIONS = ("uniform", "normal", "truncnormal", "triangular", "loguniform", "choice")
#: Executor-side failures retried per chunk before the campaign gives up.
RETRIES = 2
#: Prepared model states of this process, by token (one model per campaign; bounded to 4).
_PREPARED: dict[str, Any] = {}

Progress = Callable[[int, int], None]


class TrialModel(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def pieces(self) -> int: ...

    def prepare(self) -> Any: ...

    def evaluate(self, state: Any, values: FloatArray, piece: int) -> dict[str, Any]: ...

    def combine(self, parts: list[dict[str, Any]]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Distribution:
    """A one-dimensional distribution; ``args`` by kind (SI units of the parameter).

    ``uniform (low, high)``, ``normal (mean, sd)``, ``truncnormal (mean, sd, low, high)``,
    ``triangular (low, mode, high)``, ``loguniform (low, high)``, ``choice (v1, …, vk)``
    (equal weights; repeat a value to weight it).
    """

    kind: str
    args: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.kind not in DISTRIBUTIONS:
            raise InputError(field="distribution", message=f"unknown {self.kind!r}")

    def __call__(self, rng: np.random.Generator) -> float:
        a = self.args
        if self.kind == "uniform":
            return float(rng.uniform(a[0], a[1]))
        if self.kind == "normal":
            return float(rng.normal(a[0], a[1]))
        if self.kind == "truncnormal":
            lo, hi = (a[2] - a[0]) / a[1], (a[3] - a[0]) / a[1]
            return float(stats.truncnorm.ppf(rng.uniform(), lo, hi, loc=a[0], scale=a[1]))
        if self.kind == "triangular":
            return float(rng.triangular(a[0], a[1], a[2]))
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(a[0]), math.log(a[1]))))
        return float(a[int(rng.integers(len(a)))])

    def describe(self) -> str:
        return f"{self.kind}({', '.join(f'{v:g}' for v in self.args)})"


@dataclass(frozen=True)
class Parameter:
    """An uncertain parameter: its path, SI unit, distribution, source and grid.

    ``quantum`` [its unit]: drawn values are rounded to this grid before use (``None``: used
    as drawn) — e.g. burnout speeds, so fly-out fans are built per grid value and reused.
    """

    name: str
    units: str
    distribution: Distribution
    source: str
    quantum: float | None = None

    def use(self, drawn: FloatArray) -> FloatArray:
        if self.quantum is None:
            return drawn
        return np.round(drawn / self.quantum) * self.quantum


def generator(*entropy: int) -> np.random.Generator:
    """The generator of a stream named by integers (the campaign's seed first): the one place
    a campaign makes generators, so every stream is derived from the user's ``--seed``."""
    return np.random.default_rng(np.random.SeedSequence(list(entropy)))


def draw(parameters: Sequence[Parameter], seed: int, n: int) -> tuple[FloatArray, FloatArray]:
    """Drawn and used values, each (n, P); trial i draws from ``SeedSequence(seed).spawn(n)[i]``."""
    if n < 1:
        raise InputError(field="trials", message=f"{n} must be at least 1")
    streams = np.random.SeedSequence(seed).spawn(n)
    drawn = np.empty((n, len(parameters)))
    for i, ss in enumerate(streams):  # scalar draws; the trials' compute is batched elsewhere
        rng = np.random.Generator(np.random.PCG64(ss))
        drawn[i] = [p.distribution(rng) for p in parameters]
    used = np.stack([p.use(drawn[:, j]) for j, p in enumerate(parameters)], axis=1)
    return drawn, used.reshape(n, len(parameters))


def chunks(used: FloatArray, quantised: Sequence[bool], n_chunks: int) -> list[NDArray[np.intp]]:
    """Trial indices in ``n_chunks`` contiguous runs of trials sorted by their quantised values."""
    cols = [used[:, j] for j in range(used.shape[1]) if quantised[j]][::-1]
    order = np.lexsort(cols) if cols else np.arange(used.shape[0])
    return [c for c in np.array_split(order.astype(np.intp), n_chunks) if c.size]


def run_chunk(
    model: TrialModel, index: NDArray[np.intp], values: FloatArray, piece: int = 0
) -> Any:
    """Evaluate one chunk of trials on one piece (the task of every executor).

    The model is prepared once per process. The trials run on one numba thread whatever the
    executor: their kernels are called on tens to thousands of points at a time, where waking
    an OpenMP team costs more than the work (measured: a trial at a built fan took ≈ 1.2 s on
    2 threads, 0.12 s on 1, docs/benchmarks.md), and a worker per core with its own team
    oversubscribes the cores. The process's heap keeps freed memory for the next temporaries
    (:mod:`openbmd.analysis.heap`: a Dask worker's environment would otherwise cost ≈ 30 % of
    the compute). Returns (index, piece, outcomes, compute [s], set-up [s]).
    """
    import numba

    keep_freed_memory()
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        state = _PREPARED.get(model.token)
        if state is None:
            if len(_PREPARED) >= 4:
                _PREPARED.clear()
            state = _PREPARED[model.token] = model.prepare()
        t1 = time.perf_counter()
        out = model.evaluate(state, values, piece)
        return index, piece, out, time.perf_counter() - t1, t1 - t0
    finally:
        numba.set_num_threads(before)


def _serial(
    model: TrialModel, tasks: list[tuple[Any, FloatArray, int]], progress: Progress
) -> list[Any]:
    done = []
    for k, task in enumerate(tasks):
        done.append(run_chunk(model, *task))
        progress(k + 1, len(tasks))
    return done


def _processes(
    model: TrialModel, tasks: list[tuple[Any, FloatArray, int]], workers: int, progress: Progress
) -> list[Any]:
    """A process pool; a broken pool (a killed worker) is replaced and its chunks resubmitted."""
    results: dict[int, Any] = {}
    tries = dict.fromkeys(range(len(tasks)), 0)
    while len(results) < len(tasks):
        # spawn, not fork: numba's OpenMP threads do not survive a fork
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futs: dict[Future[Any], int] = {
                pool.submit(run_chunk, model, *tasks[k]): k
                for k in range(len(tasks))
                if k not in results
            }
            for fut, k in futs.items():
                try:
                    results[k] = fut.result()
                    progress(len(results), len(tasks))
                except Exception:  # BrokenProcessPool too: a new pool takes the rest
                    tries[k] += 1
                    if tries[k] > RETRIES:
                        raise
    return [results[k] for k in range(len(tasks))]


def _dask(
    model: TrialModel,
    tasks: list[tuple[Any, FloatArray, int]],
    scheduler: str | None,
    workers: int,
    progress: Progress,
) -> list[Any]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            futs = [
                client.submit(run_chunk, model, *task, retries=RETRIES, pure=False)
                for task in tasks
            ]
            for k, _ in enumerate(as_completed(futs), start=1):
                progress(k, len(tasks))
            out: list[Any] = client.gather(futs)
            return out
    finally:
        if cluster is not None:
            cluster.close()


def run_trials(
    model: TrialModel,
    used: FloatArray,
    quantised: Sequence[bool],
    executor: str = "serial",
    *,
    workers: int = 2,
    scheduler: str | None = None,
    chunk_trials: int | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, FloatArray], dict[str, float]]:
    """Run every trial of ``used`` ``(n, P)``; outcomes stacked in trial order, and timings.

    Tasks: chunks of ``chunk_trials`` trials (default ``n / (2 × workers)``, at least 8 and at
    most 50 trials: few enough tasks that scheduling stays a few per cent of the work, enough
    that a lost worker costs little and the two workers finish together; serial: 50, for the
    progress bar) × the model's pieces. Timings: ``wall_s``, ``compute_s`` (sum over tasks of
    ``evaluate``), ``setup_s`` (sum of the per-process ``prepare``), ``chunks`` (tasks);
    wall − (compute + set-up) ÷ workers is the scheduling overhead.
    """
    if executor not in EXECUTORS:
        raise InputError(field="executor", message=f"{executor!r}; valid: {', '.join(EXECUTORS)}")
    if executor == "serial" and scheduler is not None:
        raise InputError(field="scheduler", message="needs --executor dask")
    n = used.shape[0]
    size = chunk_trials or (50 if executor == "serial" else min(50, max(8, n // (2 * workers))))
    parts = chunks(used, quantised, math.ceil(n / size))
    pieces = int(getattr(model, "pieces", 1))
    tasks = [(idx, used[idx], piece) for idx in parts for piece in range(pieces)]
    report = progress or (lambda done, total: None)
    t0 = time.perf_counter()
    if executor == "serial":
        done = _serial(model, tasks, report)
    elif executor == "processes":
        done = _processes(model, tasks, workers, report)
    else:
        done = _dask(model, tasks, scheduler, workers, report)
    wall = time.perf_counter() - t0
    per_piece: list[dict[str, FloatArray]] = [{} for _ in range(pieces)]
    for idx, piece, res, *_ in done:
        out = per_piece[piece]
        for key, arr in res.items():
            if key not in out:
                out[key] = np.empty((n, *np.shape(arr)[1:]), dtype=np.asarray(arr).dtype)
            out[key][idx] = arr
    combine = getattr(model, "combine", None)
    result = combine(per_piece) if combine is not None else per_piece[0]
    timing = {
        "wall_s": wall,
        "compute_s": float(sum(d[3] for d in done)),
        "setup_s": float(sum(d[4] for d in done)),
        "chunks": len(done),
    }
    return result, timing
