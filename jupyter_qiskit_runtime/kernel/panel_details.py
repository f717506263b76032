"""The job panel's details of one job: its progress, its result, its logs.

A sampler result is drawn as a histogram of counts per PUB (matplotlib, into an ``Image``
widget; the most frequent outcomes when there are many), an estimator result as a table of
values with their standard deviations, a failed job as its reason and the traceback its logs end
with (the server keeps tracebacks out of results, for the job's owner's logs only). The result
comes from the service (``service.job(id).result()``), decoded by the client as the user's own
code would decode it; a private job's result is never read, since reading it deletes it.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from .api import ApiError, RuntimeAPI
from .panel_model import FINAL_STATES, format_duration, job_times, status_of

#: Outcomes drawn in a histogram; the others are summed into one bar.
TOP_OUTCOMES = 16
#: PUBs drawn or tabulated for one result; the others are counted.
MAX_PUBS = 8
#: Rows of an estimator table.
MAX_VALUES = 64
#: Width and height of a histogram in pixels.
HISTOGRAM_PIXELS = (520, 220)
#: Characters of a traceback or of logs shown (the end of longer ones).
MAX_TEXT = 20_000

_BAR_STYLES = {"Completed": "success", "Failed": "danger", "Cancelled": "warning"}


def failure_traceback(logs: str) -> str:
    """The last traceback in a job's logs (where the worker writes a failed job's); ``""`` if
    there is none."""
    index = logs.rfind("Traceback (most recent call last)")
    return logs[index:].rstrip() if index != -1 else ""


def _pre(text: str, css_class: str) -> str:
    """``text`` escaped in a scrolling ``<pre>``; the end of a longer one."""
    if len(text) > MAX_TEXT:
        text = "…" + text[-MAX_TEXT:]
    return (
        f'<pre class="{css_class}" style="max-height:16em;overflow:auto;margin:0;'
        f'font-size:11px;white-space:pre-wrap">{html.escape(text)}</pre>'
    )


def progress_steps(job: dict[str, Any], now: datetime) -> tuple[float, str, str]:
    """The progress of ``job``: a bar's value (0 to 1) and style, and the steps
    ``Queued → Running → <final>`` as HTML, with the time spent in each and in all."""
    status = status_of(job)
    times = job_times(job, now)
    final = status if status in FINAL_STATES else "Completed"
    steps = [
        ("Queued", times.queued, status == "Queued"),
        ("Running", times.running, status == "Running"),
        (final, None, status in FINAL_STATES),
    ]
    parts = []
    for name, seconds, current in steps:
        text = name + (f" {format_duration(seconds)}" if seconds is not None else "")
        parts.append(f"<b>{html.escape(text)}</b>" if current else html.escape(text))
    value = {"Queued": 1 / 3, "Running": 2 / 3}.get(status, 1.0)
    total = f" &nbsp;·&nbsp; elapsed {format_duration(times.total)}"
    return value, _BAR_STYLES.get(status, "info"), " → ".join(parts) + total


def histogram_png(counts: dict[str, int], title: str, top: int = TOP_OUTCOMES) -> bytes:
    """A bar chart of ``counts`` as PNG: the ``top`` most frequent outcomes, the rest as one."""
    from matplotlib.figure import Figure  # no pyplot: no global figure state

    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ranked[:top]
    rest = ranked[top:]
    if rest:
        shown.append((f"other ({len(rest)})", sum(c for _, c in rest)))
    labels, values = [k for k, _ in shown], [v for _, v in shown]
    width, height = HISTOGRAM_PIXELS
    figure = Figure(figsize=(width / 80, height / 80), dpi=80, layout="constrained")
    axes = figure.subplots()
    axes.bar(range(len(values)), values, color="#6929c4")
    axes.set_xticks(range(len(values)), labels, rotation=45 if len(labels) > 6 else 0, ha="right")
    axes.set_ylabel("counts")
    axes.set_title(title, fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def sampler_counts(pub_result: Any) -> dict[str, int]:
    """The counts of a sampler PUB's result, over all its classical registers (joined)."""
    try:
        return dict(pub_result.join_data().get_counts())
    except (AttributeError, ValueError, TypeError):
        for value in vars(pub_result.data).values():
            if hasattr(value, "get_counts"):
                return dict(value.get_counts())
    return {}


def estimator_table(result: Any) -> str:
    """An estimator result as an HTML table: PUB, index, value and standard deviation."""
    import numpy as np

    rows: list[str] = []
    total = 0
    for number, pub_result in enumerate(result):
        evs = np.asarray(pub_result.data.evs)
        stds = np.asarray(getattr(pub_result.data, "stds", np.full(evs.shape, np.nan)))
        for index in np.ndindex(evs.shape):
            total += 1
            if len(rows) < MAX_VALUES:
                where = ", ".join(map(str, index)) or "—"
                rows.append(
                    f"<tr><td>{number}</td><td>{where}</td><td>{float(evs[index]):.6g}</td>"
                    f"<td>± {float(stds[index]):.3g}</td></tr>"
                )
    more = f"<p>{total - len(rows)} more values not shown.</p>" if total > len(rows) else ""
    return (
        '<table class="qrt-estimator"><tr><th>PUB</th><th>index</th><th>value</th>'
        f"<th>std</th></tr>{''.join(rows)}</table>{more}"
    )


