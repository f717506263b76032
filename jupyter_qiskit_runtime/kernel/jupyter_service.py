"""The service ``connect()`` returns: a ``QiskitRuntimeService`` whose jobs cost few requests.

The stock client sends five requests per job: the instance's usage, the backend's status, the
submission, the job's state (every 0.5 s, 0.1 s in a session, until it is final) and its result.
The service ``connect()`` builds sends one for a job that finishes within the server's quick wait
(``QiskitRuntimeApp.quick_job_wait``), two for a longer one. Its requests say ``Prefer: wait=N,
inline-result`` (RFC 7240): the server then holds the answer to the submission until the job is
final (for at most its quick wait), and puts a completed job's result in it, and answers
``GET /jobs/{id}/wait`` with the result too. The service's ``requests`` sessions (the client's
``RetrySession``, as a subclass) add the header and keep the submission's answer for its job.
These subclasses are used for the service ``connect()`` builds and nothing else (the client's
own classes and modules are left exactly as they are):

- ``JupyterRuntimeService`` makes every job it hands out a ``JupyterRuntimeJob``: the jobs the
  primitives submit (also in a ``Session`` or ``Batch``), and those ``service.job(id)`` and
  ``service.jobs()`` return. It also skips the usage request the client sends before each job: a
  local server has no usage limit to warn about.
- ``JupyterRuntimeJob.wait_for_final_state`` (which ``job.result()`` calls) waits on
  ``GET /jobs/{id}/wait``, in requests of at most a minute, unless the submission's answer said
  the job is final, and then goes the stock way, which returns at once for a final job. A server
  without the endpoint (an older one) is polled as before. ``result()`` decodes a result that came
  with an answer, as the client decodes the one it downloads, and downloads it otherwise.
- ``JupyterBackend.status()``, which the client asks before every submission only to warn about
  a backend that is not active, reuses a status fetched in the last ``STATUS_REUSE_SECONDS``
  during a submission; asked directly, it always asks the server.
- The client's notice that it loads "the given token" rather than a saved account is not shown
  for this construction: the token is the one ``connect()`` obtained. Every other message of the
  client's logger is.

The client's own request machinery (authentication, retries, error messages) sends the requests.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from qiskit_ibm_runtime import IBMBackend, QiskitRuntimeService, RuntimeJobV2
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.api.session import RetrySession
from qiskit_ibm_runtime.exceptions import RuntimeJobTimeoutError

#: The longest wait one request asks the server for, in seconds (the server's own maximum).
MAX_WAIT_SECONDS = 60.0

#: What every request of the service prefers: the submission's answer held until the job is
#: final (the server caps the wait at its ``quick_job_wait``), and a completed job's result in
#: the answers that can carry it.
PREFER = "wait=10, inline-result"

#: How old a backend status may be for a submission to reuse it (the client asks for it only
#: to warn about a backend that is not active).
STATUS_REUSE_SECONDS = 60.0

#: The client's logger whose notice about the given token ``connect()`` keeps quiet.
CLIENT_SERVICE_LOGGER = "qiskit_ibm_runtime.qiskit_runtime_service"
GIVEN_TOKEN_NOTICE = "Loading account with the given token"


class _DropGivenTokenNotice(logging.Filter):
    """Drops the client's notice that it uses the given token, and nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(GIVEN_TOKEN_NOTICE)


class JupyterBackend(IBMBackend):
    """An ``IBMBackend`` whose status, asked during a submission, may be a recent one."""

    _recent_status: tuple[float, Any] | None = None

    def status(self) -> Any:
        """The backend's status, from the server; during a submission by this thread, one
        fetched in the last ``STATUS_REUSE_SECONDS`` if there is one."""
        recent = self._recent_status
        submitting = threading.get_ident() in getattr(self._service, "_jqr_submitting", ())
        if (
            submitting
            and recent is not None
            and time.monotonic() - recent[0] < STATUS_REUSE_SECONDS
        ):
            return recent[1]
        status = super().status()
        self._recent_status = (time.monotonic(), status)
        return status


class JupyterRuntimeJob(RuntimeJobV2):
    """A ``RuntimeJobV2`` that waits for its final state on the server instead of polling, and
    takes its result from the server's answers when they carry it."""

    _inline_result: str | None = None

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

    def result(
        self,
        timeout: float | None = None,
        decoder: Any = None,
        poll_interval: float | None = None,
    ) -> Any:
        """The job's result, as the client's ``result``; from the server's answer when the
        answer carried it (once: a second call downloads it, as the client always does).

        The client's own ``result`` decodes it, each client version its own way: only its
        download of the result text is answered with the text already here."""
        self.wait_for_final_state(timeout=timeout, poll_interval=poll_interval)
        raw, self._inline_result = self._inline_result, None
        if raw is None or self._status != "DONE":
            return super().result(timeout=timeout, decoder=decoder, poll_interval=poll_interval)
        client = self.__dict__["_api_client"]
        self.__dict__["_api_client"] = _ResultAtHand(client, self.job_id(), raw)
        try:
            return super().result(timeout=timeout, decoder=decoder, poll_interval=poll_interval)
        finally:
            self.__dict__["_api_client"] = client

    def _take_answer(self, job: dict[str, Any]) -> None:
        """Take the state, error and any result from a server's answer about this job."""
        self._set_status(job)
        self._set_error_message(job)
        inline = job.get("result_inline")
        if isinstance(inline, str) and inline:
            self._inline_result = inline

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
            self._take_answer(job)
            if self._status in self.JOB_FINAL_STATES or left <= 0:
                return True


