"""Where a small job's time goes in its worker, step by step, and the worker's CPU per job.

A Bell ``SamplerV2`` job (1024 shots) and a Bell ``EstimatorV2`` job (⟨ZZ⟩, precision 1/32) on
``fake_manila@aer_ideal`` (and ``@aer`` with ``--noisy``) run as tasks through
``execution.programs.run_task`` on a warm ``ProgramRunner`` in this process, as a worker runs
them; then through a real worker process (``WorkerPool``) to time the pipe. Per job, medians of
``--runs`` runs after ``--warmup`` runs:

- the steps the programs record in ``metrics["worker_seconds"]``: decode the params, plan the
  method, build the backend and primitive, simulate, encode the result; in wall time, and in
  CPU time (``time.process_time`` at each of the same laps, in process);
- ``run_task`` around them (logging, warnings, metrics);
- the pipe: a worker process's round trip (pickling the task and the outcome both ways) less
  the in-process time of the same job;
- the worker process's CPU per job (user and system, read from the operating system in clock
  ticks over the measured round trips), less the simulate step's CPU: the worker's cost on top
  of the simulation itself.

``simulate`` is the primitive's ``run`` to its result: Aer's own simulation and the primitive's
work around it (binding, measuring in bases, counting), as in the in-process floor. With
``--profile``, the functions that take the most time over the runs (cProfile, in process).

Target (issue 13): the worker ≤ 2 ms of CPU per job on top of the simulation itself, for the
Bell jobs on ``fake_manila@aer_ideal``.

    python benchmarks/worker_profile.py [--runs 50] [--warmup 5] [--noisy] [--profile] [--quick]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import Target, add_common_arguments, finish, progress  # noqa: E402

STEPS = ("decode", "plan", "backend", "simulate", "encode")
IDEAL = "fake_manila@aer_ideal"
NOISY = "fake_manila@aer"
#: The most CPU (seconds) the worker may spend per job on top of the simulation (issue 13).
TARGET_CPU = 2e-3


def bell_params(program: str) -> str:
    """The params the client sends for a Bell job of ``program`` on fake_manila."""
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit.transpiler import generate_preset_pass_manager
    from qiskit_ibm_runtime import RuntimeEncoder
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    if program == "sampler":
        circuit.measure_all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = FakeManilaV2()
    isa = generate_preset_pass_manager(1, backend=backend, seed_transpiler=1).run(circuit)
    pub: tuple[Any, ...]
    if program == "sampler":
        pub = (isa, None, 1024)
    else:
        pub = (isa, SparsePauliOp("ZZ").apply_layout(isa.layout), None, 1 / 32)
    params = {"pubs": [pub], "options": {}, "version": 2, "support_qiskit": True}
    return json.dumps(params, cls=RuntimeEncoder)


def median(values: list[float]) -> float:
    """The median, or 0 for no values."""
    return float(statistics.median(values)) if values else 0.0


def ms(values: list[float]) -> str:
    """Median in milliseconds."""
    return f"{median(values) * 1e3:.2f}" if values else ""


@contextmanager
def step_cpu() -> Iterator[list[dict[str, float]]]:
    """While open, every job's ``Steps`` also records the CPU seconds of each lap: one dict per
    job, appended to the list this yields, in the order the jobs ran."""
    from jupyter_qiskit_runtime.execution.programs.runner import Steps

    laps: list[dict[str, float]] = []
    original_init, original_lap = Steps.__init__, Steps.lap

    def init(self: Steps) -> None:
        original_init(self)
        laps.append({})
        self._cpu = laps[-1]  # type: ignore[attr-defined]
        self._cpu_last = time.process_time()  # type: ignore[attr-defined]

    def lap(self: Steps, step: str) -> None:
        original_lap(self, step)
        now = time.process_time()
        cpu = self._cpu  # type: ignore[attr-defined]
        cpu[step] = cpu.get(step, 0.0) + now - self._cpu_last  # type: ignore[attr-defined]
        self._cpu_last = now  # type: ignore[attr-defined]

    Steps.__init__ = init  # type: ignore[method-assign]
    Steps.lap = lap  # type: ignore[method-assign]
    try:
        yield laps
    finally:
        Steps.__init__ = original_init  # type: ignore[method-assign]
        Steps.lap = original_lap  # type: ignore[method-assign]


@dataclass
class Found:
    """One job's measurements, in seconds."""

    steps: dict[str, list[float]] = field(default_factory=dict)
    steps_cpu: dict[str, list[float]] = field(default_factory=dict)
    total: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    #: Each run's CPU outside its simulate step, in process.
    around_cpu: list[float] = field(default_factory=list)
    usage: list[float] = field(default_factory=list)
    trip: list[float] = field(default_factory=list)
    #: The worker process's CPU per job over the measured round trips (one figure).
    worker_cpu: float = 0.0
    profile: str = ""


