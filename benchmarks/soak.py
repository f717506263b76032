"""Soak: many clients submitting, waiting for and cancelling jobs for minutes, through a crash.

One server (started here on 127.0.0.1, ``pool_size=2``, ``prestart_workers=2``, its database in a
directory of this run) takes ``--clients`` client *processes*, each submitting ``--jobs-per-client``
jobs over raw HTTP (``POST /jobs`` with a ``RuntimeEncoder`` body as the client sends it), a mix
of, in turn, a Bell sampler job, a ZZ estimator job, a Bell sampler job and a Bell sampler job
cancelled at once (``POST /jobs/{id}/cancel``), all on ``fake_manila@aer_ideal``. Each client
keeps at most ``--window`` of its jobs unfinished, waiting for the oldest with
``GET /jobs/{id}/wait``; a 429 (too many unfinished jobs), a 503 or a refused connection is
retried after a short pause, as a client would.

When half the jobs have been accepted, the server is killed with SIGKILL (``kill -9``: no clean
shutdown, no chance to write anything) and started again at once on the same port and database.
The jobs queued or running at that moment (read from the database between the two servers) are
the interrupted ones. Measured: the time from the restart to the API's first answer, and to the
last interrupted job's final state (its ``ended`` timestamp); worker processes of the killed
server still alive after that.

At the end, every job a client got a 201 for must be final with the right outcome: a sampler job
``Completed`` with counts only in ``00`` and ``11`` summing to its shots (an ideal simulator), an
estimator job ``Completed`` with <ZZ> = 1, a job whose cancel was answered 204 ``Cancelled`` (one
whose cancel found it already final: completed correctly). A job not final, or unknown to the
server, is lost; any other outcome is wrong. Both must be 0.

    python benchmarks/soak.py [--clients 8] [--jobs-per-client 500] [--window 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sqlite3
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import Target, add_common_arguments, finish, progress  # noqa: E402
from benchmarks.server import BenchmarkServer  # noqa: E402

BACKEND = "fake_manila@aer_ideal"
POOL_SIZE = 2
TOKEN = "soak-token"
FINAL = {"Completed", "Failed", "Cancelled"}
#: What each client submits, in turn.
KINDS = ("sampler", "estimator", "sampler", "cancel")
#: Seconds a client retries one request while the server is away before it gives up.
RETRY_SECONDS = 300.0
#: Pause between retries, in seconds.
RETRY_PAUSE = 0.1


#: The server's options: two job slots, each with a warm worker.
SERVER_OPTIONS = (
    f"--QiskitRuntimeApp.pool_size={POOL_SIZE}",
    f"--QiskitRuntimeApp.prestart_workers={POOL_SIZE}",
)


# -- the clients --------------------------------------------------------------------------------


@dataclass
class JobRecord:
    """A job a client got a 201 for, and what it expects of it."""

    job_id: str
    kind: str
    #: The answers to its cancel requests (``cancel`` jobs): 204, 409, or 0 for a request whose
    #: answer was lost to the crash.
    cancel_answers: list[int] = field(default_factory=list)


@dataclass
class ClientReport:
    """What one client did."""

    records: list[JobRecord]
    counts: Counter[str]
    errors: list[str]
    seconds: float


def job_bodies(shots: int) -> dict[str, bytes]:
    """The ``POST /jobs`` bodies of each kind, as the client encodes them."""
    from qiskit.quantum_info import SparsePauliOp

    from tests.circuits import bell_isa, params_for, sampler_job_body

    sampler = sampler_job_body(BACKEND, bell_isa(), shots)
    unmeasured = bell_isa().remove_final_measurements(inplace=False)
    zz = SparsePauliOp("ZZ").apply_layout(unmeasured.layout)
    observable = {p.to_label(): float(c.real) for p, c in zip(zz.paulis, zz.coeffs, strict=True)}
    estimator = {
        "program_id": "estimator",
        "backend": BACKEND,
        "params": params_for([(unmeasured, observable)]),
    }
    encoded = {"sampler": sampler, "estimator": estimator, "cancel": sampler}
    return {kind: json.dumps(body).encode() for kind, body in encoded.items()}


class Retrying:
    """HTTP requests that wait out a server restart: a refused or broken connection, a 503 or a
    429 is retried after a pause, for up to ``RETRY_SECONDS``."""

    def __init__(self, api: str, counts: Counter[str]) -> None:
        import requests

        self.api = api
        self.counts = counts
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The answer to the request; ``None`` if the connection broke after it was sent (its
        outcome is unknown), unless ``retry_sent`` is true."""
        import requests

        retry_sent = kwargs.pop("retry_sent", True)
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                answer = self.session.request(method, f"{self.api}/{path}", timeout=90, **kwargs)
            except requests.ConnectionError as exc:
                sent = not isinstance(exc.__context__, ConnectionRefusedError) and (
                    "refused" not in str(exc).lower()
                )
                self.counts["connection errors"] += 1
                if sent and not retry_sent:
                    return None
            except requests.Timeout:
                self.counts["timeouts"] += 1
                if not retry_sent:
                    return None
            else:
                if answer.status_code not in (429, 503):
                    return answer
                self.counts[f"{answer.status_code} answers"] += 1
            if time.monotonic() > deadline:
                raise RuntimeError(f"{method} {path}: the server did not answer for too long")
            time.sleep(RETRY_PAUSE)


