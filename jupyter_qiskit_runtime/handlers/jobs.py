"""Jobs: create, list, get, wait for, changes, delete, results, cancel, logs, metrics, tags;
workloads."""

from __future__ import annotations

from urllib.parse import urlencode

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from ..runtime.errors import InvalidRequestError
from ..runtime.jobs import WORKLOAD_STATUS
from ..runtime.listing import (
    CHANGES_LIMIT_DEFAULT,
    CHANGES_LIMIT_MAX,
    CHANGES_LIMIT_MIN,
    JOBS_LIMIT_DEFAULT,
    JOBS_LIMIT_MAX,
    JOBS_LIMIT_MIN,
    JOBS_OFFSET_MAX,
    JOBS_SORTS,
    WORKLOADS_LIMIT_DEFAULT,
    WORKLOADS_LIMIT_MAX,
    WORKLOADS_LIMIT_MIN,
    WORKLOADS_MODES,
    WORKLOADS_SORTS,
    WORKLOADS_USERS,
)
from ..runtime.watch import DEFAULT_CHANGES_WAIT_SECONDS, DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS
from .base import INLINE_RESULT, RuntimeHandler, preferences, preferred_wait
from .query import (
    bool_argument,
    choice_argument,
    float_argument,
    int_argument,
    text_argument,
    text_arguments,
    time_range,
)

_ID = r"(?P<job_id>[A-Za-z0-9_-]+)"


class JobsHandler(RuntimeHandler):
    """``POST /jobs`` runs a program; ``GET /jobs`` lists the user's jobs."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Queue a job; answers 201 with its id, and its URL in ``Location``.

        The body is JSON (``Content-Type: application/json``, UTF-8; 415 otherwise), nested at
        most ``MAX_JSON_DEPTH`` deep; a ``cost`` over ``MAX_COST_SECONDS`` or a bad tag is a 400.
        The answer comes only once the job is stored durably.

        ``Prefer: wait=N`` (RFC 7240) holds the answer up to N seconds (at most
        ``QiskitRuntimeApp.quick_job_wait``; not for a job of a batch, nor while the user has
        other unfinished jobs) for the job to finish; a job that did then comes with its
        ``state`` and ``status``, and with ``Prefer: inline-result`` also with its result text
        as ``result_inline`` (when it completed, is not private and its result is at most a
        MiB). ``Preference-Applied`` says which applied.
        """
        prefs = preferences(self.request.headers.get("Prefer"))
        created = await self.runtime.submit(
            self.owner,
            self.json_body(),
            wait=preferred_wait(prefs),
            inline_result=INLINE_RESULT in prefs,
        )
        self.set_header("Location", url_path_join(self.request.path, created["id"]))
        self._preference_applied(prefs, created)
        self.write_json(created, status=201)

    @web.authenticated
    @authorized
    def get(self) -> None:
        """A page of the user's jobs and the number of all that match, as the client sends:

        ``limit`` (0-1000, default 10), ``offset``, ``sort`` (``DESC``, newest first, or
        ``ASC``), ``pending`` (``true``: queued and running; ``false``: final), ``backend``,
        ``program``, ``tags`` (repeated: jobs that have all of them), ``session_id``,
        ``created_after`` and ``created_before`` (ISO 8601, inclusive), ``exclude_params``
        (default ``true``), ``include_mocks`` (accepted; no backend here is a mock).
        """
        created_after, created_before = time_range(self)
        bool_argument(self, "include_mocks", False)
        sort = self.get_query_argument("sort", "DESC").upper()
        if sort not in JOBS_SORTS:
            choices = " or ".join(f"'{s}'" for s in JOBS_SORTS)
            raise InvalidRequestError(f"The query argument 'sort' must be {choices}.")
        self.write_json(
            self.runtime.jobs(
                self.owner,
                limit=int_argument(
                    self, "limit", JOBS_LIMIT_DEFAULT, JOBS_LIMIT_MIN, JOBS_LIMIT_MAX
                ),
                offset=int_argument(self, "offset", 0, 0, JOBS_OFFSET_MAX),
                descending=sort == "DESC",
                exclude_params=bool(bool_argument(self, "exclude_params", True)),
                pending=bool_argument(self, "pending", None),
                backend=text_argument(self, "backend"),
                program_id=text_argument(self, "program"),
                tags=text_arguments(self, "tags"),
                session_id=text_argument(self, "session_id"),
                created_after=created_after,
                created_before=created_before,
            )
        )