def profile_job(task: Any, runs: int, warmup: int, profile: bool) -> Found:
    """Run ``task`` in process on a warm runner: per-step seconds, totals, an optional profile."""
    from jupyter_qiskit_runtime.execution.programs import ProgramRunner, run_task

    runner = ProgramRunner()
    for _ in range(warmup):
        outcome = run_task(task, runner)
        assert outcome.ok, outcome.error
    found = Found(steps={step: [] for step in STEPS}, steps_cpu={step: [] for step in STEPS})
    with step_cpu() as laps:
        for _ in range(runs):
            before = len(laps)
            start, start_cpu = time.perf_counter(), time.process_time()
            outcome = run_task(task, runner)
            found.total.append(time.perf_counter() - start)
            found.cpu.append(time.process_time() - start_cpu)
            assert outcome.ok, outcome.error
            found.usage.append(float(outcome.metrics.get("usage_seconds", 0.0)))
            for step, seconds in outcome.metrics.get("worker_seconds", {}).items():
                found.steps.setdefault(step, []).append(seconds)
            cpu = laps[before] if len(laps) > before else {}
            for step, seconds in cpu.items():
                found.steps_cpu.setdefault(step, []).append(seconds)
            found.around_cpu.append(found.cpu[-1] - cpu.get("simulate", 0.0))
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(runs):
            run_task(task, runner)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        found.profile = stream.getvalue()
    return found


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far, its finished threads included (Aer
    simulates in a thread of its own per job), its children not; in clock ticks
    (``SC_CLK_TCK``, usually 10 ms)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def tick() -> float:
    """The seconds of one clock tick, the resolution of ``process_cpu``."""
    return 1 / os.sysconf("SC_CLK_TCK")


def pipe_round_trip(task: Any, runs: int, warmup: int, found: Found) -> None:
    """Time each round trip of ``task`` through one real worker process, and the process's CPU
    per job over the measured ones, into ``found``."""
    from jupyter_qiskit_runtime.execution.workers import WorkerPool

    pool = WorkerPool(1)
    worker = pool.acquire()
    try:
        cpu_start = 0.0
        for index in range(warmup + runs):
            if index == warmup:
                cpu_start = process_cpu(worker.pid)
            start = time.perf_counter()
            outcome = worker.run(task, should_stop=lambda: False, memory_limit=0)
            if index >= warmup:
                found.trip.append(time.perf_counter() - start)
            assert outcome.ok, outcome.error
        found.worker_cpu = (process_cpu(worker.pid) - cpu_start) / runs
    finally:
        pool.release(worker)
        pool.close()


