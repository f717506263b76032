"""The job panel (``jupyter_qiskit_runtime.panel``), driven as a user would, against a real server.

The tests read the widgets' state (``get_state()``) and press their buttons (``.click()``) in
this process, where widgets have no front end; the panel's thread follows the session's server.
The last tests show the panel from ``%qiskit_runtime`` and run notebooks/job_panel.ipynb in a
kernel that the server started.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import ipywidgets as widgets
import nbformat
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, SamplerV2

from jupyter_qiskit_runtime import panel as make_panel
from jupyter_qiskit_runtime.kernel.panel import JobPanel, JobRow

from .circuits import bell_isa, endless_circuit, entangling_circuit, sampler_job_body
from .kernels import ServerKernel, errors, stream_text
from .rest import RestClient
from .servers import ServerProcess, free_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "job_panel.ipynb"
#: A bound on every wait: a guard against a hang, not a timing requirement.
WAIT_SECONDS = 120.0
PNG = b"\x89PNG\r\n\x1a\n"
FINAL = {"Completed", "Failed", "Cancelled"}


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``condition`` until it is true; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s: {what}")


def status_in(panel: JobPanel, job_id: str) -> str | None:
    """The status the panel's list shows for ``job_id`` (read from the widget's state)."""
    row = panel.row_for(job_id)
    return None if row is None else str(row.status.get_state()["value"])


def cells(row: JobRow) -> dict[str, str]:
    """The texts of a row, by column."""
    return {name: str(label.get_state()["value"]) for name, label in row.cells.items()}


@pytest.fixture
def panel(service) -> Iterator[JobPanel]:
    """A panel on the session's server, closed after the test."""
    job_panel = make_panel(service)
    wait_until(lambda: "jobs," in job_panel.summary.value, "the panel read the jobs")
    yield job_panel
    job_panel.close()


