"""No job or result is lost when the server stops, cleanly or by a crash, and starts again."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from .circuits import bell_circuit, sampler_job_body, slow_circuit
from .rest import FINAL, RestClient
from .servers import ServerProcess

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def one_slot_server(workdir: Path) -> ServerProcess:
    """A server that runs one job at a time, so that others wait in the queue."""
    return ServerProcess(workdir, "restart-token", "--QiskitRuntimeApp.pool_size=1")


@pytest.mark.parametrize(
    ("stop_signal", "log_line"),
    [
        (signal.SIGTERM, "The server stopped while this job ran; it will run again."),
        (signal.SIGKILL, "The server stopped while this job ran; queued again."),
    ],
    ids=["stop", "crash"],
)
def test_jobs_survive_a_restart_mid_queue(tmp_path: Path, stop_signal: int, log_line: str) -> None:
    """Jobs queued behind a running one, server stopped (or killed) mid-run, started again on
    the same database: every job reaches a final state, the interrupted one is rerun, and the
    result finished before the stop reads back byte for byte."""
    with one_slot_server(tmp_path) as first:
        rest = RestClient(first)
        finished = rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit()))
        assert rest.wait_for(finished, FINAL)["state"]["status"] == "Completed"
        result_before = rest.get(f"jobs/{finished}/results").content
        interrupted = rest.submit(sampler_job_body("ideal_32q@aer_ideal", slow_circuit(), shots=50))
        queued = [
            rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit())) for _ in range(3)
        ]
        rest.wait_for(interrupted, {"Running"})
        assert all(rest.status(job_id) == "Queued" for job_id in queued)
        first.stop(stop_signal)

    with one_slot_server(tmp_path) as second:
        rest = RestClient(second)
        for job_id in [interrupted, *queued]:
            assert rest.wait_for(job_id, FINAL, timeout=180)["state"]["status"] == "Completed"
        assert rest.get(f"jobs/{finished}/results").content == result_before
        assert log_line in rest.get(f"jobs/{interrupted}/logs").text


def test_a_job_answered_201_survives_a_kill_right_after(tmp_path: Path) -> None:
    """``kill -9`` of the server the moment its 201 for a job arrives (no clean shutdown, no
    chance to flush anything later), then a restart on the same database: every job that was
    answered 201 is there, and runs. (The first job starts the one worker, which takes longer
    than the submissions, so the jobs are still queued when the server dies.)"""
    with one_slot_server(tmp_path) as first:
        rest = RestClient(first)
        answered = [
            rest.submit(sampler_job_body("fake_manila@aer_ideal", bell_circuit())) for _ in range(4)
        ]
        first.stop(signal.SIGKILL)  # at once after the last 201
        assert "journal mode WAL" in first.log_text()  # the default on this local disk

    with one_slot_server(tmp_path) as second:
        rest = RestClient(second)
        for job_id in answered:
            assert rest.wait_for(job_id, FINAL, timeout=180)["state"]["status"] == "Completed"
