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

For reference, the burst runs again on a second server with ``journal_mode=WAL`` (the job store
commits every change durably, one at a time; on a disk where a commit takes milliseconds, those
commits bound the rate).

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
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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

BACKEND = "fake_manila@aer_ideal"
POOL_SIZE = 2
FINAL = {"Completed", "Failed", "Cancelled"}
STOCK_TARGET = 40.0  # jobs per second
BURST_TARGET = 1.5  # times the in-process sequential rate


def worker_pids(server_pid: int) -> list[int]:
    """The server's child processes (its job workers and multiprocessing's helpers)."""
    import psutil

    return [p.pid for p in psutil.Process(server_pid).children(recursive=True)]


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


@dataclass
class Phase:
    """One way of running jobs, over the runs."""

    rates: list[float] = field(default_factory=list)
    lost: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    #: CPU milliseconds per job, per run: {"server": ..., "workers": ..., "clients": ...}.
    cpu: list[dict[str, float]] = field(default_factory=list)

    def cpu_median(self, part: str) -> float:
        return Stats.of([c[part] for c in self.cpu]).median


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


def final_states(server: BenchmarkServer, ids: list[str]) -> dict[str, str]:
    """Each job's status as the server has it now ("missing" for a 404)."""
    import requests

    states = {}
    with requests.Session() as session:
        session.headers.update(server.headers)
        for job_id in ids:
            answer = session.get(f"{server.api}/jobs/{job_id}", timeout=60)
            states[job_id] = answer.json()["status"] if answer.status_code == 200 else "missing"
    return states


def count_outcome(phase: Phase, expected: int, states: dict[str, str], errors: list[str]) -> None:
    """Add a run's lost and failed jobs to the phase."""
    not_final = sum(1 for s in states.values() if s not in FINAL)
    phase.lost += (expected - len(states)) + not_final
    phase.failed += sum(1 for s in states.values() if s in FINAL and s != "Completed")
    if errors:
        phase.failed += len(errors)
        phase.errors += errors[:3]


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


def run_burst(
    server: BenchmarkServer, body: bytes, count: int, submitters: int, phase: Phase
) -> None:
    """One raw HTTP burst: submit ``count`` jobs from ``submitters`` threads, wait for all."""
    import requests

    local = threading.local()
    headers = {**server.headers, "Content-Type": "application/json"}

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(headers)
        return local.session

    def submit(_: int) -> str | None:
        try:
            answer = session().post(f"{server.api}/jobs", data=body, timeout=120)
        except requests.RequestException:
            return None
        return str(answer.json()["id"]) if answer.status_code == 201 else None

    pids = {"server": [server.pid], "workers": worker_pids(server.pid), "clients": [os.getpid()]}
    before = {part: cpu_seconds(p) for part, p in pids.items()}
    start = time.monotonic()
    with ThreadPoolExecutor(submitters) as pool:
        submitted = list(pool.map(submit, range(count)))
    ids = [job_id for job_id in submitted if job_id]
    states: dict[str, str] = {}
    waiter = session()
    for job_id in ids:
        status = "missing"
        for _ in range(10):  # each wait is at most 60 s
            answer = waiter.get(f"{server.api}/jobs/{job_id}/wait?timeout=60", timeout=90)
            if answer.status_code != 200:
                break
            status = answer.json()["status"]
            if status in FINAL:
                break
        states[job_id] = status
    end = time.monotonic()
    after = {part: cpu_seconds(p) for part, p in pids.items()}
    completed = sum(1 for s in states.values() if s == "Completed")
    phase.rates.append(completed / (end - start))
    phase.cpu.append({part: (after[part] - before[part]) * 1e3 / count for part in pids})
    count_outcome(phase, count, states, [])


def run_baseline(circuit: Any, count: int, shots: int, phase: Phase) -> None:
    """The same jobs one after another in this process."""
    from qiskit.primitives import BackendSamplerV2
    from qiskit_aer import AerSimulator

    sampler = BackendSamplerV2(backend=AerSimulator())
    sampler.run([circuit], shots=shots).result()
    before = cpu_seconds([os.getpid()])
    start = time.monotonic()
    for _ in range(count):
        counts = sampler.run([circuit], shots=shots).result()[0].data.meas.get_counts()
        if sum(counts.values()) != shots:
            phase.failed += 1
    end = time.monotonic()
    phase.rates.append(count / (end - start))
    phase.cpu.append({"clients": (cpu_seconds([os.getpid()]) - before) * 1e3 / count})


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


