"""A Jupyter server with the extension, in its own process on 127.0.0.1, for the benchmarks;
and the unmodified client's service for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from benchmarks.report import Stats

#: The repository root, put first on the server's ``PYTHONPATH``.
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BenchmarkServer:
    """``jupyter server`` with token authentication, its data in a temporary directory.

    Use it as a context manager; ``extra_args`` are further command-line options. With
    ``extension=False`` the extension is disabled (``jpserver_extensions``), and the server is
    ready when Jupyter's own ``/api/status`` answers; with ``touch_api=False`` the extension is
    enabled but the readiness check asks ``/api/status`` too, leaving the runtime API unused.
    ``poll`` is the pause between readiness checks and ``stop_timeout`` the seconds a clean
    stop may take (then the server is killed).

    The port and the job database (``db_path``) are fixed for the object's life: the server can
    be killed (``kill``) and started again (``start``) on both, its log kept across the two.
    """

    def __init__(
        self,
        token: str = "benchmark-token",
        *extra_args: str,
        extension: bool = True,
        touch_api: bool = True,
        poll: float = 0.2,
        stop_timeout: float = 30,
    ) -> None:
        self.token = token
        self.extra_args = list(extra_args)
        self.extension = extension
        self.touch_api = touch_api and extension
        self.poll = poll
        self.stop_timeout = stop_timeout
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="jqr-benchmark-")
        self.workdir = Path(self._tmp.name)
        self.process: subprocess.Popen[bytes] | None = None
        #: The seconds the last ``start`` took until the server answered.
        self.start_seconds = float("nan")
        self._log: Any = None

    @property
    def url(self) -> str:
        """The server's URL (base_url ``/``)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api(self) -> str:
        """The runtime API's base URL."""
        return f"{self.url}qiskit-runtime/v1"

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers with the server's Jupyter token."""
        return {"Authorization": f"token {self.token}"}

    @property
    def db_path(self) -> Path:
        """The server's job database."""
        return self.workdir / "jobs.sqlite3"

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.process is None:
            raise RuntimeError("The server is not running.")
        return self.process.pid

    def __enter__(self) -> BenchmarkServer:
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._tmp.cleanup()

    def start(self) -> float:
        """Start the server; the seconds until it answered (checked every ``poll`` seconds)."""
        env = {
            **os.environ,
            "JUPYTER_DATA_DIR": str(self.workdir / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
            "JUPYTER_CONFIG_DIR": str(self.workdir / "config"),
            "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
        }
        args = [
            sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser",
            f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={self.workdir}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.jpserver_extensions=jupyter_qiskit_runtime={self.extension}",
            f"--QiskitRuntimeApp.db_path={self.db_path}",
            *self.extra_args,
        ]  # fmt: skip
        self._log = (self.workdir / "server.log").open("ab")
        started = time.monotonic()
        self.process = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        ready = self.api if self.touch_api else f"{self.url}api/status"
        while time.monotonic() - started < 120:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited early:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(ready, headers=self.headers, timeout=2).status_code == 200:
                    self.start_seconds = time.monotonic() - started
                    return self.start_seconds
            except requests.ConnectionError:
                pass
            time.sleep(self.poll)
        self.stop()
        raise RuntimeError(f"The server did not start:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        """Stop the server cleanly (SIGTERM), if it runs; kill it if it takes too long."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        if self._log is not None:
            self._log.close()

    def kill(self) -> None:
        """SIGKILL the server process (``kill -9``: not its workers, no clean shutdown), and
        reap it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)
        self.process = None
        self._log.close()

    def worker_pids(self) -> list[int]:
        """The server's child processes (its job workers)."""
        import psutil

        return [p.pid for p in psutil.Process(self.pid).children(recursive=True)]

    def log_text(self) -> str:
        """What the server has logged so far."""
        return (self.workdir / "server.log").read_text(errors="replace")


#: The instance CRN the server answers to (the client requires one in CRN form).
INSTANCE = "crn:v1:jupyter:public:quantum-computing:local:a/jupyter-qiskit-runtime::"


@contextmanager
def environment(**values: str) -> Iterator[None]:
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


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far (0 for one that is gone)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def stock_service(url: str, token: str) -> Any:
    """The client's own ``QiskitRuntimeService`` for the server at ``url`` (with its base_url),
    built with docs/connecting.md's recipe: nothing of this package is used."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    with environment(IAM_URL=f"{url}qiskit-runtime/iam", QISKIT_FUNCTIONS_EXPERIMENTAL="1"):
        return QiskitRuntimeService(
            channel="ibm_quantum_platform",
            token=token,
            url=f"{url}qiskit-runtime/v1",
            instance=INSTANCE,
            url_resolver=lambda url, *args: url,
        )


class HttpMeter:
    """Counts and times every ``requests.Session.send`` in this process (the client's HTTP)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def install(self) -> None:
        import requests

        original = requests.Session.send
        meter = self

        def send(session: Any, request: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(session, request, **kwargs)
            finally:
                meter.count += 1
                meter.seconds += time.perf_counter() - started

        requests.Session.send = send  # type: ignore[method-assign,assignment]


METER = HttpMeter()


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ServerTimes:
    """Where a server job's time went, from its metrics (seconds)."""

    #: From the job's creation to its final state.
    total: Stats
    #: From its creation until it was marked running (queue, a durable write, a worker).
    to_running: Stats
    #: Simulating, in the worker.
    simulating: Stats

    def words(self) -> str:
        """The breakdown in words (medians, ms)."""
        rest = self.total.median - self.to_running.median - self.simulating.median
        return (
            f"the job spent {self.total.median * 1e3:.1f} ms in the server from its creation to "
            f"its final state: {self.to_running.median * 1e3:.1f} ms until it was running, "
            f"{self.simulating.median * 1e3:.1f} ms simulating, and about {rest * 1e3:.1f} ms "
            "around the simulation (in the worker: decoding the params, planning the method, "
            "encoding the result; the pipe both ways; the final durable write)"
        )


def server_times(jobs: list[Any]) -> ServerTimes | None:
    """Where the time of server jobs went, from their metrics; None for jobs run in process."""
    total, to_running, simulating = [], [], []
    for job in jobs:
        if job is None or not hasattr(job, "metrics"):
            return None
        metrics = job.metrics()
        stamps = metrics["timestamps"]
        created = _when(stamps["created"])
        total.append((_when(stamps["finished"]) - created).total_seconds())
        to_running.append((_when(stamps["running"]) - created).total_seconds())
        simulating.append(float(metrics["usage"]["seconds"]))
    if not total:
        return None
    return ServerTimes(Stats.of(total), Stats.of(to_running), Stats.of(simulating))
