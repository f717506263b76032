"""The scheduler's recovery of jobs an earlier server left unfinished."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from jupyter_qiskit_runtime.runtime.catalog import BackendCatalog
from jupyter_qiskit_runtime.runtime.records import FAILED, QUEUED, JobRecord, utc_now
from jupyter_qiskit_runtime.runtime.scheduler import MAX_ATTEMPTS, JobScheduler
from jupyter_qiskit_runtime.runtime.store import JobStore


def left_running(store: JobStore, job_id: str, backend: str, attempts: int) -> None:
    """Store a job as a server that died mid-run leaves it, after ``attempts`` starts."""
    store.insert(JobRecord(job_id, "alice", "sampler", backend, QUEUED, utc_now()), params="{}")
    for attempt in range(attempts):
        assert store.mark_running(job_id)
        if attempt < attempts - 1:
            store.requeue(job_id, "interrupted")


def test_recovery_reruns_interrupted_jobs_and_fails_those_interrupted_too_often(
    tmp_path: Path,
) -> None:
    """A job interrupted MAX_ATTEMPTS times is failed with the reason; one interrupted once is
    queued again (here it then fails because its backend is gone, without any worker)."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    left_running(store, "too-often", "fake_manila@aer", MAX_ATTEMPTS)
    left_running(store, "once", "gone@aer", 1)
    scheduler = JobScheduler(
        store=store, catalog=BackendCatalog(), pool_size=1, worker_memory_limit=0,
        max_pending_per_user=0, retention_days=0, log=logging.getLogger("test"),
    )  # fmt: skip
    scheduler.start()
    try:
        failed = store.get("too-often")
        assert failed.status == FAILED
        assert f"stopped {MAX_ATTEMPTS} times" in (failed.reason or "")
        deadline = time.monotonic() + 30
        while not store.get("once").is_final and time.monotonic() < deadline:
            time.sleep(0.05)
        rerun = store.get("once")
        assert rerun.status == FAILED and rerun.attempts == 2
        assert "Backend 'gone@aer' does not exist" in (rerun.reason or "")
        assert "queued again" in store.logs("once")
        assert scheduler.worker_pids() == []
    finally:
        scheduler.shutdown(timeout=5)
        store.close()