def test_importing_the_package_imports_no_widgets_nor_matplotlib() -> None:
    """``panel`` is imported lazily: the package alone imports neither ipywidgets nor
    matplotlib nor Qiskit."""
    code = (
        "import sys, jupyter_qiskit_runtime\n"
        "assert callable(jupyter_qiskit_runtime.panel)\n"
        "mods = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(mods & {'qiskit', 'IPython', 'ipywidgets', 'matplotlib'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_job_appears_and_reaches_its_final_state(panel: JobPanel, service, server) -> None:
    """A job submitted with the service, and one from another client of the same user (a
    script posting to the REST API), show in the list and go on to Completed there, with their
    backend, program, tags and times."""
    backend = service.backend("fake_manila@aer_ideal")
    sampler = SamplerV2(mode=backend)
    sampler.options.environment.job_tags = ["panel-test"]
    job = sampler.run([bell_isa()], shots=100)
    other = RestClient(server).submit(sampler_job_body("fake_manila@aer_ideal", bell_isa(), 50))
    for job_id in (job.job_id(), other):
        wait_until(lambda j=job_id: status_in(panel, j) == "Completed", f"{job_id} Completed")
    row = panel.row_for(job.job_id())
    assert row is not None
    shown = cells(row)
    assert shown["backend"] == "fake_manila@aer_ideal" and shown["program"] == "sampler"
    assert shown["tags"] == "panel-test" and shown["queue"] == "—"
    assert shown["running"].endswith(" s") and shown["created"].count(":") == 2
    assert row.cancel.layout.visibility == "hidden"
    assert panel.rows[0].job_id in (job.job_id(), other)  # newest first


def test_cancel_a_long_job_with_its_button(panel: JobPanel, service) -> None:
    """A job that would run for hours is cancelled by its row's Cancel button; the list shows
    it Cancelled, and the details say why."""
    backend = service.backend("ideal_32q@aer_ideal")
    job = SamplerV2(mode=backend).run([endless_circuit()], shots=100_000)
    wait_until(lambda: status_in(panel, job.job_id()) in ("Queued", "Running"), "job listed")
    row = panel.row_for(job.job_id())
    assert row is not None and row.cancel.layout.visibility == "visible"
    row.cancel.click()
    assert "Cancelling" in panel.message.value
    wait_until(lambda: status_in(panel, job.job_id()) == "Cancelled", "job Cancelled")
    assert job.status() == "CANCELLED"
    row.select.click()
    assert panel.selected_id == job.job_id()
    assert "Cancelled" in panel.details.result.children[0].value
    assert panel.details.bar.bar_style == "warning"


def test_details_of_sampler_estimator_and_failed_jobs(panel: JobPanel, service) -> None:
    """Selecting a job shows its progress, logs and result: a histogram per PUB of a sampler
    job, values with standard deviations of an estimator job, the reason and traceback of a
    job the memory guard refused."""
    manila = service.backend("fake_manila@aer_ideal")
    sampled = SamplerV2(mode=manila).run([bell_isa(), bell_isa()], shots=200)
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    isa = transpile(bell, backend=manila, optimization_level=1)
    observables = [SparsePauliOp(p).apply_layout(isa.layout) for p in ("ZZ", "XX", "ZI")]
    estimated = EstimatorV2(mode=manila).run([(isa, observables)])
    wide = service.backend("ideal_32q@aer_ideal")
    failed = SamplerV2(mode=wide).run([entangling_circuit(32)], shots=10)
    for job, final in ((sampled, "Completed"), (estimated, "Completed"), (failed, "Failed")):
        wait_until(lambda j=job, f=final: status_in(panel, j.job_id()) == f, f"{job.job_id()}")

    panel.row_for(sampled.job_id()).select.click()  # type: ignore[union-attr]
    details = panel.details
    assert details.get_state()["layout"] and details.layout.display == "flex"
    assert sampled.job_id() in details.title.value and "<b>Completed</b>" in details.steps.value
    assert details.bar.get_state()["value"] == 1.0 and details.bar.bar_style == "success"
    images = details.result.children
    assert len(images) == 2 and all(isinstance(i, widgets.Image) for i in images)
    assert all(bytes(i.value).startswith(PNG) and i.format == "png" for i in images)
    assert "Running sampler" in details.logs.value

    panel.row_for(estimated.job_id()).select.click()  # type: ignore[union-attr]
    (table,) = details.result.children
    assert 'class="qrt-estimator"' in table.value and table.value.count("<tr>") == 4
    assert table.value.count("± ") == 3

    panel.row_for(failed.job_id()).select.click()  # type: ignore[union-attr]
    (failure,) = details.result.children
    assert "Failed:" in failure.value and "SimulationRefused" in failure.value
    # The server keeps tracebacks out of results; the panel shows the one in the job's logs.
    assert "Traceback (most recent call last)" in failure.value
    assert "qrt-traceback" in failure.value
    assert details.bar.bar_style == "danger"

    panel.row_for(failed.job_id()).select.click()  # type: ignore[union-attr]
    assert panel.selected_id is None and details.layout.display == "none"


def test_filters_and_pages(service) -> None:
    """Pages of two rows cover every job once; Pending shows only queued and running jobs,
    Finished only final ones."""
    job_panel = make_panel(service, page_size=2)
    try:
        manila = service.backend("fake_manila@aer_ideal")
        mine = [SamplerV2(mode=manila).run([bell_isa()], shots=10) for _ in range(3)]
        ids = {job.job_id() for job in mine if job.result()}
        wait_until(lambda: all(status_in_table(job_panel, i) == "Completed" for i in ids), "listed")
        total = len(job_panel.table.jobs)
        assert total >= 3 and not job_panel.next.disabled and job_panel.previous.disabled
        seen: list[str | None] = []
        while True:
            seen += [row.job_id for row in job_panel.rows if row.layout.display != "none"]
            if job_panel.next.disabled:
                break
            job_panel.next.click()
        assert len(seen) == len(set(seen)) == total and set(seen) == set(job_panel.table.jobs)
        assert job_panel.page_label.value == f"{total - (total - 1) % 2}-{total} of {total}"
        for name, states in (("Pending", {"Queued", "Running"}), ("Finished", FINAL)):
            job_panel.filter.value = name
            assert job_panel.previous.disabled
            shown = [row for row in job_panel.rows if row.layout.display != "none"]
            assert {row.status.value for row in shown} <= states
            shown_ids = {row.job_id for row in shown}
            # The three jobs are the newest: the first page of finished jobs shows two of them.
            assert shown_ids < ids if name == "Finished" else not shown_ids & ids
    finally:
        job_panel.close()


def status_in_table(panel: JobPanel, job_id: str) -> str | None:
    """The status the panel holds for ``job_id``, on any page."""
    job = panel.table.jobs.get(job_id)
    return None if job is None else str(job["status"])


def test_reload_and_close_stop_their_threads(service) -> None:
    """``reload()`` reads every job again in a new thread and ends the old one; ``close()``
    ends the thread that follows the server, at once, and closes the widgets."""
    job_panel = make_panel(service)
    first = job_panel.updater
    assert first.daemon and first.is_alive() and first in threading.enumerate()
    wait_until(lambda: "jobs," in job_panel.summary.value, "the panel read the jobs")
    known = set(job_panel.table.jobs)
    job_panel.reload()
    assert not first.is_alive() and job_panel.updater.is_alive()
    wait_until(lambda: set(job_panel.table.jobs) >= known, "the panel read the jobs again")
    thread = job_panel.updater
    job_panel.close()
    assert not thread.is_alive() and thread not in threading.enumerate()
    assert job_panel.comm is None and job_panel.rows[0].cancel.comm is None
    assert not [t for t in threading.enumerate() if t.name.startswith("qiskit-runtime-panel")]


def test_a_server_that_does_not_answer_is_reported_and_close_still_stops() -> None:
    """A panel whose server is not there says so, keeps trying, and stops when closed."""
    account = SimpleNamespace(
        url=f"http://127.0.0.1:{free_port()}/qiskit-runtime/v1", token="key", verify=True
    )
    job_panel = make_panel(SimpleNamespace(_account=account))
    try:
        wait_until(lambda: "Cannot follow the server" in job_panel.message.value, "the error shown")
        assert job_panel.updater.is_alive() and job_panel.page_label.value == ""
    finally:
        job_panel.close()
    assert not job_panel.updater.is_alive()


def widget_views(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The widget views among a cell's displayed outputs."""
    mime = "application/vnd.jupyter.widget-view+json"
    return [o["data"][mime] for o in outputs if mime in o.get("data", {})]


def test_magic_shows_the_panel_in_a_kernel_and_the_notebook_runs(server: ServerProcess) -> None:
    """In a kernel that the server started, ``%qiskit_runtime`` prints its line and displays
    the panel (not with ``--no-panel``); notebooks/job_panel.ipynb then runs without error."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    with warnings.catch_warnings(), ServerKernel(server) as kernel:
        warnings.simplefilter("ignore")
        shown = kernel.execute("%load_ext jupyter_qiskit_runtime\n%qiskit_runtime")
        assert not errors(shown) and stream_text(shown).startswith("Connected to ")
        assert len(widget_views(shown)) == 1
        threads = kernel.execute(
            "import threading\n"
            "print(sum(t.name.startswith('qiskit-runtime-panel') for t in threading.enumerate()))"
        )
        assert stream_text(threads).strip() == "1"
        assert not widget_views(kernel.execute("%qiskit_runtime --no-panel"))
        for source in sources:
            outputs = kernel.execute(source)
            assert not errors(outputs), (source, errors(outputs))
