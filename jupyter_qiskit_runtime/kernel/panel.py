"""The job panel: a live list of the user's jobs on the server, in stock ipywidgets.

``%qiskit_runtime`` shows it; ``jupyter_qiskit_runtime.panel(service)`` makes one. It lists every
job of the service's user on that server, also those submitted from other kernels and scripts,
newest first: id, backend, program, status, place in the queue, creation time, time queued and
running, tags and session. A daemon thread follows the server's report of job changes
(``GET /jobs/changes``, a long poll: ``panel_model.JobFeed``) and updates the widgets as changes
come, so the kernel runs other cells meanwhile (ipywidgets 8 sends widget updates from any
thread). Clicks are handled by the kernel between cells, as for any widget.

Actions: cancel a pending job, filter (all, pending, finished), page through the list, and select
a job to see its details (``panel_details.py``): progress, a histogram or a table of its result,
the reason and traceback of a failure, its logs. ``panel.close()`` stops the thread; so does the
kernel's exit.
"""

from __future__ import annotations

import atexit
import functools
import html
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import ipywidgets as widgets

from .api import ApiError, RuntimeAPI
from .panel_details import JobDetails
from .panel_model import (
    FILTERS,
    FINAL_STATES,
    JobFeed,
    JobTable,
    format_created,
    format_duration,
    job_times,
    status_of,
)

#: The columns of the list and their widths in pixels ("": the Cancel button, kept in sight
#: of the status on narrow pages).
COLUMNS = {
    "id": 184, "status": 84, "": 72, "backend": 150, "program": 72, "queue": 52,
    "created": 84, "queued": 72, "running": 72, "tags": 100, "session": 96,
}  # fmt: skip
#: The colour of each status.
STATUS_COLOURS = {
    "Queued": "#8a6d00", "Running": "#0f62fe", "Completed": "#198038",
    "Failed": "#da1e28", "Cancelled": "#a2191f",
}  # fmt: skip


def _width(column: str) -> widgets.Layout:
    return widgets.Layout(width=f"{COLUMNS[column]}px", min_width=f"{COLUMNS[column]}px")


class JobRow(widgets.HBox):
    """One row of the list; rows are kept and shown with other jobs as the page changes."""

    def __init__(self, on_select: Callable[[str], None], on_cancel: Callable[[str], None]) -> None:
        """A hidden row whose buttons call ``on_select(job_id)`` and ``on_cancel(job_id)``."""
        self.job_id: str | None = None
        self.select = widgets.Button(layout=_width("id"), tooltip="Show this job's details")
        self.select.style.font_family = "monospace"
        self.select.style.font_size = "12px"
        self.cells = {name: widgets.Label(layout=_width(name)) for name in COLUMNS if name}
        del self.cells["id"]
        self.cells["status"].add_class("qrt-status")
        self.cancel = widgets.Button(
            description="Cancel", button_style="warning", layout=_width(""), tooltip="Cancel"
        )
        self.cancel.add_class("qrt-cancel")
        self.select.on_click(lambda _: self.job_id and on_select(self.job_id))
        self.cancel.on_click(lambda _: self.job_id and on_cancel(self.job_id))
        super().__init__(
            [
                self.select if name == "id" else self.cells[name] if name else self.cancel
                for name in COLUMNS
            ]
        )
        self.add_class("qrt-row")
        self.layout.display = "none"

    @property
    def status(self) -> widgets.Label:
        """The status cell."""
        return self.cells["status"]

    def show(self, job: dict[str, Any], place: int | None, now: datetime, selected: bool) -> None:
        """Show ``job`` (an entry of the changes feed) as of ``now``."""
        job_id, status = str(job["id"]), status_of(job)
        if job_id != self.job_id:
            self.job_id = job_id
            self.cancel.disabled = False
        times = job_times(job, now)
        tags = ", ".join(job.get("tags") or [])
        values = {
            "backend": str(job.get("backend", "")),
            "program": str(job.get("program", {}).get("id", "")),
            "status": status,
            "queue": str(place) if place else "—",
            "created": format_created(job.get("created"), now),
            "queued": format_duration(times.queued),
            "running": format_duration(times.running),
            "tags": tags or "—",
            "session": str(job.get("session_id") or "—"),
        }
        for name, value in values.items():
            self.cells[name].value = value
        self.cells["tags"].tooltip = tags or None
        self.cells["backend"].tooltip = values["backend"]
        self.status.style.text_color = STATUS_COLOURS.get(status, "")
        self.select.description = job_id
        self.select.button_style = "info" if selected else ""
        self.cancel.layout.visibility = "hidden" if status in FINAL_STATES else "visible"
        self.layout.display = "flex"

    def hide(self) -> None:
        """Show nothing."""
        self.job_id = None
        self.layout.display = "none"

    def close(self) -> None:
        """Close this row and its widgets."""
        for child in self.children:
            child.close()
        super().close()


