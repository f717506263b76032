"""Latency of one small job: a 2-qubit Bell ``SamplerV2`` job with 1024 shots.

Each way of running it is timed from ``sampler.run(...)`` to ``job.result()`` returning: a few
warm-up runs, then the measured runs back to back, one way after the other (``--interleave``
measures in rounds instead, one run of every way per round). The table gives the median, minimum
and maximum, and the median as a ratio to the floor: ``BackendSamplerV2`` on an ideal
``AerSimulator`` in this process.

The ways:

- ``floor``: ``qiskit.primitives.BackendSamplerV2(backend=AerSimulator())``, in process.
- ``local mode, AerSimulator``: IBM's local testing mode as its documentation shows it,
  ``qiskit_ibm_runtime.SamplerV2(mode=AerSimulator())``: in process, ideal.
- ``local mode, FakeManilaV2``: local testing mode on the fake backend,
  ``SamplerV2(mode=FakeManilaV2())``: in process, with the backend's noise model.
- ``server, unmodified client``: this package's server (started here, on 127.0.0.1, with its
  default settings and one warm worker), reached by a stock ``QiskitRuntimeService`` built with
  the recipe of docs/connecting.md, on ``fake_manila@aer_ideal``.
- ``server, connect()``: the same server through ``jupyter_qiskit_runtime.connect()``.
- ``server without quick wait, unmodified client``: for reference, a second server with
  ``quick_job_wait=0``, as the stock client met the server before it waited for quick jobs: it
  polls every 0.5 s.

Runs follow each other at once, as in a loop over jobs; ``--pause`` puts an untimed pause after
each run instead, as between interactive runs (a pause lets threads and processes go idle, and
every way pays for waking them up again).

Run it from the repository root: ``python benchmarks/latency.py [--runs N] [--output FILE]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import BenchmarkServer  # noqa: E402

SHOTS = 1024
BACKEND = "fake_manila@aer_ideal"
INSTANCE = "crn:v1:jupyter:public:quantum-computing:local:a/jupyter-qiskit-runtime::"

#: Targets for the medians, as ratios to the floor.
TARGETS = {"server, connect()": 2.0, "server, unmodified client": 3.0}


@contextmanager
def environment(**values: str) -> Any:
    """Set environment variables for a moment, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bell_isa() -> Any:
    """A measured Bell pair transpiled for FakeManilaV2 (ISA for ``fake_manila@aer_ideal``)."""
    from qiskit import QuantumCircuit
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    pm = generate_preset_pass_manager(optimization_level=1, backend=FakeManilaV2())
    return pm.run(circuit)


def runner(sampler: Any, circuit: Any) -> Callable[[], None]:
    """One job: run, wait for the result, check its counts."""

    def run_once() -> None:
        counts = sampler.run([circuit], shots=SHOTS).result()[0].data.meas.get_counts()
        assert sum(counts.values()) == SHOTS, counts

    return run_once


def stock_service(server: BenchmarkServer) -> Any:
    """The client's own ``QiskitRuntimeService`` for the server (docs/connecting.md's recipe)."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    with environment(IAM_URL=f"{server.url}qiskit-runtime/iam", QISKIT_FUNCTIONS_EXPERIMENTAL="1"):
        return QiskitRuntimeService(
            channel="ibm_quantum_platform",
            token=server.token,
            url=server.api,
            instance=INSTANCE,
            url_resolver=lambda url, *args: url,
        )


def measure(
    ways: dict[str, Callable[[], None]], runs: int, warmup: int, pause: float, interleave: bool
) -> dict[str, list[float]]:
    """Seconds per run of each way: ``runs`` runs after ``warmup`` runs, way after way, or in
    rounds of one run of every way if ``interleave``."""
    times: dict[str, list[float]] = {name: [] for name in ways}
    order = [list(ways)] * (warmup + runs) if interleave else [[n] * (warmup + runs) for n in ways]
    for names in order:
        for name in names:
            started = time.perf_counter()
            ways[name]()
            elapsed = time.perf_counter() - started
            times[name].append(elapsed)
            time.sleep(pause)
    return {name: values[warmup:] for name, values in times.items()}


def table(times: dict[str, list[float]], floor: str) -> str:
    """The markdown table of the results."""
    base = statistics.median(times[floor])
    lines = [
        "| way | median (ms) | min (ms) | max (ms) | median / floor | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        target = f"≤ {TARGETS[name]:g}" if name in TARGETS else ""
        lines.append(
            f"| {name} | {median * 1e3:.1f} | {min(values) * 1e3:.1f} | "
            f"{max(values) * 1e3:.1f} | {median / base:.2f} | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="measured rounds (default 25)")
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
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from qiskit.primitives import BackendSamplerV2
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    from jupyter_qiskit_runtime import connect

    circuit = bell_isa()
    options = ["--QiskitRuntimeApp.prestart_workers=1", *args.server_arg]
    no_wait = "--QiskitRuntimeApp.quick_job_wait=0"
    with (
        BenchmarkServer("benchmark-token", *options) as server,
        BenchmarkServer("baseline-token", *options, no_wait) as before,
    ):
        stock = stock_service(server)
        connected = connect(server.url, server.token)
        baseline = stock_service(before)
        ways = {
            "floor": runner(BackendSamplerV2(backend=AerSimulator()), circuit),
            "local mode, AerSimulator": runner(SamplerV2(mode=AerSimulator()), circuit),
            "local mode, FakeManilaV2": runner(SamplerV2(mode=FakeManilaV2()), circuit),
            "server, unmodified client": runner(SamplerV2(mode=stock.backend(BACKEND)), circuit),
            "server, connect()": runner(SamplerV2(mode=connected.backend(BACKEND)), circuit),
            "server without quick wait, unmodified client": runner(
                SamplerV2(mode=baseline.backend(BACKEND)), circuit
            ),
        }
        times = measure(ways, args.runs, args.warmup, args.pause, args.interleave)
    result = table(times, "floor")
    header = (
        f"Bell pair, {SHOTS} shots: {args.runs} runs of each way after {args.warmup} warm-up "
        f"runs, {'in rounds' if args.interleave else 'way after way'}, {args.pause:g} s apart "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
        f"{'; server options ' + ' '.join(args.server_arg) if args.server_arg else ''}"
        f"{'; USAGE_DATA_OPT_OUT=True' if os.environ.get('USAGE_DATA_OPT_OUT') == 'True' else ''}"
        ".\n\n"
    )
    print(header + result)
    if args.output is not None:
        args.output.write_text(header + result + "\n")


if __name__ == "__main__":
    main()
