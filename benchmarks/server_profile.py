"""Where the server process spends its CPU on small jobs: a burst under ``cProfile``.

Starts a server (as the benchmarks do) whose process runs under ``cProfile``, sends it
``--jobs`` tiny Bell sampler jobs as a raw HTTP burst (pre-encoded bodies, ``POST /jobs`` from
``--submitters`` threads, then ``GET /jobs/{id}/wait`` for each), stops it cleanly so that the
profile is written, and prints the server's CPU per job and the functions that took the most
time (cumulative and own), grouped into the parts of a job's path: the HTTP layer (Tornado and
Jupyter Server), JSON validation, the job store, the scheduler, event notifications, and
reading the result.

    python benchmarks/server_profile.py [--jobs 200] [--submitters 4] [--top 40]
"""

from __future__ import annotations

import argparse
import io
import json
import pstats
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import BenchmarkServer, cpu_seconds  # noqa: E402

#: Parts of the server's work, by where the function lives (first match wins).
PARTS = (
    ("job store (SQLite)", ("runtime/store.py", "runtime/journal.py", "sqlite3")),
    ("JSON validation", ("runtime/jobs.py", "json/decoder.py", "json/__init__.py")),
    ("params validation", ("programs/", "execution/")),
    ("scheduler and queue", ("runtime/scheduler.py", "runtime/fair_queue.py")),
    ("events and waits", ("runtime/events.py", "runtime/watch.py")),
    ("runtime facade", ("runtime/qiskit_runtime.py",)),
    ("handlers", ("jupyter_qiskit_runtime/handlers",)),
    ("Jupyter Server", ("jupyter_server/",)),
    ("Tornado", ("tornado/",)),
    ("asyncio", ("asyncio/",)),
)


class ProfiledServer(BenchmarkServer):
    """A ``BenchmarkServer`` whose process runs under ``cProfile``, writing to ``profile``."""

    def __init__(self, profile: Path, *args: str) -> None:
        super().__init__("profile-token", *args)
        self.profile = profile

    def start(self) -> float:
        """Start the server under ``cProfile`` (its command, run by ``BenchmarkServer``, is
        rewritten to ``python -m cProfile -o PROFILE -m jupyter_server ...``)."""
        import subprocess

        real_popen = subprocess.Popen
        profile = str(self.profile)

        def popen(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
            if args[1:3] == ["-m", "jupyter_server"]:
                args = [args[0], "-m", "cProfile", "-o", profile, "-m", "jupyter_server", *args[3:]]
            return real_popen(args, **kwargs)  # type: ignore[call-overload,no-any-return]

        subprocess.Popen = popen  # type: ignore[assignment,misc]
        try:
            return super().start()
        finally:
            subprocess.Popen = real_popen  # type: ignore[misc]


def burst(server: BenchmarkServer, body: bytes, count: int, submitters: int) -> float:
    """Submit ``count`` jobs and wait for each; the seconds it took."""
    import requests

    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update({**server.headers, "Content-Type": "application/json"})
        return local.session

    def submit(_: int) -> str:
        answer = session().post(f"{server.api}/jobs", data=body, timeout=120)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    start = time.monotonic()
    with ThreadPoolExecutor(submitters) as pool:
        ids = list(pool.map(submit, range(count)))
    for job_id in ids:
        answer = session().get(f"{server.api}/jobs/{job_id}/wait?timeout=60", timeout=90)
        assert answer.json()["status"] == "Completed", answer.text
    return time.monotonic() - start


def part_of(filename: str) -> str:
    """The part of the server a function's file belongs to."""
    for name, markers in PARTS:
        if any(marker in filename for marker in markers):
            return name
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--submitters", type=int, default=4)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--server-arg", action="append", default=[])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from tests.circuits import bell_circuit, sampler_job_body

    body = json.dumps(sampler_job_body("fake_manila@aer_ideal", bell_circuit())).encode()
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "server.prof"
        options = ["--QiskitRuntimeApp.pool_size=2", "--QiskitRuntimeApp.prestart_workers=2"]
        options += ["--QiskitRuntimeApp.max_pending_jobs_per_user=0", *args.server_arg]
        with ProfiledServer(profile, *options) as server:
            burst(server, body, 20, args.submitters)  # warm: workers, imports, caches
            before = cpu_seconds([server.pid])
            seconds = burst(server, body, args.jobs, args.submitters)
            used = cpu_seconds([server.pid]) - before
        print(
            f"{args.jobs} jobs in {seconds:.2f} s ({args.jobs / seconds:.1f} jobs/s); server "
            f"process CPU {used * 1e3 / args.jobs:.2f} ms per job (under cProfile, which slows "
            "Python code about 2x: compare parts, not totals)"
        )
        stats = pstats.Stats(str(profile))
        shares: dict[str, float] = {}
        for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            shares[part_of(filename)] = shares.get(part_of(filename), 0.0) + own
        total = sum(shares.values())
        print("\nOwn time by part (whole run, warm-up and start included):")
        for name, value in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"  {name:28s} {value:7.2f} s  {100 * value / total:5.1f} %")
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(str(profile), stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
