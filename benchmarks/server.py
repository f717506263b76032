"""A Jupyter server with the extension, in its own process on 127.0.0.1, for the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

#: The repository root, put first on the server's ``PYTHONPATH``.
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BenchmarkServer:
    """``jupyter server`` with token authentication, its data in a temporary directory.

    Use it as a context manager; ``extra_args`` are further command-line options.
    """

    def __init__(self, token: str = "benchmark-token", *extra_args: str) -> None:
        self.token = token
        self.extra_args = list(extra_args)
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="jqr-benchmark-")
        self.workdir = Path(self._tmp.name)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (base_url ``/``)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api(self) -> str:
        """The runtime API's base URL."""
        return f"{self.url}qiskit-runtime/v1"

    def __enter__(self) -> BenchmarkServer:
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
            "--ServerApp.jpserver_extensions=jupyter_qiskit_runtime=True",
            f"--QiskitRuntimeApp.db_path={self.workdir / 'jobs.sqlite3'}",
            *self.extra_args,
        ]  # fmt: skip
        self._log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        headers = {"Authorization": f"token {self.token}"}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited early:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(self.api, headers=headers, timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"The server did not start:\n{self.log_text()[-3000:]}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        self._log.close()
        self._tmp.cleanup()

    def log_text(self) -> str:
        """What the server has logged so far."""
        return (self.workdir / "server.log").read_text(errors="replace")