def client_main(conn: Connection, index: int, api: str, jobs: int, window: int, shots: int,
                accepted: Any) -> None:  # fmt: skip
    """One client process: submit ``jobs`` jobs, at most ``window`` unfinished, then report."""
    warnings.simplefilter("ignore")
    counts: Counter[str] = Counter()
    errors: list[str] = []
    records: list[JobRecord] = []
    bodies = job_bodies(shots)
    http = Retrying(api, counts)
    unfinished: list[str] = []
    conn.send("ready")
    conn.recv()
    started = time.monotonic()

    def wait_final(job_id: str) -> None:
        while True:
            answer = http.request("GET", f"jobs/{job_id}/wait", params={"timeout": "30"})
            if answer.status_code != 200:
                errors.append(f"wait {job_id}: {answer.status_code} {answer.text[:200]}")
                return
            if answer.json()["state"]["status"] in FINAL:
                return

    try:
        for number in range(jobs):
            kind = KINDS[(number + index) % len(KINDS)]
            while True:
                answer = http.request("POST", "jobs", data=bodies[kind], retry_sent=False)
                if answer is None:  # sent, and the crash took the answer: maybe accepted
                    counts["submissions without an answer"] += 1
                    continue
                break
            if answer.status_code != 201:
                errors.append(f"submit {kind}: {answer.status_code} {answer.text[:200]}")
                continue
            record = JobRecord(answer.json()["id"], kind)
            records.append(record)
            with accepted.get_lock():
                accepted.value += 1
            counts[kind] += 1
            if kind == "cancel":
                while True:
                    cancel = http.request("POST", f"jobs/{record.job_id}/cancel", retry_sent=False)
                    record.cancel_answers.append(0 if cancel is None else cancel.status_code)
                    if cancel is not None:
                        break
            unfinished.append(record.job_id)
            while len(unfinished) > window:
                wait_final(unfinished.pop(0))
        for job_id in unfinished:
            wait_final(job_id)
    except Exception as exc:  # a failure is a result here
        errors.append(f"client {index}: {type(exc).__name__}: {exc}"[:300])
    conn.send(ClientReport(records, counts, errors, time.monotonic() - started))


# -- checking the outcome --------------------------------------------------------------------


def check_job(api: str, record: JobRecord, shots: int, session: Any) -> str | None:
    """``None`` if the job is final with the right outcome; else ``lost: ...`` or ``wrong: ...``."""
    from qiskit_ibm_runtime import RuntimeDecoder

    answer = session.get(f"{api}/jobs/{record.job_id}", params={"exclude_params": "true"})
    if answer.status_code != 200:
        return f"lost: {record.job_id} ({record.kind}) answers {answer.status_code}"
    status = answer.json()["state"]["status"]
    if status not in FINAL:
        return f"lost: {record.job_id} ({record.kind}) is still {status}"
    if record.kind == "cancel" and 204 in record.cancel_answers:
        return None if status == "Cancelled" else f"wrong: {record.job_id} cancelled, {status}"
    if record.kind == "cancel" and status == "Cancelled" and 0 in record.cancel_answers:
        return None  # its cancel went through before the crash took the answer
    if status != "Completed":
        reason = answer.json()["state"].get("reason", "")
        return f"wrong: {record.job_id} ({record.kind}) {status}: {reason}"[:300]
    text = session.get(f"{api}/jobs/{record.job_id}/results").text
    result = json.loads(text, cls=RuntimeDecoder)
    if record.kind == "estimator":
        value = float(result[0].data.evs)
        return None if abs(value - 1.0) < 1e-9 else f"wrong: {record.job_id} <ZZ> = {value}"
    counts = result[0].data.meas.get_counts()
    if set(counts) - {"00", "11"} or sum(counts.values()) != shots:
        return f"wrong: {record.job_id} counts {counts}"
    return None


