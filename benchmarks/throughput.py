"""Throughput: many tiny Sampler jobs at once, through the stock client and as a raw HTTP burst.

One server (started here on 127.0.0.1, ``pool_size=2``, ``prestart_workers=2``,
``max_pending_jobs_per_user`` raised for the burst) takes, in each run:

- ``stock client``: ``--clients`` client *processes* (processes, not threads: each client has
  its own interpreter, so the client's GIL-bound work in Python does not serialise them), each
  with the unmodified ``QiskitRuntimeService`` (docs/connecting.md's recipe) running
  ``--jobs-per-client`` jobs one after the other to completion (``SamplerV2.run(...).result()``);
  the clients start together at a barrier. Jobs per second = all jobs / the time from the start
  to the last client's last result.
- ``raw HTTP burst``: ``--burst`` submissions, ``POST {api}/jobs`` with a ``RuntimeEncoder`` body
  as the client sends it (tests/circuits.py ``sampler_job_body``), from ``--submitters`` threads
  of this process, then ``GET /jobs/{id}/wait`` for each until all are final. Jobs per second =
  jobs / the time from the first submission to the last job final.
- the baseline: the same ``--burst`` jobs one after another in this process,
  ``BackendSamplerV2`` on an ideal ``AerSimulator``.

- ``connect() burst``: ``--connect-burst`` jobs submitted at once from one process through
  ``jupyter_qiskit_runtime.connect()`` (``SamplerV2.run`` for each, then ``result()`` for each).

For reference, the burst runs again on a second server with ``journal_mode=DELETE`` (the journal
a database on a network file system gets; this machine's default is WAL).

CPU per job: the server process and the workers from the raw burst (the workers' share is also
given on top of the simulation itself, from the jobs' metrics), the client's from the connect()
burst.

The job: a Bell pair transpiled for FakeManilaV2, ``--shots`` shots, on
``fake_manila@aer_ideal``. A job is lost when its submission failed or it was not final at the
end, failed when its final state is not ``Completed`` (or its counts are wrong); both must be 0.
The CPU time the server process, its worker processes and the clients used in each phase,
divided by its jobs, says what bounds the rate on this machine.

    python benchmarks/throughput.py [--runs 3] [--clients 8] [--jobs-per-client 25] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bursts import (  # noqa: E402
    BACKEND,
    Phase,
    count_outcome,
    final_states,
    request_cpu,
    run_baseline,
    run_burst,
    run_connect_burst,
    worker_pids,
)
from benchmarks.report import (  # noqa: E402
    STATS_ALIGN,
    Stats,
    Target,
    add_common_arguments,
    durable_commit,
    finish,
    progress,
    ratio,
    stats_header,
)
from benchmarks.server import BenchmarkServer, cpu_seconds, stock_service  # noqa: E402

POOL_SIZE = 2
BURST_TARGET = 0.5  # times the in-process sequential rate
CONNECT_BURST_TARGET = 0.35  # times the in-process sequential rate
SERVER_CPU_TARGET = 1.5  # ms per job
WORKER_OVERHEAD_TARGET = 2.0  # ms per job on top of the simulation


def client_main(conn: Connection, url: str, token: str, barrier: Any, shots: int) -> None:
    """One client process: build a stock service and a sampler, then run jobs when told."""
    warnings.simplefilter("ignore")
    from qiskit_ibm_runtime import SamplerV2

    from tests.circuits import bell_isa

    circuit = bell_isa()
    service = stock_service(url, token)
    sampler = SamplerV2(mode=service.backend(BACKEND))
    sampler.run([circuit], shots=shots).result()  # warm: imports, connections, token
    conn.send("ready")
    while True:
        command = conn.recv()
        if command is None:
            return
        ids: list[str] = []
        errors: list[str] = []
        barrier.wait()
        start = time.monotonic()
        for _ in range(int(command)):
            try:
                job = sampler.run([circuit], shots=shots)
                ids.append(job.job_id())
                counts = job.result()[0].data.meas.get_counts()
                if sum(counts.values()) != shots:
                    errors.append(f"{job.job_id()}: {sum(counts.values())} shots")
            except Exception as exc:  # a failure is a result here
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
        conn.send((start, time.monotonic(), ids, errors))


class Clients:
    """The client processes, started once and reused by every run."""

    def __init__(self, count: int, server: BenchmarkServer, shots: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.barrier = ctx.Barrier(count)
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(count):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(
                target=client_main, args=(theirs, server.url, server.token, self.barrier, shots)
            )
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
        for pipe in self.pipes:
            if pipe.recv() != "ready":
                raise RuntimeError("A client process did not start.")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def run(self, jobs_each: int) -> list[tuple[float, float, list[str], list[str]]]:
        for pipe in self.pipes:
            pipe.send(jobs_each)
        return [pipe.recv() for pipe in self.pipes]

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.terminate()


def run_stock(server: BenchmarkServer, clients: Clients, jobs_each: int, phase: Phase) -> None:
    """One run of the stock clients."""
    pids = {"server": [server.pid], "workers": worker_pids(server.pid), "clients": clients.pids}
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    answers = clients.run(jobs_each)
    after = {part: cpu_seconds(p) for part, p in pids.items()}
    start = min(a[0] for a in answers)
    end = max(a[1] for a in answers)
    ids = [job_id for a in answers for job_id in a[2]]
    errors = [e for a in answers for e in a[3]]
    total = jobs_each * len(answers)
    phase.rates.append((len(ids) - len(errors)) / (end - start))
    phase.cpu.append({part: (after[part] - before[part]) * 1e3 / total for part in pids})
    count_outcome(phase, total, final_states(server, ids), errors)


def cpu_words(phase: Phase, clients_name: str) -> str:
    """CPU per job in words, and the rate the machine's cores allow at that cost."""
    server, workers = phase.cpu_median("server"), phase.cpu_median("workers")
    clients = phase.cpu_median("clients")
    total = server + workers + clients
    cores = os.cpu_count() or 1
    return (
        f"each job cost {server:.1f} ms of CPU in the server process, {workers:.1f} ms in the "
        f"workers and {clients:.1f} ms in {clients_name}, {total:.1f} ms in all (medians), so "
        f"{cores} cores allow at most {cores * 1000 / total:.0f} jobs/s for everything together, "
        f"the server process alone (one interpreter: its event loop and job threads share one "
        f"GIL) at most {1000 / server:.0f} jobs/s, and the {POOL_SIZE} workers alone (decoding "
        f"the job, planning, simulating, encoding the result) at most "
        f"{min(POOL_SIZE, cores) * 1000 / workers:.0f} jobs/s"
    )


