"""Latency of one small job, like against like: the server against the same primitive in process.

Two jobs, each on the noise-free and on the noisy executor:

- a 2-qubit Bell ``SamplerV2`` job with 1024 shots;
- a tiny ``EstimatorV2`` job: the Bell state (unmeasured), observable ZZ, precision 1/32
  (1024 shots).

Each way of running it is timed from ``run(...)`` to ``job.result()`` returning: a few warm-up
runs, then the measured runs back to back, one way after the other (``--interleave`` measures in
rounds instead, one run of every way per round). The tables give the median, minimum and maximum,
and the median as a ratio to the floor measured in the same run.

The ways, for the noise-free case (``@aer_ideal``) and the noisy case (``@aer``):

- ``floor``: ``qiskit.primitives.BackendSamplerV2`` / ``BackendEstimatorV2`` in this process, on
  ``AerSimulator()`` (noise-free) or on ``AerSimulator.from_backend(FakeManilaV2())`` (noisy).
- ``local mode``: IBM's local testing mode, ``qiskit_ibm_runtime.SamplerV2(mode=AerSimulator())``
  (noise-free) or ``SamplerV2(mode=FakeManilaV2())`` (noisy), in this process.
- ``server, unmodified client``: this package's server (started here, on 127.0.0.1, with its
  default settings and one warm worker), reached by a stock ``QiskitRuntimeService`` built with
  the recipe of docs/connecting.md, on ``fake_manila@aer_ideal`` or ``fake_manila@aer``.
- ``server, connect()``: the same server through ``jupyter_qiskit_runtime.connect()``.
- For reference, in the noise-free sampler table only: the unmodified client with
  ``USAGE_DATA_OPT_OUT=True`` (the client then skips the ``inspect.stack()`` it does for every
  request to name its caller), and a second server with ``quick_job_wait=0``, as the stock client
  met the server before it waited for quick jobs (it polls every 0.5 s).

For the server ways the tables also say where the time went: the HTTP requests the client sent
per job and the time spent in them (waiting for the job included; measured by timing
``requests.Session.send`` in this process), and, from the job's metrics, the time the job spent
in the server from its creation to its final state, and the simulation's share of that.

Runs follow each other at once, as in a loop over jobs; ``--pause`` puts an untimed pause after
each run instead, as between interactive runs (a pause lets threads and processes go idle, and
every way pays for waking them up again).

Run it from the repository root: ``python benchmarks/latency.py [--runs N] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import (  # noqa: E402
    STATS_ALIGN,
    Stats,
    Target,
    add_common_arguments,
    finish,
    progress,
    ratio,
    stats_header,
)
from benchmarks.server import (  # noqa: E402
    METER,
    BenchmarkServer,
    environment,
    server_times,
    stock_service,
)

SHOTS = 1024
PRECISION = 1 / 32
FLOOR = "floor"
STOCK = "server, unmodified client"
CONNECT = "server, connect()"

#: Targets for the medians, as ratios to the floor (issue 13), per (program, executor); the
#: noisy sampler has none.
TARGETS: dict[tuple[str, str], dict[str, float]] = {
    ("sampler", "aer_ideal"): {CONNECT: 3.0, STOCK: 5.0},
    ("estimator", "aer_ideal"): {CONNECT: 3.0, STOCK: 5.0},
    ("estimator", "aer"): {CONNECT: 1.3, STOCK: 1.5},
}


def bell_isa(measured: bool = True) -> Any:
    """A Bell pair transpiled for FakeManilaV2 (ISA for ``fake_manila@aer_ideal``)."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if measured:
        circuit.measure_all()
    pm = generate_preset_pass_manager(
        optimization_level=1, backend=FakeManilaV2(), seed_transpiler=1
    )
    return pm.run(circuit)


def sampler_runner(sampler: Any, circuit: Any) -> Callable[[], Any]:
    """One sampler job: run, wait for the result, check its counts; the job."""

    def run_once() -> Any:
        job = sampler.run([circuit], shots=SHOTS)
        counts = job.result()[0].data.meas.get_counts()
        assert sum(counts.values()) == SHOTS, counts
        return job

    return run_once


def estimator_runner(estimator: Any, circuit: Any, observable: Any) -> Callable[[], Any]:
    """One estimator job: run, wait for the result, check its value; the job."""

    def run_once() -> Any:
        job = estimator.run([(circuit, observable)], precision=PRECISION)
        value = float(job.result()[0].data.evs)
        assert 0.5 < value <= 1.2, value
        return job

    return run_once


