"""Memory: the resident memory of the Jupyter server's process, with and without the extension.

Resident set size (psutil, the server process only; its worker processes are reported apart) of:

- an idle Jupyter server with the extension disabled
  (``--ServerApp.jpserver_extensions=jupyter_qiskit_runtime=False``): the baseline;
- an idle Jupyter server with the extension enabled, before its API is used (the script waits
  for Jupyter's own ``/api/status``, not for the runtime API);
- the same server after its first API call (``GET /v1/backends``, as ``service.backends()``);

each over ``--repeats`` fresh servers (median, min, max). Then, on the last of those servers,
``--jobs`` tiny jobs (a Bell pair, 100 shots, ``fake_manila@aer_ideal``) through raw HTTP, in
bursts of 100 (``POST /jobs`` from 8 threads, then ``GET /jobs/{id}/wait`` for each), with the
server's resident memory after the first job, after ``--settle-jobs`` jobs and at the end: from
there to the end it must grow by less than ``GROWTH_BOUND`` (10 MB, about 5.5 kB a job over
the 1,800 jobs from job 200 to job 2,000). The worker processes' resident memory at the end is
listed apart.

    python benchmarks/memory.py [--repeats 3] [--jobs 2000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
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
from benchmarks.server import BenchmarkServer  # noqa: E402
from benchmarks.throughput import Phase, run_burst  # noqa: E402

MB = 1e6
IDLE_TARGET = 20 * MB
#: Most growth of the server's resident memory from ``--settle-jobs`` jobs to the end: 10 MB over
#: the 1,800 jobs from 200 to 2,000 is about 5.5 kB a job (a job's params alone are a few kB).
GROWTH_BOUND = 10 * MB
CHUNK = 100
SETTLE = 1.0  # seconds before reading an idle server's memory


def rss(pid: int) -> float:
    import psutil

    return float(psutil.Process(pid).memory_info().rss)


def settle_and_read(server: BenchmarkServer, session: Any) -> float:
    """The server's resident memory once it has been idle a moment."""
    for _ in range(3):
        session.get(f"{server.url}api/status", timeout=30).raise_for_status()
    time.sleep(SETTLE)
    return rss(server.pid)


def children(pid: int) -> list[tuple[str, float]]:
    """The server's child processes: what each is, and its resident memory."""
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            memory = float(child.memory_info().rss)
        except psutil.NoSuchProcess:
            continue
        kind = "multiprocessing resource tracker" if "resource_tracker" in command else "worker"
        found.append((f"{kind} (pid {child.pid})", memory))
    return found