def commit_words(commit: Stats, other: Stats | None) -> str:
    """What the store's durable commits allow, in words."""
    text = (
        "the job store makes one durable commit per job (the submission, before its 201); the "
        "move to Running is not forced to disk and the final states are made durable in groups "
        f"(WAL); one durable commit took {commit.median * 1e3:.2f} ms here (journal WAL; median "
        f"of 20 before each run), so they alone allow at most {1 / commit.median:.0f} jobs/s"
    )
    if other is not None:
        rate = other.brief(unit="jobs/s")
        text += f"; the same burst on a server with `journal_mode=DELETE` ran at {rate}"
    return text


def main() -> None:
    """Run the scenario and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of every phase (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument(
        "--jobs-per-client", type=int, default=25, help="jobs per client and run (default 25)"
    )
    parser.add_argument("--burst", type=int, default=500, help="jobs of the burst (default 500)")
    parser.add_argument(
        "--connect-burst", type=int, default=200, help="jobs of the connect() burst (default 200)"
    )
    parser.add_argument(
        "--submitters", type=int, default=8, help="threads submitting the burst (default 8)"
    )
    parser.add_argument("--shots", type=int, default=100, help="shots per job (default 100)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.jobs_per_client, args.burst = 1, min(args.jobs_per_client, 5), 60
        args.connect_burst = 40
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    from tests.circuits import bell_isa, sampler_job_body

    circuit = bell_isa()
    body = json.dumps(sampler_job_body(BACKEND, circuit, args.shots)).encode()
    stock, burst, baseline, wal = Phase(), Phase(), Phase(), Phase()
    connected = Phase()
    plain_request: list[float] = []
    commits: list[float] = []
    options = [
        f"--QiskitRuntimeApp.pool_size={POOL_SIZE}",
        f"--QiskitRuntimeApp.prestart_workers={POOL_SIZE}",
        f"--QiskitRuntimeApp.max_pending_jobs_per_user={max(1000, 2 * args.burst)}",
    ]
    with BenchmarkServer("throughput-token", *options) as server:
        progress("throughput: warming the server up")
        run_burst(server, body, 4 * POOL_SIZE, args.submitters, Phase())
        progress(f"throughput: starting {args.clients} client processes")
        clients = Clients(args.clients, server, args.shots)
        try:
            for run in range(1, args.runs + 1):
                commits += durable_commit("WAL", samples=20).values
                progress(f"throughput: run {run} of {args.runs}: in-process baseline")
                run_baseline(circuit, args.burst, args.shots, baseline)
                progress(f"throughput: run {run}: {args.clients} stock clients")
                run_stock(server, clients, args.jobs_per_client, stock)
                progress(f"throughput: run {run}: burst of {args.burst}")
                run_burst(server, body, args.burst, args.submitters, burst)
                progress(f"throughput: run {run}: connect() burst of {args.connect_burst}")
                run_connect_burst(server, circuit, args.connect_burst, args.shots, connected)
                plain_request.append(request_cpu(server))
        finally:
            clients.close()
    with BenchmarkServer(
        "throughput-delete", *options, "--QiskitRuntimeApp.journal_mode=DELETE"
    ) as other:
        run_burst(other, body, 4 * POOL_SIZE, args.submitters, Phase())  # warm-up
        for run in range(1, args.runs + 1):
            progress(f"throughput: run {run}: burst of {args.burst}, journal_mode=DELETE")
            run_burst(other, body, args.burst, args.submitters, wal)

    commit = Stats.of(commits)
    base = Stats.of(baseline.rates)
    stock_jobs = args.clients * args.jobs_per_client
    rows = [
        ("in-process sequential (baseline)", baseline, args.burst),
        (
            f"stock client, {args.clients} processes x {args.jobs_per_client} jobs",
            stock,
            stock_jobs,
        ),
        (f"raw HTTP burst, {args.submitters} submitting threads", burst, args.burst),
        ("connect() burst, one process", connected, args.connect_burst),
        ("reference: the burst on a server with `journal_mode=DELETE`", wal, args.burst),
    ]
    lines = [
        f"| way | jobs per run | {stats_header('jobs/s')} | median / baseline | lost | failed "
        "| server CPU (ms/job) | workers CPU (ms/job) | clients CPU (ms/job) |",
        f"|---|---:|{STATS_ALIGN}|---:|---:|---:|---:|---:|---:|",
    ]
    for name, phase, jobs in rows:
        stats = Stats.of(phase.rates)
        cpu = [
            f"{phase.cpu_median(part):.1f}" if part in phase.cpu[0] else ""
            for part in ("server", "workers", "clients")
        ]
        lines.append(
            f"| {name} | {jobs} | {stats.cells(digits=1)} | {ratio(stats, base):.2f} "
            f"| {phase.lost} | {phase.failed} | {' | '.join(cpu)} |"
        )
    body_text = [
        f"A tiny job (Bell pair, {args.shots} shots, `{BACKEND}`), many at once, on one server "
        f"with `pool_size={POOL_SIZE}`, `prestart_workers={POOL_SIZE}`. The stock clients are "
        f"{args.clients} separate processes (not threads: the client's own work holds the GIL), "
        f"each running {args.jobs_per_client} jobs one after the other to completion with the "
        f"unmodified client; the burst is {args.burst} `POST /jobs` from {args.submitters} "
        "threads of one process, then `GET /jobs/{id}/wait` for each; the baseline runs the same "
        f"{args.burst} jobs one after another in process (`BackendSamplerV2` on an ideal "
        f"`AerSimulator`); the connect() burst submits {args.connect_burst} jobs from this "
        "process through `connect()` and then reads each result. "
        f"{args.runs} run(s) of each, interleaved; then the burst again on a "
        "second server with `journal_mode=DELETE`, for reference. CPU per job: user and system "
        "time of the server process, of its worker processes, and of the clients (the client "
        "processes, or this process for the burst and the baseline), divided by the jobs. "
        f"A durable SQLite commit as the job store makes them (journal WAL, synchronous FULL) "
        f"took {commit.brief(1e3, 2, 'ms')} here (20 commits before each run).",
        "",
        "\n".join(lines),
    ]
    all_errors = stock.errors + burst.errors + connected.errors
    if all_errors:
        body_text += ["", "First errors:", "", *[f"- `{e}`" for e in all_errors[:6]]]
    burst_stats, connect_stats = Stats.of(burst.rates), Stats.of(connected.rates)
    burst_ratio, connect_ratio = ratio(burst_stats, base), ratio(connect_stats, base)
    server_cpu = burst.cpu_median("server")
    simulating = Stats.of(burst.simulating).median if burst.simulating else 0.0
    worker_extra = burst.cpu_median("workers") - simulating
    body_text += [
        "",
        f"CPU per job (medians): the server process {server_cpu:.2f} ms (raw burst); the "
        f"workers {burst.cpu_median('workers'):.2f} ms, of which the simulation took "
        f"{simulating:.2f} ms (wall time, from the jobs' metrics), so {worker_extra:.2f} ms on "
        "top of it (meaningful only when the machine is quiet); "
        f"the client of the connect() burst {connected.cpu_median('clients'):.2f} ms (the "
        f"server {connected.cpu_median('server'):.2f} ms and the workers "
        f"{connected.cpu_median('workers'):.2f} ms in that phase).",
    ]
    lost = stock.lost + burst.lost + connected.lost
    failed = stock.failed + burst.failed + connected.failed
    in_words = commit_words(commit, Stats.of(wal.rates))
    targets = [
        Target(
            f"raw HTTP burst of {args.burst} ≥ {BURST_TARGET:g}x the in-process sequential rate",
            f"{burst_ratio:.2f}x: {burst_stats.brief(unit='jobs/s')} against "
            f"{base.brief(unit='jobs/s')}",
            burst_ratio >= BURST_TARGET,
            ""
            if burst_ratio >= BURST_TARGET
            else cpu_words(burst, "this process (submitting and waiting)")
            + f"; in process, a job costs {baseline.cpu_median('clients'):.1f} ms of CPU and no "
            f"HTTP, and the server runs at most {POOL_SIZE} jobs at once; {in_words}",
        ),
        Target(
            f"{args.connect_burst} jobs from one connect() process ≥ {CONNECT_BURST_TARGET:g}x "
            "the in-process sequential rate",
            f"{connect_ratio:.2f}x: {connect_stats.brief(unit='jobs/s')}",
            connect_ratio >= CONNECT_BURST_TARGET,
            ""
            if connect_ratio >= CONNECT_BURST_TARGET
            else cpu_words(connected, "the connect() process"),
        ),
        Target(
            f"server process CPU ≤ {SERVER_CPU_TARGET:g} ms per job",
            f"{server_cpu:.2f} ms (raw burst)",
            server_cpu <= SERVER_CPU_TARGET,
            ""
            if server_cpu <= SERVER_CPU_TARGET
            else "two HTTP requests per job (submission and wait), and Jupyter Server's own "
            f"`GET /api/status` cost the server {Stats.of(plain_request).median:.2f} ms of CPU "
            "per request in the same run, before any of this API; the rest is one durable "
            "commit and two lighter ones, the hand-over to a job thread and the worker's pipe "
            "(see `benchmarks/server_profile.py`)",
        ),
        Target(
            f"worker CPU ≤ {WORKER_OVERHEAD_TARGET:g} ms per job on top of the simulation",
            f"{worker_extra:.2f} ms ({burst.cpu_median('workers'):.2f} ms in all, "
            f"{simulating:.2f} ms simulating)"
            if worker_extra >= 0
            else f"cannot be separated here: the simulation's wall time ({simulating:.2f} ms a "
            f"job) exceeds the workers' CPU ({burst.cpu_median('workers'):.2f} ms a job), as on "
            "a loaded machine",
            worker_extra <= WORKER_OVERHEAD_TARGET if worker_extra >= 0 else None,
            ""
            if 0 <= worker_extra <= WORKER_OVERHEAD_TARGET
            else "decoding the params, planning the method, encoding the result (see "
            "`benchmarks/worker_profile.py` where present); the simulation's time is its wall "
            "time, from the jobs' metrics",
        ),
        Target(
            "no job lost or failed (stock clients, bursts)",
            f"{lost} lost, {failed} failed",
            lost + failed == 0,
            "see the first errors above" if all_errors else "",
        ),
    ]
    finish(args, started, "throughput", "Throughput", body_text, targets)


if __name__ == "__main__":
    main()
