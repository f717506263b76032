"""A variational loop: 100 sequential EstimatorV2 calls, through ``connect()`` and in process.

The loop of a variational algorithm: a 4-qubit hardware-efficient ansatz (``ry`` layers and a
``cx`` ladder, 8 parameters) transpiled for FakeManilaV2, 4 observables (ZZII, IZZI, IIZZ,
XXXX), precision 1/32; each call sends one parameter set drawn from a seeded generator and waits
for its result before the next, as an optimizer does. Timed from the first call to the last
result, over ``--calls`` calls (100), ``--runs`` times:

- ``in process`` (the baseline): ``BackendEstimatorV2`` on an ideal ``AerSimulator()``;
- ``local testing mode``: IBM's ``EstimatorV2(mode=AerSimulator())``, beside it;
- ``connect()``: ``EstimatorV2`` on ``fake_manila@aer_ideal`` of this package's server (started
  here with one warm worker), through ``jupyter_qiskit_runtime.connect()``.

Target (issue 13): the loop through ``connect()`` takes at most 3x the loop in process.

    python benchmarks/variational.py [--calls 100] [--runs 3] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
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
from benchmarks.server import METER, BenchmarkServer  # noqa: E402

BACKEND = "fake_manila@aer_ideal"
PRECISION = 1 / 32
TARGET = 3.0
BASELINE = "in process (BackendEstimatorV2, AerSimulator)"
LOCAL = "IBM local testing mode (EstimatorV2(mode=AerSimulator()))"
CONNECT = "server, connect()"


def ansatz() -> tuple[Any, list[Any]]:
    """The ISA ansatz for FakeManilaV2 and its 4 observables, laid out as the circuit is."""
    from qiskit.circuit.library import n_local
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    circuit = n_local(4, "ry", "cx", entanglement="linear", reps=1)
    isa = generate_preset_pass_manager(1, backend=FakeManilaV2(), seed_transpiler=1).run(circuit)
    observables = [
        SparsePauliOp(label).apply_layout(isa.layout) for label in ("ZZII", "IZZI", "IIZZ", "XXXX")
    ]
    return isa, observables


def loop(estimator: Any, circuit: Any, observables: list[Any], calls: int) -> Callable[[], None]:
    """``calls`` sequential estimator calls, each waiting for its result."""
    import numpy as np

    def run() -> None:
        rng = np.random.default_rng(7)
        for _ in range(calls):
            values = rng.uniform(0, np.pi, circuit.num_parameters)
            result = estimator.run([(circuit, observables, values)], precision=PRECISION).result()
            assert len(result[0].data.evs) == len(observables)

    return run


def main() -> None:
    """Run the loop every way and print the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="estimator calls in a loop")
    parser.add_argument("--runs", type=int, default=3, help="loops per way (default 3)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.calls, args.runs = min(args.calls, 20), 1
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    from qiskit.primitives import BackendEstimatorV2
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import EstimatorV2

    from jupyter_qiskit_runtime import connect

    METER.install()
    circuit, observables = ansatz()
    seconds: dict[str, list[float]] = {BASELINE: [], LOCAL: [], CONNECT: []}
    requests_per_call: list[float] = []
    with BenchmarkServer("variational-token", "--QiskitRuntimeApp.prestart_workers=1") as server:
        service = connect(server.url, server.token)
        ways = {
            BASELINE: loop(BackendEstimatorV2(backend=AerSimulator()), circuit, observables, 3),
            LOCAL: loop(EstimatorV2(mode=AerSimulator()), circuit, observables, 3),
            CONNECT: loop(EstimatorV2(mode=service.backend(BACKEND)), circuit, observables, 3),
        }
        for way in ways.values():  # warm: imports, the worker, the backend's properties
            way()
        full = {
            BASELINE: loop(
                BackendEstimatorV2(backend=AerSimulator()), circuit, observables, args.calls
            ),
            LOCAL: loop(EstimatorV2(mode=AerSimulator()), circuit, observables, args.calls),
            CONNECT: loop(
                EstimatorV2(mode=service.backend(BACKEND)), circuit, observables, args.calls
            ),
        }
        for run in range(args.runs):
            for name, way in full.items():
                progress(f"variational: run {run + 1}, {name}")
                count = METER.count
                start = time.perf_counter()
                way()
                seconds[name].append(time.perf_counter() - start)
                if name == CONNECT:
                    requests_per_call.append((METER.count - count) / args.calls)

    base = Stats.of(seconds[BASELINE])
    lines = [
        f"| way | {stats_header('s')} | per call (ms) | median / in process |",
        f"|---|{STATS_ALIGN}|---:|---:|",
    ]
    for name, values in seconds.items():
        stats = Stats.of(values)
        lines.append(
            f"| {name} | {stats.cells(1, 2)} | {stats.median / args.calls * 1e3:.1f} "
            f"| {ratio(stats, base):.2f} |"
        )
    connect_stats = Stats.of(seconds[CONNECT])
    r = ratio(connect_stats, base)
    per_call = sorted(requests_per_call)[len(requests_per_call) // 2]
    bound = ""
    if r > TARGET:
        bound = (
            f"a call through connect() took {connect_stats.median / args.calls * 1e3:.1f} ms "
            f"against {base.median / args.calls * 1e3:.1f} ms in process, with "
            f"{per_call:.2f} HTTP requests per call; the rest is the job's path through the "
            "server and its worker (see the latency and throughput sections' breakdowns)"
        )
    targets = [
        Target(
            f"variational loop through connect() ≤ {TARGET:g}x the loop in process",
            f"{r:.2f}x: {connect_stats.median:.2f} s against {base.median:.2f} s "
            f"({args.calls} calls, {connect_stats.n} runs each)",
            r <= TARGET,
            bound,
        )
    ]
    body = [
        f"{args.calls} sequential `EstimatorV2` calls (4-qubit `ry`/`cx` ansatz with "
        f"{circuit.num_parameters} parameters, transpiled for FakeManilaV2; 4 observables; "
        "precision 1/32), each waiting for its result, as an optimizer loop does. "
        f"`connect()` runs on `{BACKEND}` of a server started here with one warm worker; "
        f"it sent {per_call:.2f} HTTP requests per call (median over runs). Times in s for "
        "the whole loop.",
        "",
        "\n".join(lines),
    ]
    finish(args, started, "variational", "Variational loop", body, targets)


if __name__ == "__main__":
    main()
