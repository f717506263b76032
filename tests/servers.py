"""A real Jupyter server process with the extension, for end-to-end tests through the client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

BASE_URL = "/a%40b/"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(RuntimeError):
    """Another process took the server's port before the server could bind it."""


class ServerProcess:
    """``jupyter server`` in its own process, with token auth and base_url ``/a%40b/``.

    Use it as a context manager (``with ServerProcess(...) as server:``) to start and stop it.
    With an empty ``token`` the server has no token (give it a password in ``extra_args``); it
    is then ready when it answers at all, as no credential of the test can ask the API.
    """

    def __init__(self, workdir: Path, token: str = "test-token", *extra_args: str) -> None:
        self.workdir = workdir
        self.token = token
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.db_path = workdir / "jobs.sqlite3"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL, with its base_url."""
        return f"http://127.0.0.1:{self.port}{BASE_URL}"

    @property
    def api(self) -> str:
        """The runtime API's base URL."""
        return f"{self.url}qiskit-runtime/v1"

    def headers(self, token: str | None = None) -> dict[str, str]:
        """Authorization headers for ``token`` (the server's own by default)."""
        return {"Authorization": f"token {token or self.token}"}

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the process and wait until the API answers.

        The port is chosen free, but another process may take it before the server binds it
        (tests and servers run side by side): then a new port is tried, up to three times."""
        for _ in range(2):
            try:
                return self._start(timeout)
            except PortTaken:
                self.port = free_port()
        return self._start(timeout)

    def _start(self, timeout: float) -> ServerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "JUPYTER_DATA_DIR": str(self.workdir / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
            "JUPYTER_CONFIG_DIR": str(self.workdir / "config"),
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), *sys.path]),
        }
        args = [
            sys.executable, "-m", "jupyter_server",
            "--allow-root", "--no-browser",
            f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.base_url={BASE_URL}",
            f"--ServerApp.root_dir={self.workdir}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.jpserver_extensions=jupyter_qiskit_runtime=True",
            f"--QiskitRuntimeApp.db_path={self.db_path}",
            *self.extra_args,
        ]  # fmt: skip
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.close()
                log = self.log_path.read_text()
                if f"The port {self.port} is already in use" in log:
                    raise PortTaken(self.port)
                raise RuntimeError(f"server exited early:\n{log[-3000:]}")
            try:
                if self._answers():
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")

    def _answers(self) -> bool:
        """Whether the API answers the token; without a token, whether Jupyter answers (its
        version, unauthenticated: extensions are loaded before the server listens)."""
        if not self.token:
            return requests.get(f"{self.url}api", timeout=2).status_code == 200
        return requests.get(self.api, headers=self.headers(), timeout=2).status_code == 200

    @property
    def runtime_dir(self) -> Path:
        """The server's Jupyter runtime directory (its ``jpserver-<pid>.json`` and ours)."""
        return self.workdir / "runtime"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Stop the process with ``sig`` (SIGKILL to simulate a crash) and wait for it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_text(self) -> str:
        """What the server has logged so far."""
        return self.log_path.read_text(errors="replace")