def main() -> None:
    """Measure every job and print the section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="measured runs per job (50)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up runs per job (5)")
    parser.add_argument("--noisy", action="store_true", help=f"also {NOISY}")
    parser.add_argument("--profile", action="store_true", help="add cProfile's top functions")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        # Enough runs that the worker's CPU, read in clock ticks, resolves 0.5 ms per job.
        args.runs, args.warmup = min(args.runs, 20), min(args.warmup, 3)
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    from jupyter_qiskit_runtime.execution.task import Task
    from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog

    catalog = BackendCatalog()
    backends = [IDEAL] + ([NOISY] if args.noisy else [])
    wall_rows = [
        "| job | backend | decode | plan | backend | simulate | encode | run_task | total "
        "| around | pipe | round trip |",
        "|---|---|" + "---:|" * 10,
    ]
    cpu_rows = [
        "| job | backend | decode | plan | backend | simulate | encode | run_task | total "
        "| around | worker process per job | worker on top of simulate |",
        "|---|---|" + "---:|" * 10,
    ]
    profiles = []
    targets = []
    for backend in backends:
        for program in ("sampler", "estimator"):
            progress(f"worker_profile: {program} on {backend}, {args.runs} runs")
            task = Task("profile", program, catalog.get(backend).recipe(), bell_params(program))
            found = profile_job(task, args.runs, args.warmup, args.profile)
            pipe_round_trip(task, args.runs, args.warmup, found)
            total = median(found.total)
            simulate = found.steps.get("simulate") or found.usage
            recorded = sum(median(v) for v in found.steps.values() if v)
            pipe = median(found.trip) - total
            around = total - median(simulate)
            wall_rows.append(
                f"| {program} | {backend} | "
                + " | ".join(ms(found.steps.get(step, [])) for step in STEPS)
                + f" | {(total - recorded) * 1e3:.2f} | {total * 1e3:.2f} "
                f"| {around * 1e3:.2f} | {pipe * 1e3:.2f} | {ms(found.trip)} |"
            )
            cpu_total = median(found.cpu)
            cpu_recorded = sum(median(v) for v in found.steps_cpu.values() if v)
            simulate_cpu = median(found.steps_cpu.get("simulate", []))
            on_top = found.worker_cpu - simulate_cpu
            cpu_rows.append(
                f"| {program} | {backend} | "
                + " | ".join(ms(found.steps_cpu.get(step, [])) for step in STEPS)
                + f" | {(cpu_total - cpu_recorded) * 1e3:.2f} | {cpu_total * 1e3:.2f} "
                f"| {ms(found.around_cpu)} | {found.worker_cpu * 1e3:.2f} | {on_top * 1e3:.2f} |"
            )
            if backend == IDEAL:
                met = on_top <= TARGET_CPU
                steps_words = ", ".join(
                    f"{step} {ms(found.steps_cpu.get(step, []))} ms"
                    for step in STEPS
                    if step != "simulate"
                )
                bound = (
                    ""
                    if met
                    else f"in process, the job's CPU outside simulate was {ms(found.around_cpu)} "
                    f"ms ({steps_words}, run_task {(cpu_total - cpu_recorded) * 1e3:.2f} ms); "
                    "the rest is the worker's side of the pipe (unpickling the task, pickling "
                    "the outcome) and its loop"
                )
                targets.append(
                    Target(
                        f"worker CPU ≤ {TARGET_CPU * 1e3:g} ms per job on top of the simulation "
                        f"itself, Bell {program} on {backend}",
                        f"{on_top * 1e3:.2f} ms: the worker process spent "
                        f"{found.worker_cpu * 1e3:.2f} ms of CPU per job, simulate "
                        f"{simulate_cpu * 1e3:.2f} ms ({args.runs} runs; ± "
                        f"{tick() / args.runs * 1e3:.2f} ms from the clock ticks)",
                        met,
                        bound,
                    )
                )
            if found.profile:
                profiles.append(f"### {program} on {backend}\n\n```\n{found.profile}```\n")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    body = [
        "Bell `SamplerV2` (1024 shots) and `EstimatorV2` (⟨ZZ⟩, precision 1/32) jobs run as "
        "tasks through `run_task` on a warm `ProgramRunner` in this process, then through one "
        f"real worker process. Medians of {args.runs} runs after {args.warmup} warm-up runs, in "
        f"milliseconds; load average at the end {load} ({os.cpu_count()} CPUs). `run_task`: "
        "the time outside the recorded steps; `around`: the job's whole in-process time less "
        "`simulate`; `pipe`: the round trip through a worker process less the in-process time.",
        "",
        "Wall time (ms):",
        "",
        *wall_rows,
        "",
        "CPU time (ms): the steps in process (`time.process_time` at the same laps); `worker "
        "process per job`: the worker process's user and system CPU over the measured round "
        f"trips, per job (read in clock ticks: ± {tick() / args.runs * 1e3:.2f} ms per job); "
        "`worker on top of simulate`: that less the simulate step's CPU.",
        "",
        *cpu_rows,
    ]
    for text in profiles:
        body += ["", text]
    finish(args, started, "worker_profile", "Worker overhead, step by step", body, targets)


if __name__ == "__main__":
    main()