def with_environment(run: Callable[[], Any], **values: str) -> Callable[[], Any]:
    """``run`` with environment variables set while it runs."""

    def run_once() -> Any:
        with environment(**values):
            return run()

    return run_once


@dataclass
class Timing:
    """What the runs of one way measured."""

    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    http_seconds: list[float] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)


def measure(
    ways: dict[str, Callable[[], Any]], runs: int, warmup: int, pause: float, interleave: bool
) -> dict[str, Timing]:
    """What each way measured over ``runs`` runs after ``warmup`` runs, way after way, or in
    rounds of one run of every way if ``interleave``."""
    timings = {name: Timing() for name in ways}
    order = [list(ways)] * (warmup + runs) if interleave else [[n] * (warmup + runs) for n in ways]
    done = dict.fromkeys(ways, 0)
    for names in order:
        for name in names:
            count, http = METER.count, METER.seconds
            started = time.perf_counter()
            job = ways[name]()
            elapsed = time.perf_counter() - started
            done[name] += 1
            if done[name] > warmup:
                t = timings[name]
                t.seconds.append(elapsed)
                t.requests.append(METER.count - count)
                t.http_seconds.append(METER.seconds - http)
                t.jobs.append(job)
            time.sleep(pause)
    return timings


@dataclass
class CaseResult:
    """One table: a job on one executor, every way."""

    title: str
    table: str
    targets: list[Target]


def case_table(
    title: str, timings: dict[str, Timing], targets_of_case: dict[str, float]
) -> CaseResult:
    """The table of one case, and its targets (ratios to the floor, per way)."""
    floor = Stats.of(timings[FLOOR].seconds)
    lines = [
        f"| way | {stats_header('ms')} | median / floor | HTTP requests per job "
        "| in HTTP (ms) | job in server (ms) | until running (ms) | of which simulating (ms) "
        "| target |",
        f"|---|{STATS_ALIGN}|---:|---:|---:|---:|---:|---:|---:|",
    ]
    targets = []
    for name, timing in timings.items():
        stats = Stats.of(timing.seconds)
        r = ratio(stats, floor)
        requests_cell = http_cell = server_cell = sim_cell = running_cell = ""
        http = Stats.of(timing.http_seconds)
        spans = server_times(timing.jobs) if name.startswith("server") else None
        if timing.requests and max(timing.requests) > 0:
            requests_cell = f"{statistics.median(timing.requests):g}"
            http_cell = f"{http.median * 1e3:.1f}"
        if spans is not None:
            server_cell = f"{spans.total.median * 1e3:.1f}"
            sim_cell = f"{spans.simulating.median * 1e3:.1f}"
            running_cell = f"{spans.to_running.median * 1e3:.1f}"
        target = targets_of_case.get(name)
        lines.append(
            f"| {name} | {stats.cells(1e3)} | {r:.2f} | {requests_cell} | {http_cell} "
            f"| {server_cell} | {running_cell} | {sim_cell} "
            f"| {f'≤ {target:g}x' if target else ''} |"
        )
        if target is None:
            continue
        measured = (
            f"{r:.2f}x: median {stats.median * 1e3:.1f} ms against the floor's "
            f"{floor.median * 1e3:.1f} ms ({stats.n} runs each)"
        )
        bound = ""
        if r > target:
            rest = stats.median - http.median
            bound = (
                f"{target:g}x the floor allows {target * floor.median * 1e3:.1f} ms. The client "
                f"sent {statistics.median(timing.requests):g} HTTP requests per job, "
                f"{http.median * 1e3:.1f} ms in all (waiting for the job included)"
            )
            if spans is not None:
                bound += f"; {spans.words()}"
                if spans.simulating.median > floor.median:
                    bound += (
                        f" (simulating alone took {ratio(spans.simulating, floor):.1f}x the "
                        "floor's whole job)"
                    )
            bound += (
                f"; the client outside its HTTP requests (building and encoding the job, "
                f"decoding the result, any sleep between polls) took the remaining "
                f"{rest * 1e3:.1f} ms (medians)."
            )
        targets.append(
            Target(f"{name} ≤ {target:g}x the floor, {title}", measured, r <= target, bound)
        )
    return CaseResult(title, "\n".join(lines), targets)


