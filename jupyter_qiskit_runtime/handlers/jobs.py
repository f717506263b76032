"""Jobs: create, list, get, results, cancel, logs, metrics."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..runtime.errors import InvalidRequestError
from .base import RuntimeHandler

_ID = r"(?P<job_id>[A-Za-z0-9_-]+)"


class JobsHandler(RuntimeHandler):
    """``POST /jobs`` runs a program; ``GET /jobs`` lists the user's jobs."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Queue a job; answers 201 with its id, and its URL in ``Location``."""
        created = await self.runtime.submit(self.owner, self.request.body)
        self.set_header("Location", url_path_join(self.request.path, created["id"]))
        self.write_json(created, status=201)

    @web.authenticated
    @authorized
    def get(self) -> None:
        """A page of the user's jobs, newest first (``sort=ASC`` for oldest first)."""
        pending = self.get_query_argument("pending", None)
        if pending not in (None, "true", "false"):
            raise InvalidRequestError("The query argument 'pending' must be 'true' or 'false'.")
        self.write_json(
            self.runtime.jobs(
                self.owner,
                limit=self._int_argument("limit", 10, 0, 1000),
                offset=self._int_argument("offset", 0, 0, None),
                pending=None if pending is None else pending == "true",
                backend=self.get_query_argument("backend", None),
                program_id=self.get_query_argument("program", None),
                descending=self.get_query_argument("sort", "DESC").upper() != "ASC",
            )
        )

    def _int_argument(self, name: str, default: int, low: int, high: int | None) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidRequestError(f"The query argument '{name}' must be an integer.") from None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidRequestError(f"The query argument '{name}' must be {bounds}.")
        return value


class JobHandler(RuntimeHandler):
    """``GET /jobs/{id}``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """A job's state (and params unless ``exclude_params=true``)."""
        exclude = self.get_query_argument("exclude_params", "false").lower() == "true"
        self.write_json(self.runtime.job(self.owner, job_id, exclude_params=exclude))


class JobResultsHandler(RuntimeHandler):
    """``GET /jobs/{id}/results``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """The result: RuntimeEncoder JSON, or the traceback of a failed job."""
        self.write_text(self.runtime.results(self.owner, job_id))


class JobCancelHandler(RuntimeHandler):
    """``POST /jobs/{id}/cancel``: 204, or 409 when the job is already final."""

    @web.authenticated
    @authorized
    def post(self, job_id: str) -> None:
        """Cancel the job."""
        self.runtime.cancel(self.owner, job_id)
        self.set_status(204)
        self.finish()


class JobLogsHandler(RuntimeHandler):
    """``GET /jobs/{id}/logs``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """The job's logs as text."""
        self.write_text(self.runtime.logs(self.owner, job_id))


class JobMetricsHandler(RuntimeHandler):
    """``GET /jobs/{id}/metrics``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """Timestamps, usage and queue position."""
        self.write_json(self.runtime.metrics(self.owner, job_id))


default_handlers = [
    (r"/v1/jobs", JobsHandler),
    (rf"/v1/jobs/{_ID}", JobHandler),
    (rf"/v1/jobs/{_ID}/results", JobResultsHandler),
    (rf"/v1/jobs/{_ID}/cancel", JobCancelHandler),
    (rf"/v1/jobs/{_ID}/logs", JobLogsHandler),
    (rf"/v1/jobs/{_ID}/metrics", JobMetricsHandler),
]