class JobHandler(RuntimeHandler):
    """``GET /jobs/{id}`` reads a job; ``DELETE`` deletes a final one."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        """A job's state (and params unless ``exclude_params=true``; never a private job's).

        A job submitted less than ``QiskitRuntimeApp.quick_job_wait`` seconds ago that is not
        final yet is first given until then to finish: the client's first status request then
        finds a quick job final, instead of asking again after its poll interval.
        """
        exclude = bool(bool_argument(self, "exclude_params", False))
        job = await self.long_poll(self.runtime.settled_job(self.owner, job_id, exclude))
        if job is not None:
            self.write_json(job)

    @web.authenticated
    @authorized
    def delete(self, job_id: str) -> None:
        """Delete the job with its params, result and logs: 204, or 409 unless it is final.

        IBM's API deletes only a job in a terminal state; cancel a pending job first.
        """
        self.runtime.delete_job(self.owner, job_id)
        self.write_no_content()


class JobWaitHandler(RuntimeHandler):
    """``GET /jobs/{id}/wait``: the job once it is final, or as it is when the timeout passes."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        """``timeout``: seconds to wait (0 to 60, default 30); ``exclude_params`` (default
        ``true``). The answer is shaped as ``GET /jobs/{id}``'s: ``state.status`` says whether
        the job is final. It comes as soon as the job is final, without polling. With
        ``Prefer: inline-result``, a completed job's answer has its result as ``result_inline``
        (see ``POST /jobs``)."""
        timeout = float_argument(self, "timeout", DEFAULT_WAIT_SECONDS, 0.0, MAX_WAIT_SECONDS)
        exclude = bool(bool_argument(self, "exclude_params", True))
        prefs = preferences(self.request.headers.get("Prefer"))
        job = await self.long_poll(
            self.runtime.wait_for_job(
                self.owner, job_id, timeout, exclude, inline_result=INLINE_RESULT in prefs
            )
        )
        if job is not None:
            self._preference_applied(prefs, job)
            self.write_json(job)


class JobChangesHandler(RuntimeHandler):
    """``GET /jobs/changes``: the user's jobs changed since a cursor, for live job lists."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """``since``: the ``cursor`` of an earlier answer (none: every job of the user);
        ``timeout``: seconds to wait for a change when there is none yet (0 to 60, default 0);
        ``limit``: most jobs in one answer (1 to 1000, default 100).

        Answers ``{"jobs": [...], "cursor": "...", "more": bool}``: each job changed since
        ``since`` once, as it is now (shaped as the listing's entries), in the order of their
        latest changes; the cursor to send next; whether ``limit`` left changed jobs out.
        Jobs submitted by any client of the user are included, never another user's.
        """
        timeout = float_argument(
            self, "timeout", DEFAULT_CHANGES_WAIT_SECONDS, 0.0, MAX_WAIT_SECONDS
        )
        limit = int_argument(
            self, "limit", CHANGES_LIMIT_DEFAULT, CHANGES_LIMIT_MIN, CHANGES_LIMIT_MAX
        )
        since = self.get_query_argument("since", None)
        page = await self.long_poll(self.runtime.job_changes(self.owner, since, timeout, limit))
        if page is not None:
            self.write_json(page)


class JobTagsHandler(RuntimeHandler):
    """``PUT /jobs/{id}/tags``: replace the job's tags (``job.update_tags()``)."""

    @web.authenticated
    @authorized
    def put(self, job_id: str) -> None:
        """Body ``{"tags": [...]}`` (JSON; 415 otherwise): at most 8 strings (counted before
        duplicates are dropped) of at most 86 characters, without control characters or
        surrogates; 204."""
        self.runtime.update_tags(self.owner, job_id, self.json_body())
        self.write_no_content()


class JobResultsHandler(RuntimeHandler):
    """``GET /jobs/{id}/results``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """The result: RuntimeEncoder JSON; for a failed job, its error message (the same as
        its ``state.reason``), never a traceback, which is in its logs."""
        self.write_text(self.runtime.results(self.owner, job_id))


class JobCancelHandler(RuntimeHandler):
    """``POST /jobs/{id}/cancel``: 204, or 409 when the job is already final."""

    @web.authenticated
    @authorized
    def post(self, job_id: str) -> None:
        """Cancel the job."""
        self.runtime.cancel(self.owner, job_id)
        self.write_no_content()


class JobLogsHandler(RuntimeHandler):
    """``GET /jobs/{id}/logs``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """The job's logs as text; a failed job's end with its error and traceback. Only its
        owner reads them (another user's job is a 404)."""
        self.write_text(self.runtime.logs(self.owner, job_id))


class JobMetricsHandler(RuntimeHandler):
    """``GET /jobs/{id}/metrics``."""

    @web.authenticated
    @authorized
    def get(self, job_id: str) -> None:
        """Timestamps, usage and queue position."""
        self.write_json(self.runtime.metrics(self.owner, job_id))


class WorkloadsHandler(RuntimeHandler):
    """``GET /workloads``: IBM's cursor-paged listing of a user's workloads.

    qiskit-ibm-runtime 0.51 has the call (``Runtime.workloads_get``) but no public method uses it;
    the answer follows IBM's ``PaginationWorkloadsResponse``: ``workloads``, ``total_count``,
    ``limit``, and ``next`` / ``previous`` as ``{"href": ...}`` where there is such a page.
    Filters: ``user`` (only ``me``), ``sort`` (``createdAt``, the default, oldest first, or
    ``-createdAt``), ``limit`` (1-50, default 10), ``next`` / ``previous`` (cursors from those
    hrefs), ``backend``, ``search`` (part of the id or of a tag), ``status`` (repeated or
    comma-separated: pending, in_progress, completed, failed, canceled), ``mode`` (every job is
    a ``job`` workload; sessions are listed by the session endpoints, so ``session`` and
    ``batch`` select nothing), ``created_after`` / ``created_before``, ``tags`` (all of them).
    """

    @web.authenticated
    @authorized
    def get(self) -> None:
        """A page of workloads."""
        choice_argument(self, "user", WORKLOADS_USERS)
        bool_argument(self, "include_mocks", False)
        next_cursor = self.get_query_argument("next", None)
        previous_cursor = self.get_query_argument("previous", None)
        if next_cursor is not None and previous_cursor is not None:
            raise InvalidRequestError(
                "Give at most one of the query arguments 'next' and 'previous'."
            )
        statuses = {s.strip() for raw in self.get_query_arguments("status") for s in raw.split(",")}
        statuses.discard("")
        by_name = {name: state for state, name in WORKLOAD_STATUS.items()}
        unknown = sorted(statuses - set(by_name))
        if unknown:
            raise InvalidRequestError(
                f"The query argument 'status' has unknown values {unknown}; use "
                f"{', '.join(by_name)}."
            )
        created_after, created_before = time_range(self)
        page = self.runtime.workloads(
            self.owner,
            limit=int_argument(
                self, "limit", WORKLOADS_LIMIT_DEFAULT, WORKLOADS_LIMIT_MIN, WORKLOADS_LIMIT_MAX
            ),
            descending=choice_argument(self, "sort", WORKLOADS_SORTS) == "-createdAt",
            statuses=frozenset(by_name[s] for s in statuses) if statuses else None,
            backend=text_argument(self, "backend"),
            tags=text_arguments(self, "tags"),
            created_after=created_after,
            created_before=created_before,
            search=text_argument(self, "search"),
            mode=choice_argument(self, "mode", WORKLOADS_MODES),
            next_cursor=next_cursor,
            previous_cursor=previous_cursor,
        )
        for name in ("next", "previous"):
            page[name] = {"href": self._page_href(name, page[name])} if page[name] else None
        self.write_json(page)

    def _page_href(self, name: str, cursor: str) -> str:
        """This request's URL with its cursor replaced by ``name=cursor``."""
        args = {
            key: self.get_query_arguments(key)
            for key in self.request.query_arguments
            if key not in ("next", "previous")
        }
        args[name] = [cursor]
        query = urlencode(args, doseq=True)
        return f"{self.request.protocol}://{self.request.host}{self.request.path}?{query}"


default_handlers = [
    (r"/v1/jobs", JobsHandler),
    (r"/v1/workloads", WorkloadsHandler),
    # Before /v1/jobs/{id}, which would take "changes" for a job id.
    (r"/v1/jobs/changes", JobChangesHandler),
    (rf"/v1/jobs/{_ID}", JobHandler),
    (rf"/v1/jobs/{_ID}/wait", JobWaitHandler),
    (rf"/v1/jobs/{_ID}/tags", JobTagsHandler),
    (rf"/v1/jobs/{_ID}/results", JobResultsHandler),
    (rf"/v1/jobs/{_ID}/cancel", JobCancelHandler),
    (rf"/v1/jobs/{_ID}/logs", JobLogsHandler),
    (rf"/v1/jobs/{_ID}/metrics", JobMetricsHandler),
]
