"""The service ``connect()`` returns: a ``QiskitRuntimeService`` whose jobs wait on the server.

The stock client waits for a job by asking for its state every 0.5 s (0.1 s in a session), so a
job that takes milliseconds costs half a second. The server has ``GET /jobs/{id}/wait``, which
answers as soon as the job is final. Two subclasses use it, for the service ``connect()`` builds
and nothing else (the client's own classes and modules are left exactly as they are):

- ``JupyterRuntimeService`` makes every job it hands out a ``JupyterRuntimeJob``: the jobs the
  primitives submit (also in a ``Session`` or ``Batch``), and those ``service.job(id)`` and
  ``service.jobs()`` return. It also skips the usage request the client sends before each job: a
  local server has no usage limit to warn about.
- ``JupyterRuntimeJob.wait_for_final_state`` (which ``job.result()`` calls) waits on that
  endpoint, in requests of at most a minute, and then goes the stock way, which returns at once
  for a final job. A server without the endpoint (an older one) is polled as before.

The client's own request machinery (authentication, retries, error messages) sends the requests.
"""

from __future__ import annotations

import time
from typing import Any

from qiskit_ibm_runtime import QiskitRuntimeService, RuntimeJobV2
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import RuntimeJobTimeoutError

#: The longest wait one request asks the server for, in seconds (the server's own maximum).
MAX_WAIT_SECONDS = 60.0


class JupyterRuntimeJob(RuntimeJobV2):
    """A ``RuntimeJobV2`` that waits for its final state on the server instead of polling."""

    def wait_for_final_state(
        self, timeout: float | None = None, poll_interval: float | None = None
    ) -> None:
        """Wait until the job is final: on the server (``GET /jobs/{id}/wait``), then as the
        stock client does, which returns at once for a final job and polls a server that cannot
        wait.

        Raises:
            RuntimeJobTimeoutError: If the job is not final within ``timeout`` seconds.
        """
        start = time.monotonic()
        waited = self._status in self.JOB_FINAL_STATES or self._wait_on_server(timeout)
        if waited and self._status not in self.JOB_FINAL_STATES:
            raise RuntimeJobTimeoutError(
                f"Timed out waiting for job to complete after {timeout} secs."
            )
        remaining = None if timeout is None else max(timeout - (time.monotonic() - start), 0.0)
        super().wait_for_final_state(timeout=remaining, poll_interval=poll_interval)

    def _wait_on_server(self, timeout: float | None) -> bool:
        """Ask the server to answer when the job is final, until it is or ``timeout`` passes;
        false if the server cannot be asked (no such endpoint, or an error the stock way then
        reports as it always does)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = MAX_WAIT_SECONDS if deadline is None else deadline - time.monotonic()
            try:
                response = self._api_client._session.get(
                    f"/jobs/{self.job_id()}/wait",
                    params={"timeout": f"{min(max(left, 0.0), MAX_WAIT_SECONDS):.3f}"},
                    headers={"Accept": "application/json"},
                )
                job = response.json()
                if not isinstance(job, dict) or "state" not in job:
                    return False
            except (RequestsApiError, ValueError):
                return False
            self._set_status(job)
            self._set_error_message(job)
            if self._status in self.JOB_FINAL_STATES or left <= 0:
                return True


class JupyterRuntimeService(QiskitRuntimeService):
    """A ``QiskitRuntimeService`` for a Jupyter server's runtime API, built by ``connect()``."""

    def _run(self, *args: Any, **kwargs: Any) -> RuntimeJobV2:
        """Submit a job, as the client does; it waits for its result on the server."""
        return _adopt(super()._run(*args, **kwargs))

    def _decode_job(self, raw_data: dict[str, Any]) -> RuntimeJobV2:
        """A job read from the server (``job``, ``jobs``); it waits for its result there."""
        return _adopt(super()._decode_job(raw_data))

    def _check_instance_usage(self) -> None:
        """Nothing to check: a local server has no usage limit (this saves a request a job)."""


def _adopt(job: RuntimeJobV2) -> RuntimeJobV2:
    """Make a job of the client's own class a ``JupyterRuntimeJob``, keeping all its state."""
    if type(job) is RuntimeJobV2:
        job.__class__ = JupyterRuntimeJob
    return job
