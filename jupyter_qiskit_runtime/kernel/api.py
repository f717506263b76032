"""A small HTTP client for the runtime API, for the job panel: its requests can be interrupted.

The panel follows ``GET /jobs/changes`` in a thread, in long polls of up to half a minute. To stop
that thread at once when the panel closes, every request's socket is known, and :meth:`close`
shuts them down, which ends a blocked read with an error. ``requests`` hides its sockets, so this
uses ``http.client`` from the standard library. It authenticates as the given
``QiskitRuntimeService`` does, with the service's credential (``connect()`` gives the service a
runtime API key) as ``Authorization: apikey <credential>``, which the server accepts for its own
keys and for any token Jupyter accepts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
from typing import Any
from urllib.parse import quote, urlencode, urlsplit


class ApiError(RuntimeError):
    """A request failed: ``status`` is the HTTP status, or 0 when no answer came."""

    def __init__(self, message: str, status: int = 0) -> None:
        """An error with the server's message and the HTTP status (0: no answer)."""
        super().__init__(message)
        self.status = status


class RuntimeAPI:
    """Requests to one server's runtime API (``.../qiskit-runtime/v1``) with one credential."""

    def __init__(self, api_url: str, credential: str, verify: bool = True) -> None:
        """``api_url`` is the API's base URL; ``credential`` a runtime API key or Jupyter token."""
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"Not an http(s) URL: {api_url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"apikey {credential}", "Accept": "application/json"}
        self._context: ssl.SSLContext | None = None
        if self._https:
            self._context = ssl.create_default_context()
            if not verify:
                self._context.check_hostname = False
                self._context.verify_mode = ssl.CERT_NONE
        self._lock = threading.Lock()
        self._open: set[http.client.HTTPConnection] = set()
        self._closed = False

    @classmethod
    def for_service(cls, service: Any) -> RuntimeAPI:
        """The API that ``service`` (a ``QiskitRuntimeService`` for a Jupyter server) talks to,
        with its credential: what ``connect()`` built it with."""
        account = service._account
        return cls(str(account.url), str(account.token), verify=account.verify is not False)

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        timeout: float = 30.0,
        stop: threading.Event | None = None,
    ) -> bytes:
        """``method`` on ``path`` (below the API's base URL); the body of a 2xx answer. With
        ``stop``, a request that starts after it is set is refused: an :meth:`interrupt` that
        follows ``stop.set()`` then ends the request even if it had not connected yet.

        Raises:
            ApiError: No answer (status 0), an answer that is not 2xx (with the server's
                message), or the API closed.
        """
        target = self._prefix + quote(path, safe="/")
        if params:
            target += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        conn = self._connection(timeout, stop)
        try:
            conn.request(method, target, headers=self._headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ApiError(f"No answer from the server: {exc}") from exc
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()
        if not 200 <= response.status < 300:
            raise ApiError(_message(body, response.status), response.status)
        return body

    def _connection(
        self, timeout: float, stop: threading.Event | None = None
    ) -> http.client.HTTPConnection:
        """A connected connection, registered so that :meth:`close` can interrupt it."""
        conn: http.client.HTTPConnection
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            conn.connect()
        except OSError as exc:
            raise ApiError(f"Could not reach the server: {exc}") from exc
        with self._lock:
            if self._closed:
                conn.close()
                raise ApiError("The panel's connection is closed.")
            if stop is not None and stop.is_set():
                conn.close()
                raise ApiError("The request was stopped.")
            self._open.add(conn)
        return conn

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, its answer decoded from JSON."""
        return json.loads(self.request(method, path, **kwargs))

    def changes(
        self,
        since: str | None,
        timeout: float,
        limit: int = 1000,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """``GET /jobs/changes``: the user's jobs changed after ``since`` (every job when
        ``None``), waiting up to ``timeout`` seconds (at most 60) for a change; ``stop`` as for
        :meth:`request`."""
        params = {"since": since, "timeout": f"{timeout:.3f}", "limit": limit}
        answer: dict[str, Any] = self.json(
            "GET", "/jobs/changes", params=params, timeout=90.0, stop=stop
        )
        return answer

    def cancel(self, job_id: str) -> None:
        """``POST /jobs/{id}/cancel`` (409 when the job is already final)."""
        self.request("POST", f"/jobs/{job_id}/cancel")

    def logs(self, job_id: str) -> str:
        """The job's logs."""
        return self.request("GET", f"/jobs/{job_id}/logs").decode("utf-8", "replace")

    def metrics(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{id}/metrics``: timestamps, usage, ``position_in_queue``."""
        answer: dict[str, Any] = self.json("GET", f"/jobs/{job_id}/metrics")
        return answer

    def interrupt(self) -> None:
        """End the requests in flight now: each raises :class:`ApiError` at once."""
        with self._lock:
            conns = list(self._open)
        for conn in conns:
            sock = conn.sock
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Interrupt the requests in flight and refuse new ones."""
        with self._lock:
            self._closed = True
        self.interrupt()


def _message(body: bytes, status: int) -> str:
    """The server's error message in an answer's body, or the status."""
    try:
        answer = json.loads(body)
        message = answer.get("message") or answer.get("error", {}).get("message")
    except (ValueError, AttributeError):
        message = None
    return f"{status}: {message}" if message else f"HTTP {status}"