class JobPanel(widgets.VBox):
    """A live list of the jobs of ``service``'s user on its server (see the module's doc).

    Args:
        service: A ``QiskitRuntimeService`` for a Jupyter server (``connect()``'s); the panel
            uses its URL and credential, and ``service.job(id).result()`` for results.
        page_size: Jobs per page.
        poll_seconds: How long one request waits for a change when no job is pending (while
            one is, the list's times are brought up to date every second).
    """

    def __init__(self, service: Any, *, page_size: int = 20, poll_seconds: float = 25.0) -> None:
        """A panel following ``service``'s jobs; its thread starts at once."""
        self._service = service
        self._api = RuntimeAPI.for_service(service)
        self._poll_seconds = poll_seconds
        self._lock = threading.RLock()
        self._closed = False
        self.table = JobTable(page_size)
        self.selected_id: str | None = None
        where = urlsplit(str(service._account.url))
        self.title = widgets.HTML(f"<b>Qiskit Runtime jobs</b> at {html.escape(where.netloc)}")
        self.summary = widgets.HTML("reading jobs…")
        self.message = widgets.HTML()
        self.message.add_class("qrt-message")
        self.reload_button = widgets.Button(
            description="Reload", icon="refresh", tooltip="Read all jobs again"
        )
        self.filter = widgets.ToggleButtons(options=list(FILTERS), value="All")
        self.previous = widgets.Button(description="◀", layout=widgets.Layout(width="40px"))
        self.next = widgets.Button(description="▶", layout=widgets.Layout(width="40px"))
        self.page_label = widgets.Label()
        self.rows = [JobRow(self.select, self.cancel) for _ in range(page_size)]
        header = [widgets.HTML(f"<b>{name}</b>", layout=_width(name)) for name in COLUMNS]
        self.details = JobDetails(self._api, self._load_result)
        self._boxes = [
            widgets.HBox([self.title, self.summary, self.reload_button]),
            widgets.HBox([self.filter, self.previous, self.page_label, self.next]),
            widgets.HBox(header),
            widgets.VBox(self.rows, layout=widgets.Layout(overflow="auto")),
        ]
        super().__init__([*self._boxes, self.message, self.details])
        self.add_class("qrt-panel")
        self.reload_button.on_click(lambda _: self.reload())
        self.filter.observe(self._on_filter, "value")
        self.previous.on_click(lambda _: self._turn(-1))
        self.next.on_click(lambda _: self._turn(+1))
        self._feed = JobFeed(self._api, self, name=f"qiskit-runtime-panel-{id(self):x}").start()
        self._at_exit = functools.partial(_stop_at_exit, weakref.ref(self))
        atexit.register(self._at_exit)

    # The feed's sink (called from its thread).

    def feed_jobs(self, jobs: list[dict[str, Any]], reset: bool) -> None:
        """Take changed jobs from the feed (all of them when ``reset``) and redraw."""
        with self._lock:
            if self._closed:
                return
            if reset:
                self.table.clear()
            self.table.apply(jobs)
            self._render()

    def feed_error(self, message: str | None) -> None:
        """Say that the server cannot be reached, or no more."""
        with self._lock:
            if not self._closed:
                self.message.value = (
                    f"<span style='color:#da1e28'>Cannot follow the server's jobs "
                    f"({html.escape(message)}); trying again.</span>"
                    if message
                    else ""
                )

    def poll_timeout(self) -> float:
        """One second while a job is pending (its times grow), else ``poll_seconds``."""
        with self._lock:
            return 1.0 if self.table.has_pending() else self._poll_seconds

    # Actions.

    def select(self, job_id: str | None) -> None:
        """Show the details of ``job_id`` (``None``, or the job shown: hide them)."""
        with self._lock:
            self.selected_id = None if job_id == self.selected_id else job_id
            self._render()

    def cancel(self, job_id: str) -> None:
        """Ask the server to cancel ``job_id``; the list shows the result as the server reports
        it."""
        with self._lock:
            for row in self.rows:
                if row.job_id == job_id:
                    row.cancel.disabled = True
        try:
            self._api.cancel(job_id)
        except ApiError as exc:
            said = f"Could not cancel {html.escape(job_id)}: {html.escape(str(exc))}"
        else:
            said = f"Cancelling {html.escape(job_id)}."
        with self._lock:
            self.message.value = said

    def reload(self) -> None:
        """Read every job again (after jobs were deleted, which the feed does not report)."""
        self._feed.stop()
        with self._lock:
            if self._closed:
                return
            self.summary.value = "reading jobs…"
            self._feed = JobFeed(self._api, self, name=self._feed.thread.name).start()

    def row_for(self, job_id: str) -> JobRow | None:
        """The row showing ``job_id`` on the current page, if any."""
        return next((row for row in self.rows if row.job_id == job_id), None)

    @property
    def updater(self) -> threading.Thread:
        """The thread that follows the server's job changes."""
        return self._feed.thread

    def _on_filter(self, change: dict[str, Any]) -> None:
        with self._lock:
            self.table.filter, self.table.page = str(change["new"]), 0
            self._render()

    def _turn(self, pages: int) -> None:
        with self._lock:
            self.table.page += pages
            self._render()

    def _load_result(self, job_id: str) -> Any:
        return self._service.job(job_id).result()

    def _render(self) -> None:
        """Draw the table's current page and the selected job (holding the lock)."""
        now = datetime.now(UTC)
        jobs, start, total = self.table.page_jobs()
        places = self.table.queue_positions()
        for row, job in zip(self.rows, jobs, strict=False):
            row.show(job, places.get(str(job["id"])), now, str(job["id"]) == self.selected_id)
        for row in self.rows[len(jobs) :]:
            row.hide()
        pending = sum(status_of(job) not in FINAL_STATES for job in self.table.jobs.values())
        self.summary.value = f"&nbsp; {len(self.table.jobs)} jobs, {pending} pending &nbsp;"
        self.page_label.value = f"{start + 1}-{start + len(jobs)} of {total}" if total else "none"
        self.previous.disabled = self.table.page == 0
        self.next.disabled = self.table.page >= self.table.page_count - 1
        self.details.show(self.table.jobs.get(self.selected_id or ""), now)

    def close(self) -> None:
        """Stop following the server and close the panel's widgets."""
        self._closed = True
        self._feed.stop()
        self._api.close()
        atexit.unregister(self._at_exit)
        with self._lock:
            for row in self.rows:
                row.close()
            for box in self._boxes:
                for child in box.children:
                    child.close()
                box.close()
            for widget in (self.message, self.details):
                widget.close()
            super().close()


def _stop_at_exit(panel: weakref.ReferenceType[JobPanel]) -> None:
    """At the interpreter's exit: stop the panel's thread, if the panel is still there."""
    live = panel()
    if live is not None:
        live._closed = True
        live._feed.stop(timeout=2.0)