def main() -> None:
    """Run the scenario and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh servers each (default 3)")
    parser.add_argument("--jobs", type=int, default=2000, help="tiny jobs (default 2000)")
    parser.add_argument(
        "--settle-jobs", type=int, default=200, help="jobs before growth counts (default 200)"
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.jobs, args.settle_jobs = 1, 400, 200
    # Readings are taken at the end of bursts, which end on multiples of CHUNK.
    args.settle_jobs = max(CHUNK, round(args.settle_jobs / CHUNK) * CHUNK)
    if args.jobs <= args.settle_jobs:
        parser.error("--jobs must be more than --settle-jobs")
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    import requests

    from tests.circuits import bell_isa, sampler_job_body

    job_body = json.dumps(sampler_job_body("fake_manila@aer_ideal", bell_isa(), 100)).encode()
    without, idle, first_call = [], [], []
    curve: list[tuple[int, float]] = []
    workers: list[tuple[str, float]] = []
    phase = Phase()
    for repeat in range(1, args.repeats + 1):
        progress(f"memory: repeat {repeat} of {args.repeats}: without the extension")
        with BenchmarkServer("memory-token", extension=False) as server, requests.Session() as s:
            s.headers.update(server.headers)
            if s.get(server.api, timeout=30).status_code != 404:
                raise RuntimeError("The extension answered although it was disabled.")
            without.append(settle_and_read(server, s))
        progress(f"memory: repeat {repeat}: with the extension")
        options = ["--QiskitRuntimeApp.max_pending_jobs_per_user=1000"]
        with (
            BenchmarkServer("memory-token", *options, touch_api=False) as server,
            requests.Session() as s,
        ):
            s.headers.update(server.headers)
            idle.append(settle_and_read(server, s))
            s.get(f"{server.api}/backends", timeout=60).raise_for_status()
            first_call.append(settle_and_read(server, s))
            if repeat < args.repeats:
                continue
            done = 0
            while done < args.jobs:
                # One job first, then bursts that end on multiples of CHUNK.
                count = 1 if done == 0 else min(CHUNK - done % CHUNK, args.jobs - done)
                run_burst(server, job_body, count, 8, phase)
                done += count
                if done in (1, args.settle_jobs, args.jobs) or done % 500 == 0:
                    curve.append((done, settle_and_read(server, s)))
                    progress(f"memory: {done} jobs, {curve[-1][1] / MB:.1f} MB")
            workers = children(server.pid)

    base, idle_stats, first_stats = Stats.of(without), Stats.of(idle), Stats.of(first_call)
    rows = [
        f"| server process | {stats_header('MB')} | median / baseline | median - baseline (MB) |",
        f"|---|{STATS_ALIGN}|---:|---:|",
    ]
    for name, stats in (
        ("extension disabled, idle (baseline)", base),
        ("extension enabled, idle, API not used yet", idle_stats),
        ("extension enabled, after the first API call (`GET /v1/backends`)", first_stats),
    ):
        rows.append(
            f"| {name} | {stats.cells(1 / MB)} | {ratio(stats, base):.2f} "
            f"| {(stats.median - base.median) / MB:+.1f} |"
        )
    settled = dict(curve).get(args.settle_jobs, curve[0][1])
    jobs_rows = [
        "| after jobs | server process (MB) | change since the first API call (MB) "
        f"| change since job {args.settle_jobs} (MB) |",
        "|---:|---:|---:|---:|",
    ]
    for done, value in curve:
        since_settled = f"{(value - settled) / MB:+.1f}" if done >= args.settle_jobs else ""
        jobs_rows.append(
            f"| {done} | {value / MB:.1f} | {(value - first_call[-1]) / MB:+.1f} "
            f"| {since_settled} |"
        )
    worker_rows = ["| process | resident (MB) |", "|---|---:|"] + [
        f"| {name} | {memory / MB:.1f} |" for name, memory in workers
    ]
    growth = curve[-1][1] - settled
    body = [
        f"Resident memory (psutil RSS) of the Jupyter server's process, in MB (10^6 bytes), "
        f"{args.repeats} fresh server(s) each, read {SETTLE:g} s after three `GET /api/status`. "
        "Other server extensions installed in the environment (JupyterLab's, for one) are "
        "loaded in both cases. The first API call loads the backend catalog, which imports "
        "`qiskit_ibm_runtime.fake_provider`, and with it Qiskit, into the server process (it "
        "also decodes and checks the circuits of every job submitted).",
        "",
        "\n".join(rows),
        "",
        f"Then {args.jobs} tiny jobs (a Bell pair, 100 shots) through raw HTTP on the last "
        f"server with the extension, in bursts of {CHUNK} (one run: these rows are single "
        f"readings); {phase.lost} lost, {phase.failed} failed.",
        "",
        "\n".join(jobs_rows),
        "",
        f"Its worker processes after the {args.jobs} jobs (not counted above):",
        "",
        "\n".join(worker_rows),
    ]
    idle_growth = idle_stats.median - base.median
    targets = [
        Target(
            "an idle Jupyter server grows by under 20 MB with the extension enabled until its "
            "API is first used",
            f"{idle_growth / MB:+.1f} MB: {idle_stats.brief(1 / MB, unit='MB')} against "
            f"{base.brief(1 / MB, unit='MB')} without it",
            idle_growth < IDLE_TARGET,
            ""
            if idle_growth < IDLE_TARGET
            else "the extension's import and setup at start (its modules, and what they import) "
            "before any request",
        ),
        Target(
            f"the server process grows by under {GROWTH_BOUND / MB:.0f} MB from job "
            f"{args.settle_jobs} to job {args.jobs} (the stated bound)",
            f"{growth / MB:+.1f} MB ({settled / MB:.1f} MB to {curve[-1][1] / MB:.1f} MB), "
            f"{phase.lost} jobs lost, {phase.failed} failed",
            growth < GROWTH_BOUND and phase.lost + phase.failed == 0,
            "" if growth < GROWTH_BOUND else "memory kept per job in the server process",
        ),
    ]
    finish(args, started, "memory", "Memory", body, targets)


if __name__ == "__main__":
    main()