class _ResultAtHand:
    """A job's API client whose download of that job's result answers the text at hand; every
    other call goes to the client."""

    def __init__(self, client: Any, job_id: str, text: str) -> None:
        self._client = client
        self._job_id = job_id
        self._text = text

    def job_results(self, job_id: str) -> Any:
        """The text at hand for the job, else the client's download."""
        return self._text if job_id == self._job_id else self._client.job_results(job_id=job_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class JupyterRuntimeService(QiskitRuntimeService):
    """A ``QiskitRuntimeService`` for a Jupyter server's runtime API, built by ``connect()``."""

    def _discover_account(self, *args: Any, **kwargs: Any) -> Any:
        """The client's own account discovery, without its notice that it uses the given token
        (``connect()`` gave it the token it obtained): only that record is dropped, and only
        while this runs."""
        quiet = _DropGivenTokenNotice()
        logger = logging.getLogger(CLIENT_SERVICE_LOGGER)
        logger.addFilter(quiet)
        try:
            return super()._discover_account(*args, **kwargs)
        finally:
            logger.removeFilter(quiet)

    def _run(self, *args: Any, **kwargs: Any) -> RuntimeJobV2:
        """Submit a job, as the client does; it waits for its result on the server, and takes
        its final state and result from the submission's answer when that has them."""
        # The client makes new API clients as it goes (one per instance it resolves): each is
        # prepared before it submits.
        sessions = [c._session for c in (self._active_api_client, *self._api_clients.values())]
        for session in sessions:
            _prepare_session(session)
            _PreferringSession.take_answer(session)  # none left from a failed submission
        submitting: set[int] = self.__dict__.setdefault("_jqr_submitting", set())
        submitting.add(threading.get_ident())
        try:
            job = _adopt(super()._run(*args, **kwargs))
        finally:
            submitting.discard(threading.get_ident())
        answers = [_PreferringSession.take_answer(session) for session in sessions]
        answer = next((a for a in answers if a is not None and a.get("id") == job.job_id()), None)
        if isinstance(job, JupyterRuntimeJob) and answer is not None and "state" in answer:
            job._take_answer(answer)
        return job

    def _decode_job(self, raw_data: dict[str, Any]) -> RuntimeJobV2:
        """A job read from the server (``job``, ``jobs``); it waits for its result there."""
        return _adopt(super()._decode_job(raw_data))

    def _create_backend_obj(self, *args: Any, **kwargs: Any) -> IBMBackend:
        """The client's backend, whose status a submission may reuse (``JupyterBackend``)."""
        backend = super()._create_backend_obj(*args, **kwargs)
        if type(backend) is IBMBackend:
            backend.__class__ = JupyterBackend
        return backend

    def _check_instance_usage(self) -> None:
        """Nothing to check: a local server has no usage limit (this saves a request a job)."""


class _PreferringSession(RetrySession):
    """The client's ``RetrySession``, whose requests say ``Prefer: PREFER`` and which keeps the
    answer to each thread's last job submission for ``take_answer``. (The client resets a
    session's default headers whenever it builds a REST adapter, so the header is set on each
    request.)"""

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send ``request`` with the preference; keep the answer if it is a submission's."""
        request.headers.setdefault("Prefer", PREFER)
        response = super().send(request, **kwargs)
        if (
            request.method == "POST"
            and response.status_code == 201
            and request.path_url.split("?")[0].endswith("/jobs")
        ):
            answers = self.__dict__.setdefault("_jqr_answers", {})
            answers[threading.get_ident()] = response
        return response

    @staticmethod
    def take_answer(session: Any) -> dict[str, Any] | None:
        """The answer to this thread's last submission through ``session``, decoded, and
        forgotten; ``None`` if there is none."""
        response = session.__dict__.get("_jqr_answers", {}).pop(threading.get_ident(), None)
        if response is None:
            return None
        try:
            answer = response.json()
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None


def _prepare_session(session: Any) -> None:
    """Make a client's session a ``_PreferringSession``, keeping all its state."""
    if type(session) is RetrySession:
        session.__class__ = _PreferringSession


def _adopt(job: RuntimeJobV2) -> RuntimeJobV2:
    """Make a job of the client's own class a ``JupyterRuntimeJob``, keeping all its state."""
    if type(job) is RuntimeJobV2:
        job.__class__ = JupyterRuntimeJob
    return job