def interrupted_jobs(db_path: Path) -> dict[str, str]:
    """The jobs queued or running in the database, by id (read between the two servers)."""
    db = sqlite3.connect(db_path, timeout=30)
    try:
        rows = db.execute(
            "SELECT id, status FROM jobs WHERE status IN ('Queued', 'Running')"
        ).fetchall()
    finally:
        db.close()
    return {job_id: status for job_id, status in rows}


def _tracebacks(log: str) -> list[str]:
    """Each traceback in a server log, as the log line before it and its last line."""
    lines = log.splitlines()
    found = []
    for number, line in enumerate(lines):
        if line.startswith("Traceback"):
            end = number + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end]):
                end += 1
            before = lines[number - 1].strip() if number else ""
            last = lines[end].strip() if end < len(lines) else ""
            found.append(f"{before[:160]} ... {last[:160]}")
    return found


def _utc(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def main() -> None:
    """Run the scenario and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    parser.add_argument(
        "--jobs-per-client", type=int, default=500, help="jobs per client (default 500)"
    )
    parser.add_argument(
        "--window", type=int, default=8, help="unfinished jobs per client at most (default 8)"
    )
    parser.add_argument("--shots", type=int, default=100, help="shots per job (default 100)")
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.5,
        help="kill the server when this fraction of the jobs was accepted (default 0.5)",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.clients, args.jobs_per_client = min(args.clients, 4), min(args.jobs_per_client, 25)
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    total = args.clients * args.jobs_per_client

    import psutil
    import requests

    # Its API polled every 20 ms, for the time to its first answer after the restart.
    server = BenchmarkServer(TOKEN, *SERVER_OPTIONS, poll=0.02, stop_timeout=60)
    progress(f"soak: starting the server on port {server.port}")
    with server:
        first_start = server.start_seconds
        ctx = multiprocessing.get_context("spawn")
        accepted = ctx.Value("i", 0)
        pipes: list[Connection] = []
        processes = []
        for index in range(args.clients):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(
                target=client_main,
                args=(theirs, index, server.api, args.jobs_per_client, args.window, args.shots,
                      accepted),
            )  # fmt: skip
            process.start()
            pipes.append(mine)
            processes.append(process)
        orphans: list[int] = []
        try:
            for pipe in pipes:
                if pipe.recv() != "ready":
                    raise RuntimeError("A client process did not start.")
            progress(f"soak: {args.clients} clients x {args.jobs_per_client} jobs")
            load_started = time.monotonic()
            for pipe in pipes:
                pipe.send("go")
            kill_when = int(total * args.kill_at)
            while accepted.value < kill_when:
                if not any(p.is_alive() for p in processes):
                    raise RuntimeError("Every client stopped before the kill.")
                time.sleep(0.05)
            workers = server.worker_pids()
            progress(f"soak: {accepted.value} jobs accepted; kill -9 of the server")
            killed_at = time.monotonic()
            server.kill()
            interrupted = interrupted_jobs(server.db_path)
            restarted_utc = datetime.now(UTC)
            restart_started = time.monotonic()
            api_seconds = server.start()
            progress(
                f"soak: restarted; API answering after {api_seconds:.2f} s; "
                f"{len(interrupted)} interrupted jobs"
            )
            reports: list[ClientReport] = [pipe.recv() for pipe in pipes]
            load_seconds = time.monotonic() - load_started
            orphans = [pid for pid in workers if psutil.pid_exists(pid)]
            progress("soak: clients done; checking every accepted job")
            session = requests.Session()
            session.headers.update(server.headers)
            last_final: datetime | None = None
            reran = 0
            for job_id in interrupted:
                for _ in range(20):
                    job = session.get(
                        f"{server.api}/jobs/{job_id}/wait", params={"timeout": "30"}, timeout=60
                    ).json()
                    if job["state"]["status"] in FINAL:
                        break
                ended = _utc(job["ended"]) if job.get("ended") else None
                if ended is not None and (last_final is None or ended > last_final):
                    last_final = ended
                logs = session.get(f"{server.api}/jobs/{job_id}/logs", timeout=60).text
                reran += "queued again" in logs or "run again" in logs
            problems = [
                problem
                for report in reports
                for record in report.records
                if (problem := check_job(server.api, record, args.shots, session)) is not None
            ]
            log_text = server.log_text()
            tracebacks = _tracebacks(log_text)
        finally:
            for pipe in pipes:
                pipe.close()
            for process in processes:
                process.join(10)
                if process.is_alive():
                    process.terminate()
            for pid in orphans:  # the killed server's workers, started by this run
                if psutil.pid_exists(pid):
                    os.kill(pid, signal.SIGKILL)

    records = [record for report in reports for record in report.records]
    counts: Counter[str] = Counter()
    for report in reports:
        counts.update(report.counts)
    errors = [e for report in reports for e in report.errors]
    lost = [p for p in problems if p.startswith("lost")]
    wrong = [p for p in problems if p.startswith("wrong")]
    cancelled_ok = sum(1 for r in records if r.kind == "cancel" and 204 in r.cancel_answers)
    to_last_final = (
        (last_final - restarted_utc).total_seconds() if last_final is not None else float("nan")
    )
    kill_to_restart = restart_started - killed_at
    queued = sum(1 for s in interrupted.values() if s == "Queued")
    running = len(interrupted) - queued
    rows = [
        ("client processes x jobs", f"{args.clients} x {args.jobs_per_client} = {total}"),
        ("jobs accepted (201)", f"{len(records)}: {counts['sampler']} sampler, "
         f"{counts['estimator']} estimator, {counts['cancel']} cancelled at once "
         f"({cancelled_ok} cancels answered 204)"),
        ("run time of the clients", f"{load_seconds:.1f} s ({len(records) / load_seconds:.1f} "
         "accepted jobs/s)"),
        ("server start before the load", f"{first_start:.2f} s to the API's first answer"),
        ("kill -9 at", f"{kill_when} accepted jobs; {running} running and {queued} queued "
         "jobs interrupted"),
        ("from the kill to the restart", f"{kill_to_restart * 1e3:.0f} ms (reading the "
         "interrupted jobs from the database)"),
        ("from the restart to the API answering", f"{api_seconds:.2f} s"),
        ("from the restart to the last interrupted job final", f"{to_last_final:.2f} s "
         f"({reran} of them logged as run again)"),
        ("the killed server's workers still alive after the run", f"{len(orphans)}"),
        ("client retries", ", ".join(f"{n} {what}" for what, n in sorted(counts.items())
                                     if what not in ("sampler", "estimator", "cancel"))
         or "none"),
        ("lost / wrong", f"{len(lost)} / {len(wrong)}"),
        ("client errors (other than retried ones)", f"{len(errors)}"),
        ("tracebacks in the server logs", f"{len(tracebacks)}"),
    ]  # fmt: skip
    body = [
        f"{args.clients} client processes, each submitting {args.jobs_per_client} jobs over raw "
        f"HTTP (in turn: Bell sampler, ZZ estimator, Bell sampler, Bell sampler cancelled at "
        f"once; {args.shots} shots; `{BACKEND}`), at most {args.window} unfinished per client, "
        f"on one server with `pool_size={POOL_SIZE}`, `prestart_workers={POOL_SIZE}` and its "
        "default journal (DELETE). A 429, a 503 or a broken connection is retried after "
        f"{RETRY_PAUSE * 1e3:.0f} ms. When {args.kill_at:.0%} of the jobs were accepted, the "
        "server was killed with SIGKILL and started again at once on the same port and "
        "database; the interrupted jobs are those queued or running in the database between "
        "the two. Then every job a client got a 201 for was checked: final, and a sampler job's "
        "counts only `00`/`11` summing to its shots, an estimator job's <ZZ> = 1, a job whose "
        "cancel was answered 204 `Cancelled`.",
        "",
        "| | |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    if problems or errors:
        body += ["", "First problems:", "", *[f"- `{p}`" for p in (problems + errors)[:8]]]
    if tracebacks:
        body += [
            "",
            "The server logs' tracebacks (first lines of the log entry, and the last):",
            "",
        ]
        body += [f"- `{t}`" for t in tracebacks[:5]]
    targets = [
        Target(
            "no accepted job lost or wrong across a kill -9 and a restart "
            f"({args.clients} clients x {args.jobs_per_client} jobs)",
            f"{len(lost)} lost, {len(wrong)} wrong of {len(records)} accepted",
            not lost and not wrong and not errors,
            "see the first problems above" if problems or errors else "",
        ),
        Target(
            "every interrupted job final after the restart",
            f"{len(interrupted)} interrupted, the last final {to_last_final:.2f} s after the "
            f"restart (API answering after {api_seconds:.2f} s)",
            last_final is not None or not interrupted,
            "",
        ),
    ]
    finish(args, started, "soak", "Soak", body, targets)


if __name__ == "__main__":
    main()