def main() -> None:
    """Run the benchmark and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="measured runs per way (default 25)")
    parser.add_argument("--warmup", type=int, default=3, help="runs not measured (default 3)")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds between runs, untimed (default 0)"
    )
    parser.add_argument(
        "--interleave", action="store_true", help="measure in rounds of one run of every way"
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="a further option for both servers, e.g. --server-arg=--QiskitRuntimeApp."
        "journal_mode=WAL (repeatable)",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.warmup = min(args.runs, 5), min(args.warmup, 1)
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import EstimatorV2, SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from jupyter_qiskit_runtime import connect

    METER.install()
    measured, unmeasured = bell_isa(), bell_isa(measured=False)
    zz = SparsePauliOp("ZZ").apply_layout(unmeasured.layout)
    options = ["--QiskitRuntimeApp.prestart_workers=1", *args.server_arg]
    no_wait = "--QiskitRuntimeApp.quick_job_wait=0"
    results = []
    with (
        BenchmarkServer("benchmark-token", *options) as server,
        BenchmarkServer("baseline-token", *options, no_wait) as before,
    ):
        stock = stock_service(server.url, server.token)
        connected = connect(server.url, server.token)
        no_wait_stock = stock_service(before.url, before.token)
        manila = FakeManilaV2()
        simulators = {"aer_ideal": AerSimulator(), "aer": AerSimulator.from_backend(manila)}
        local_modes = {"aer_ideal": AerSimulator(), "aer": manila}
        for program in ("sampler", "estimator"):
            for executor in ("aer_ideal", "aer"):
                backend = f"fake_manila@{executor}"
                if program == "sampler":
                    title = f"Bell sampler, {SHOTS} shots, {backend}"

                    def way(primitive: Any) -> Callable[[], Any]:
                        return sampler_runner(primitive, measured)

                    floor: Any = BackendSamplerV2(backend=simulators[executor])
                    local: Any = SamplerV2(mode=local_modes[executor])
                    primitive: Any = SamplerV2
                else:
                    title = f"Bell estimator (ZZ), precision 1/32, {backend}"

                    def way(primitive: Any) -> Callable[[], Any]:
                        return estimator_runner(primitive, unmeasured, zz)

                    floor = BackendEstimatorV2(backend=simulators[executor])
                    local = EstimatorV2(mode=local_modes[executor])
                    primitive = EstimatorV2
                ways = {
                    FLOOR: way(floor),
                    "local mode": way(local),
                    STOCK: way(primitive(mode=stock.backend(backend))),
                    CONNECT: way(primitive(mode=connected.backend(backend))),
                }
                if program == "sampler" and executor == "aer_ideal":
                    ways["reference: unmodified client, USAGE_DATA_OPT_OUT=True"] = (
                        with_environment(ways[STOCK], USAGE_DATA_OPT_OUT="True")
                    )
                    ways["reference: server without quick wait, unmodified client"] = way(
                        SamplerV2(mode=no_wait_stock.backend(backend))
                    )
                progress(f"latency: {title}")
                timings = measure(ways, args.runs, args.warmup, args.pause, args.interleave)
                results.append(case_table(title, timings, TARGETS.get((program, executor), {})))

    how = (
        f"{args.runs} measured runs of every way after {args.warmup} warm-up runs, "
        f"{'in rounds' if args.interleave else 'way after way'}, {args.pause:g} s apart"
        f"{'; server options ' + ' '.join(args.server_arg) if args.server_arg else ''}"
        f"{'; USAGE_DATA_OPT_OUT=True' if os.environ.get('USAGE_DATA_OPT_OUT') == 'True' else ''}"
    )
    body = [
        "One small job from `run()` to its result, on the server (started by the script on "
        "127.0.0.1 with one warm worker) and, like against like, with the same primitive in "
        "process: the floor is `BackendSamplerV2` / `BackendEstimatorV2` on `AerSimulator()` "
        "for `@aer_ideal` and on `AerSimulator.from_backend(FakeManilaV2())` for `@aer`; "
        '"local mode" is IBM\'s local testing mode (`SamplerV2(mode=AerSimulator())`, '
        '`SamplerV2(mode=FakeManilaV2())`). Times in ms. "in HTTP" is the time the client spent '
        'in its HTTP requests (waiting for the job included); "job in server" is the time from '
        "the job's creation to its final state, from its metrics.",
        "",
        f"Runs: {how}.",
        "",
        "Targets (issue 13): on `@aer_ideal`, `connect()` within 3x the floor and the "
        "unmodified client within 5x, for the sampler and the estimator; on `@aer`, the "
        "estimator through `connect()` within 1.3x and through the unmodified client within "
        "1.5x (the noisy sampler has no target). `connect()` sends one request for a job that "
        "is final within the server's quick wait (the submission's answer carries its state "
        "and result), the unmodified client five.",
    ]
    for case in results:
        body += ["", f"**{case.title}**", "", case.table]
    finish(args, started, "latency", "Latency", body, [t for case in results for t in case.targets])


if __name__ == "__main__":
    main()