def result_widgets(result: Any) -> list[widgets.Widget]:
    """Widgets showing a decoded result: histograms, an estimator table, or its text."""
    pubs = list(result) if hasattr(result, "__iter__") and hasattr(result, "metadata") else []
    if pubs and all(hasattr(p, "join_data") for p in pubs):
        shown: list[widgets.Widget] = []
        for number, pub_result in enumerate(pubs[:MAX_PUBS]):
            counts = sampler_counts(pub_result)
            title = f"PUB {number}: {sum(counts.values())} shots, {len(counts)} outcomes"
            image = widgets.Image(
                value=histogram_png(counts, title),
                format="png",
                layout=widgets.Layout(width=f"{HISTOGRAM_PIXELS[0]}px"),
            )
            image.add_class("qrt-histogram")
            shown.append(image)
        if len(pubs) > MAX_PUBS:
            shown.append(widgets.HTML(f"{len(pubs) - MAX_PUBS} more PUBs not shown."))
        return shown
    if pubs and all(hasattr(p.data, "evs") for p in pubs):
        return [widgets.HTML(estimator_table(pubs))]
    return [widgets.HTML(_pre(repr(result), "qrt-result-text"))]


class JobDetails(widgets.VBox):
    """The selected job: title, progress, result (or failure) and logs.

    :meth:`show` is called on every change of the panel and on every tick of a pending job; it
    reads the result and logs again only when the job or its status changed.
    """

    def __init__(self, api: RuntimeAPI, load_result: Callable[[str], Any]) -> None:
        """Details that read logs (and a failed job's traceback in them) with ``api`` and results
        with ``load_result`` (a job id to the decoded result: the service's
        ``job(id).result()``)."""
        self._api = api
        self._load_result = load_result
        self._shown: tuple[str, str] | None = None
        self.title = widgets.HTML()
        self.bar = widgets.FloatProgress(min=0.0, max=1.0, layout=widgets.Layout(width="240px"))
        self.steps = widgets.HTML()
        self.steps.add_class("qrt-progress")
        self.result = widgets.VBox()
        self.result.add_class("qrt-result")
        self.logs = widgets.HTML()
        self.logs.add_class("qrt-logs")
        super().__init__(
            [
                self.title,
                widgets.HBox([self.bar, self.steps]),
                self.result,
                widgets.HTML("<b>Logs</b>"),
                self.logs,
            ],
            layout=widgets.Layout(display="none", border="1px solid #ccc", padding="4px"),
        )
        self.add_class("qrt-details")

    @property
    def job_id(self) -> str | None:
        """The job shown, if any."""
        return self._shown[0] if self._shown else None

    def show(self, job: dict[str, Any] | None, now: datetime) -> None:
        """Show ``job`` (an entry of the changes feed) as of ``now``; hide for ``None``."""
        if job is None:
            self._shown = None
            self.layout.display = "none"
            return
        job_id, status = str(job["id"]), status_of(job)
        value, style, steps = progress_steps(job, now)
        self.bar.value, self.bar.bar_style, self.steps.value = value, style, steps
        if self._shown == (job_id, status):
            return
        self._shown = (job_id, status)
        tags = ", ".join(job.get("tags") or []) or "none"
        program = str(job.get("program", {}).get("id"))
        self.title.value = (
            f"<b>Job {html.escape(job_id)}</b>: {html.escape(program)}"
            f" on {html.escape(str(job.get('backend')))}, {html.escape(status)}"
            f" &nbsp;·&nbsp; session {html.escape(str(job.get('session_id') or 'none'))}"
            f" &nbsp;·&nbsp; tags {html.escape(tags)}"
        )
        self.layout.display = "flex"
        try:
            logs, logs_error = self._api.logs(job_id), None
        except ApiError as exc:
            logs, logs_error = "", exc
        replaced = self.result.children
        self.result.children = tuple(self._result(job, status, logs))
        for child in replaced:
            child.close()
        if logs_error is not None:
            self.logs.value = f"<i>No logs: {html.escape(str(logs_error))}</i>"
        else:
            self.logs.value = _pre(logs, "qrt-log-text") if logs.strip() else "<i>No logs yet.</i>"

    def _result(self, job: dict[str, Any], status: str, logs: str) -> list[widgets.Widget]:
        """What the result area shows for ``job`` in ``status``, given its ``logs``."""
        job_id = str(job["id"])
        reason = str(job.get("state", {}).get("reason") or "")
        if status == "Failed":
            traceback = failure_traceback(logs)
            box = widgets.HTML(
                f'<div class="qrt-failure"><b>Failed:</b> {html.escape(reason or "no reason")}'
                f"{_pre(traceback, 'qrt-traceback') if traceback else ''}</div>"
            )
            return [box]
        if status == "Cancelled":
            return [widgets.HTML(f"<b>Cancelled</b>: {html.escape(reason or 'no reason given')}")]
        if status != "Completed":
            return [widgets.HTML("<i>The result appears here when the job is done.</i>")]
        if job.get("private"):
            return [
                widgets.HTML(
                    "<i>A private job's result can be read once, and reading it deletes it: "
                    "the panel leaves it for <code>job.result()</code>.</i>"
                )
            ]
        try:
            return result_widgets(self._load_result(job_id))
        except Exception as exc:  # any decoding or transport error is shown, not raised
            return [widgets.HTML(f"<i>Could not read the result: {html.escape(str(exc))}</i>")]

    def close(self) -> None:
        """Close this widget and the ones it made."""
        row = self.children[1]
        for child in (*self.result.children, *row.children, *self.children):
            child.close()
        super().close()