def commit_words(commit: Stats, wal: Stats | None) -> str:
    """What the store's durable commits allow, in words."""
    per_job = 3 * commit.median
    text = (
        f"the job store commits each change durably (`synchronous=FULL`), one commit at a time "
        f"under one lock, three per job (submitted, running, final); one commit took "
        f"{commit.median * 1e3:.1f} ms here (journal DELETE; median of 20 before each run), so the "
        f"commits alone allow at most {1 / per_job:.0f} jobs/s"
    )
    if wal is not None:
        rate = wal.brief(unit="jobs/s")
        text += f"; the same burst on a server with `journal_mode=WAL` ran at {rate}"
    return text


def main() -> None:
    """Run the scenario and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of every phase (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument(
        "--jobs-per-client", type=int, default=25, help="jobs per client and run (default 25)"
    )
    parser.add_argument("--burst", type=int, default=200, help="jobs of the burst (default 200)")
    parser.add_argument(
        "--submitters", type=int, default=8, help="threads submitting the burst (default 8)"
    )
    parser.add_argument("--shots", type=int, default=100, help="shots per job (default 100)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.runs, args.jobs_per_client, args.burst = 1, min(args.jobs_per_client, 5), 40
    warnings.simplefilter("ignore")
    started = time.perf_counter()

    from tests.circuits import bell_isa, sampler_job_body

    circuit = bell_isa()
    body = json.dumps(sampler_job_body(BACKEND, circuit, args.shots)).encode()
    stock, burst, baseline, wal = Phase(), Phase(), Phase(), Phase()
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
                commits += durable_commit(samples=20).values
                progress(f"throughput: run {run} of {args.runs}: in-process baseline")
                run_baseline(circuit, args.burst, args.shots, baseline)
                progress(f"throughput: run {run}: {args.clients} stock clients")
                run_stock(server, clients, args.jobs_per_client, stock)
                progress(f"throughput: run {run}: burst of {args.burst}")
                run_burst(server, body, args.burst, args.submitters, burst)
        finally:
            clients.close()
    with BenchmarkServer(
        "throughput-wal", *options, "--QiskitRuntimeApp.journal_mode=WAL"
    ) as other:
        run_burst(other, body, 4 * POOL_SIZE, args.submitters, Phase())  # warm-up
        for run in range(1, args.runs + 1):
            progress(f"throughput: run {run}: burst of {args.burst}, journal_mode=WAL")
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
        ("reference: the burst on a server with `journal_mode=WAL`", wal, args.burst),
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
        f"`AerSimulator`). {args.runs} run(s) of each, interleaved; then the burst again on a "
        "second server with `journal_mode=WAL`, for reference. CPU per job: user and system "
        "time of the server process, of its worker processes, and of the clients (the client "
        "processes, or this process for the burst and the baseline), divided by the jobs. "
        f"A durable SQLite commit as the job store makes them (journal DELETE, synchronous FULL) "
        f"took {commit.brief(1e3, 2, 'ms')} here (20 commits before each run).",
        "",
        "\n".join(lines),
    ]
    all_errors = stock.errors + burst.errors
    if all_errors:
        body_text += ["", "First errors:", "", *[f"- `{e}`" for e in all_errors[:6]]]
    stock_stats, burst_stats = Stats.of(stock.rates), Stats.of(burst.rates)
    burst_ratio = ratio(burst_stats, base)
    targets = [
        Target(
            f"stock client throughput ≥ {STOCK_TARGET:g} jobs/s ({args.clients} client "
            "processes; a FastAPI server of the same purpose: 15.6/s)",
            f"{stock_stats.brief(unit='jobs/s')}",
            stock_stats.median >= STOCK_TARGET,
            ""
            if stock_stats.median >= STOCK_TARGET
            else cpu_words(stock, "the client processes") + "; " + commit_words(commit, None),
        ),
        Target(
            f"raw HTTP burst ≥ {BURST_TARGET:g}x the in-process sequential rate",
            f"{burst_ratio:.2f}x: {burst_stats.brief(unit='jobs/s')} against "
            f"{base.brief(unit='jobs/s')}",
            burst_ratio >= BURST_TARGET,
            ""
            if burst_ratio >= BURST_TARGET
            else cpu_words(burst, "this process (submitting and waiting)")
            + f"; in process, a job costs {baseline.cpu_median('clients'):.1f} ms of CPU and no "
            f"HTTP, and the server runs at most {POOL_SIZE} jobs at once; "
            + commit_words(commit, Stats.of(wal.rates)),
        ),
        Target(
            "no job lost or failed (stock clients and burst)",
            f"{stock.lost + burst.lost} lost, {stock.failed + burst.failed} failed",
            stock.lost + burst.lost + stock.failed + burst.failed == 0,
            "see the first errors above" if all_errors else "",
        ),
    ]
    finish(args, started, "throughput", "Throughput", body_text, targets)


if __name__ == "__main__":
    main()
