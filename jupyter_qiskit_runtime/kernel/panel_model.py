"""What the job panel shows, without widgets: the user's jobs, and the thread that follows them.

:class:`JobTable` keeps every job of the user as the server last reported it, and answers the
panel's questions: which jobs a filter and a page select, each one's place in the queue, and how
long it queued and ran. :class:`JobFeed` keeps it current: a daemon thread that follows
``GET /jobs/changes`` in long polls (one request for every job of the user, however many), and
hands each answer to its sink. The panel (``panel.py``) draws both with ipywidgets.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from .api import ApiError, RuntimeAPI

#: The final states of a job.
FINAL_STATES = frozenset({"Completed", "Failed", "Cancelled"})
#: The filters of the panel, and which states each shows (``None``: all).
FILTERS: dict[str, frozenset[str] | None] = {
    "All": None,
    "Pending": frozenset({"Queued", "Running"}),
    "Finished": FINAL_STATES,
}


def parse_time(value: Any) -> datetime | None:
    """A timestamp of the API (ISO 8601, ``Z`` for UTC) as an aware datetime; ``None`` if none."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_duration(seconds: float | None) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s``, ``2 h 07 min``; an em dash for ``None``."""
    if seconds is None:
        return "—"
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_created(value: Any, now: datetime) -> str:
    """A creation time in local time: ``14:03:07`` today, ``2024-05-27 14:03`` before."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    local = moment.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class JobTimes:
    """How long a job queued and ran (``None``: it did not run), and in all, in seconds."""

    queued: float | None
    running: float | None
    total: float | None


def job_times(job: dict[str, Any], now: datetime) -> JobTimes:
    """The times of ``job`` (an entry of the changes feed) as of ``now``."""
    created, started = parse_time(job.get("created")), parse_time(job.get("started"))
    ended = parse_time(job.get("ended"))
    end = ended or now
    if created is None:
        return JobTimes(None, None, None)
    queued = ((started or end) - created).total_seconds()
    running = None if started is None else (end - started).total_seconds()
    return JobTimes(queued, running, (end - created).total_seconds())


def status_of(job: dict[str, Any]) -> str:
    """A job's status (``Queued``, ``Running``, ``Completed``, ``Failed``, ``Cancelled``)."""
    return str(job.get("status") or job.get("state", {}).get("status", ""))


class JobTable:
    """Every job of the user as last reported, with a filter and a page of ``page_size`` rows."""

    def __init__(self, page_size: int = 20) -> None:
        """An empty table; the first page, showing all jobs."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1.")
        self.page_size = page_size
        self.jobs: dict[str, dict[str, Any]] = {}
        self.filter = "All"
        self.page = 0

    def apply(self, jobs: list[dict[str, Any]]) -> None:
        """Take these jobs as they are now (entries of ``GET /jobs/changes``)."""
        for job in jobs:
            self.jobs[str(job["id"])] = job

    def clear(self) -> None:
        """Forget every job (before reading them all again)."""
        self.jobs.clear()

    def selected(self) -> list[dict[str, Any]]:
        """The jobs the filter selects, newest first."""
        states = FILTERS[self.filter]
        chosen = [j for j in self.jobs.values() if states is None or status_of(j) in states]
        chosen.sort(key=lambda j: (str(j.get("created", "")), str(j["id"])), reverse=True)
        return chosen

    @property
    def page_count(self) -> int:
        """Pages under the current filter (at least 1)."""
        return max(1, -(-len(self.selected()) // self.page_size))

    def page_jobs(self) -> tuple[list[dict[str, Any]], int, int]:
        """The jobs of the current page, the index of its first among all selected, and how
        many are selected. The page is moved back if it is past the last one."""
        chosen = self.selected()
        last = max(0, (len(chosen) - 1) // self.page_size)
        self.page = min(max(self.page, 0), last)
        start = self.page * self.page_size
        return chosen[start : start + self.page_size], start, len(chosen)

    def queue_positions(self) -> dict[str, int]:
        """The 1-based place of each queued job among the user's queued jobs, as the server's
        scheduler serves them (first in, first out)."""
        queued = [j for j in self.jobs.values() if status_of(j) == "Queued"]
        queued.sort(key=lambda j: (str(j.get("created", "")), str(j["id"])))
        return {str(j["id"]): place for place, j in enumerate(queued, start=1)}

    def has_pending(self) -> bool:
        """Whether any job is queued or running (whose times then grow)."""
        return any(status_of(j) not in FINAL_STATES for j in self.jobs.values())


class FeedSink(Protocol):
    """What :class:`JobFeed` reports to (the panel)."""

    def feed_jobs(self, jobs: list[dict[str, Any]], reset: bool) -> None:
        """Jobs changed (``reset``: these are all the jobs, the first answer); or, with none,
        time passed (a poll timed out)."""

    def feed_error(self, message: str | None) -> None:
        """The server could not be asked (``None``: it answers again)."""

    def poll_timeout(self) -> float:
        """Seconds the next long poll may wait for a change."""


class JobFeed:
    """A daemon thread following ``GET /jobs/changes`` for a sink, until :meth:`stop`.

    The thread holds its sink weakly: if the sink is gone, the thread ends. It waits on the
    server, never in a loop of its own: each request returns at the first change or after the
    sink's ``poll_timeout()``. After an error it waits 1 s, then 2, 4, up to 15 s, and tries again.
    """

    def __init__(self, api: RuntimeAPI, sink: FeedSink, name: str = "qiskit-runtime-panel") -> None:
        """A feed for ``sink`` over ``api``; not started."""
        self._api = api
        self._sink = weakref.ref(sink)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> JobFeed:
        """Start following the changes."""
        self.thread.start()
        return self

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self.thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread: interrupt its request and wait for it (at most ``timeout`` s)."""
        self._stop.set()
        self._api.interrupt()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _run(self) -> None:
        cursor: str | None = None
        first, more, backoff = True, True, 0.0
        while not self._stop.is_set():
            sink = self._sink()
            if sink is None:
                return
            # Jobs left out by the limit (or all of them, at first) come at once, without waiting.
            timeout = 0.0 if more else min(max(sink.poll_timeout(), 0.0), 55.0)
            del sink  # not held while waiting on the server
            try:
                # The stop event closes the gap between the loop's check and the request's
                # connection, which an interrupt alone would miss.
                page = self._api.changes(cursor, timeout, stop=self._stop)
            except ApiError as exc:
                if self._stop.is_set() or (sink := self._sink()) is None:
                    return
                sink.feed_error(str(exc))
                del sink
                backoff = min(max(backoff * 2, 1.0), 15.0)
                self._stop.wait(backoff)
                continue
            if self._stop.is_set() or (sink := self._sink()) is None:
                return
            if backoff:
                sink.feed_error(None)
                backoff = 0.0
            cursor, more = str(page["cursor"]), bool(page.get("more"))
            sink.feed_jobs(list(page.get("jobs", [])), first)
            first = False
            del sink
