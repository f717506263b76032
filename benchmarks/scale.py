"""Scale: GHZ circuits of a backend's full width, from submission to result, ideal and noisy.

For GHZ on 5, 27, 127 and 156 qubits transpiled at optimization levels 1 and 3 for fake_manila,
fake_kolkata, fake_sherbrooke and fake_fez, the time from ``SamplerV2.run`` to the result
through ``connect()`` (transpilation excluded: it is the client's, and is reported separately),
the simulation method the server chose, or the error it returned, on ``@aer_ideal`` and on
``@aer``. The baseline, like against like, is Aer itself in this process on the same circuit
with the same shots: ``BackendSamplerV2`` on ``AerSimulator()`` (automatic method) for
``@aer_ideal`` and on ``AerSimulator.from_backend(backend)`` for ``@aer``, or its error. Each
figure is the median of ``--runs`` runs (after one warm-up run) with min and max; noisy cases
wider than 20 qubits run once, with ``--wide-noisy-shots`` shots (1 by default): a noisy 27-qubit
GHZ runs shot by shot on a 2 GiB statevector, tens of seconds a shot on a small machine.

    python benchmarks/scale.py [--runs 3] [--shots 1024] [--wide-noisy-shots 1] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.report import Stats, Target, add_common_arguments, finish, progress
from benchmarks.server import BenchmarkServer, server_times

SIZES = {"fake_manila": 5, "fake_kolkata": 27, "fake_sherbrooke": 127, "fake_fez": 156}
QUICK_SIZES = ("fake_manila", "fake_sherbrooke")
#: Noisy circuits wider than this run once, with ``--wide-noisy-shots`` shots.
WIDE = 20
TARGET_BACKEND, TARGET_LEVEL, TARGET_SECONDS = "fake_sherbrooke", 3, 2.0


def ghz(n: int) -> Any:
    """A measured GHZ state on ``n`` qubits."""
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(n)
    qc.h(0)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    qc.measure_all()
    return qc


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], Any, str | None]:
    """Seconds of each run, the outcomes, and the error text if it failed."""
    times, outcomes = [], []
    for _ in range(runs):
        start = time.perf_counter()
        try:
            outcomes.append(call())
        except Exception as exc:  # a refusal is a result here
            return [time.perf_counter() - start], outcomes, f"{type(exc).__name__}: {exc}"
        times.append(time.perf_counter() - start)
    return times, outcomes, None


def sample(sampler: Any, circuit: Any, shots: int) -> Any:
    """Run one circuit on a sampler and wait for the result; the job."""
    job = sampler.run([circuit], shots=shots)
    job.result()
    return job


def aer_error(simulator: Any, circuit: Any, shots: int, error: str) -> str:
    """Aer's own message for a circuit it does not run (``BackendSamplerV2`` hides it behind an
    array error), or ``error`` as it was."""
    try:
        result = simulator.run(circuit, shots=shots).result()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    statuses = [str(r.status) for r in result.results if not r.success]
    return statuses[0] if statuses else error


def short(error: str, limit: int = 140) -> str:
    """The gist of an error, one line, for a table cell."""
    text = " ".join(error.split()).replace("|", "/")
    for marker in ("SimulationRefused: ", "Error: ", "ERROR: "):
        if marker in text:
            text = text[text.index(marker) + len(marker) :]
            break
    return text if len(text) <= limit else text[: limit - 1] + "..."


def stats_cells(times: list[float], error: str | None) -> str:
    """``runs | median | min | max`` in seconds; for a failure, the time it took to fail."""
    stats = Stats.of(times)
    return stats.cells(digits=3) if not error else f"{stats.n} | {stats.median:.3f} (failed) | | "


def main() -> None:
    """Run the scale scenario and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (default 3)")
    parser.add_argument("--shots", type=int, default=1024, help="shots per job (default 1024)")
    parser.add_argument(
        "--wide-noisy-shots",
        type=int,
        default=1,
        help=f"shots of the noisy jobs wider than {WIDE} qubits, run once (default 1)",
    )
    parser.add_argument(
        "--backends",
        default=None,
        help=f"comma-separated fake backends (default all: {', '.join(SIZES)})",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    names = args.backends.split(",") if args.backends else list(SIZES)
    if args.quick:
        args.runs = 1
        names = [n for n in names if n in QUICK_SIZES] if not args.backends else names
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    from qiskit.primitives import BackendSamplerV2
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime import SamplerV2
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    from jupyter_qiskit_runtime import connect

    provider = FakeProviderForBackendV2()
    rows = [
        "| backend | qubits | level | transpile (s) | executor | shots | server: runs | median (s) "
        "| min (s) | max (s) | method or error | in process: runs | median (s) | min (s) "
        "| max (s) | in-process error | server / in process |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    targets: list[Target] = []
    notes: list[str] = []
    with BenchmarkServer("scale-token", "--QiskitRuntimeApp.prestart_workers=1") as server:
        service = connect(server.url, server.token)
        for name in names:
            n = SIZES[name]
            backend = provider.backend(name)
            noisy_simulator = AerSimulator.from_backend(backend)
            for level in (1, 3):
                progress(f"scale: {name} ({n} qubits), level {level}: transpiling")
                start = time.perf_counter()
                pm = generate_preset_pass_manager(level, backend=backend, seed_transpiler=1)
                isa = pm.run(ghz(n))
                transpile_s = time.perf_counter() - start
                for executor in ("aer_ideal", "aer"):
                    wide_noisy = executor == "aer" and n > WIDE
                    shots = args.wide_noisy_shots if wide_noisy else args.shots
                    runs = 1 if wide_noisy else args.runs
                    progress(f"scale: {name}@{executor}, level {level}: {runs} x {shots} shots")
                    sampler = SamplerV2(mode=service.backend(f"{name}@{executor}"))
                    sampler.options.simulator.seed_simulator = 1
                    call = partial(sample, sampler, isa, shots)
                    if not wide_noisy:
                        timed(call, 1)  # warm-up
                    times, jobs, error = timed(call, runs)
                    if error:
                        what = f"refused: {short(error, 220)}"
                    else:
                        what = str(jobs[-1].result().metadata["simulator"]["method"])
                    simulator = AerSimulator() if executor == "aer_ideal" else noisy_simulator
                    aer = BackendSamplerV2(backend=simulator, options={"seed_simulator": 1})
                    call = partial(sample, aer, isa, shots)
                    if not wide_noisy:
                        timed(call, 1)  # warm-up
                    base, _, base_error = timed(call, runs)
                    if base_error:
                        base_error = aer_error(simulator, isa, shots, base_error)
                    base_cells = stats_cells(base, base_error)
                    base_cells += f" | {short(base_error, 160) if base_error else ''}"
                    both = not error and not base_error
                    ratio = (
                        f"{statistics.median(times) / statistics.median(base):.2f}" if both else ""
                    )
                    rows.append(
                        f"| {name} | {n} | {level} | {transpile_s:.1f} | {executor} | {shots} "
                        f"| {stats_cells(times, error)} | {what} | {base_cells} | {ratio} |"
                    )
                    progress(rows[-1])
                    if (name, level, executor) == (TARGET_BACKEND, TARGET_LEVEL, "aer_ideal"):
                        targets.append(target(times, jobs, error))
    if not targets:
        notes.append(f"The target's case ({TARGET_BACKEND}, level {TARGET_LEVEL}) was not run.")
        targets.append(
            Target(target_name(), "not run", None, f"run with {TARGET_BACKEND} in --backends")
        )
    body = [
        f"A GHZ state on each backend's full width, transpiled for it at optimization levels 1 "
        f"and 3 (seed 1), from `SamplerV2.run` to the result through `connect()` on a server "
        f"with one warm worker; transpilation is timed apart and excluded. Baseline, like against "
        f"like: `BackendSamplerV2` in this process on `AerSimulator()` (automatic method) for "
        f"`@aer_ideal`, on `AerSimulator.from_backend(backend)` for `@aer`, same circuit and "
        f"shots. {args.shots} shots, {args.runs} run(s) per cell after a warm-up run; noisy cases "
        f"wider than {WIDE} qubits: {args.wide_noisy_shots} shot(s), one run (a noisy 27-qubit "
        "GHZ runs shot by shot on a 2 GiB statevector: tens of seconds a shot here). A failed "
        "cell gives the time until the error and the error.",
        "",
        "\n".join(rows),
        *(["", *notes] if notes else []),
    ]
    finish(args, started, "scale", "Scale", body, targets)


def target_name() -> str:
    return (
        f"127-qubit GHZ ({TARGET_BACKEND}) at optimization level {TARGET_LEVEL} under "
        f"{TARGET_SECONDS:g} s from submission to result on @aer_ideal"
    )


def target(times: list[float], jobs: list[Any], error: str | None) -> Target:
    """The 127-qubit target from that cell's runs."""
    if error:
        return Target(target_name(), f"failed: {short(error)}", False, "the job failed")
    stats = Stats.of(times)
    met = stats.median < TARGET_SECONDS
    bound = ""
    if not met:
        spans = server_times(jobs)
        bound = f"of the median {stats.median:.2f} s, " + (
            spans.words() if spans else "the server's share is unknown"
        )
        bound += "; the rest is the client's: encoding the circuit, HTTP, decoding the result."
    return Target(target_name(), stats.brief(digits=3, unit="s"), met, bound)


if __name__ == "__main__":
    main()
