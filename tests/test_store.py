"""JobStore: the SQLite job database, its schema versioning, state transitions and queries."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_qiskit_runtime.runtime import journal as journal_module
from jupyter_qiskit_runtime.runtime.errors import JobNotFoundError
from jupyter_qiskit_runtime.runtime.journal import choose_journal_mode, filesystem_type
from jupyter_qiskit_runtime.runtime.listing import list_jobs
from jupyter_qiskit_runtime.runtime.records import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINAL_STATES,
    QUEUED,
    RUNNING,
    JobRecord,
    utc_now,
)
from jupyter_qiskit_runtime.runtime.store import JOURNAL_MODES, MIGRATIONS, JobStore


def record(
    job_id: str,
    owner: str = "alice",
    *,
    backend: str = "fake_manila@aer",
    program_id: str = "sampler",
    **fields,
) -> JobRecord:
    """A new queued job."""
    return JobRecord(
        id=job_id,
        owner=owner,
        program_id=program_id,
        backend=backend,
        status=QUEUED,
        created=utc_now(),
        **fields,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's database lives (its directory does not exist yet)."""
    return tmp_path / "nested" / "jobs.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[JobStore]:
    """A store on a fresh database."""
    store = JobStore(db_path)
    yield store
    store.close()


def user_version(path: Path) -> int:
    """``PRAGMA user_version`` read through a separate connection."""
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def journal_mode(path: Path) -> str:
    """The database's journal mode as a new connection sees it."""
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0]).upper()
    finally:
        db.close()


# -- schema -----------------------------------------------------------------------------------


def test_fresh_database_gets_the_latest_schema(store: JobStore, db_path: Path) -> None:
    """A new database (in a directory that did not exist) is migrated to the latest version."""
    assert db_path.exists()
    assert store.schema_version == len(MIGRATIONS)
    assert user_version(db_path) == len(MIGRATIONS)
    with sqlite3.connect(db_path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "jobs" in tables


def test_reopening_keeps_jobs_and_version(db_path: Path) -> None:
    """Jobs, params and logs survive closing and reopening; migrations do not run twice."""
    first = JobStore(db_path)
    first.insert(record("j1", tags=["a", "b"], cost=30, private=True), '{"pubs": []}')
    first.requeue("j1", "a log line")
    first.close()

    second = JobStore(db_path)
    try:
        assert second.schema_version == len(MIGRATIONS)
        job = second.get("j1")
        assert (job.owner, job.tags, job.cost, job.private) == ("alice", ["a", "b"], 30, True)
        assert second.params("j1") == '{"pubs": []}'
        assert second.logs("j1") == "a log line\n"
    finally:
        second.close()


def test_newer_schema_is_refused_with_a_clear_error(db_path: Path) -> None:
    """A database written by a newer version is refused, naming both versions and the setting,
    and is left as it was."""
    db_path.parent.mkdir(parents=True)
    newer = len(MIGRATIONS) + 1
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version={newer}")
    with pytest.raises(RuntimeError) as exc:
        JobStore(db_path)
    message = str(exc.value)
    assert f"schema version {newer}" in message
    assert f"({len(MIGRATIONS)})" in message
    assert "QiskitRuntimeApp.db_path" in message
    assert user_version(db_path) == newer
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


# -- journal mode -----------------------------------------------------------------------------


def test_journal_mode_auto_is_wal_on_a_local_disk_and_delete_can_be_forced(
    db_path: Path,
) -> None:
    """The default chooses WAL on a local file system (the test's temporary directory) and says
    why; DELETE, configured, switches the file back, as a network-mounted home directory needs."""
    store = JobStore(db_path)
    assert (store.journal.mode, journal_mode(db_path)) == ("WAL", "WAL")
    assert "local file system" in store.journal.reason
    store.close()
    JobStore(db_path, journal_mode="DELETE").close()
    assert journal_mode(db_path) == "DELETE"


def test_journal_mode_auto_is_delete_on_a_network_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mount table that puts the database's directory on NFS (under a local root) makes AUTO
    choose DELETE and name the file system; the longest mount point that holds the path counts."""
    mounts = tmp_path / "mounts"
    home = tmp_path / "home dir"
    mounts.write_text(
        "/dev/vda / ext4 rw 0 0\n"
        f"server:/export {str(home).replace(' ', chr(92) + '040')} nfs4 rw 0 0\n"
    )
    home.mkdir()
    assert filesystem_type(home / "a" / "jobs.sqlite3", str(mounts)) == "nfs4"
    assert filesystem_type(tmp_path / "elsewhere", str(mounts)) == "ext4"
    monkeypatch.setattr(
        journal_module, "filesystem_type", lambda path: filesystem_type(path, str(mounts))
    )
    choice = choose_journal_mode(str(home / "jobs.sqlite3"), "auto")
    assert choice.mode == "DELETE" and "nfs4" in choice.reason
    assert choose_journal_mode(str(home / "jobs.sqlite3"), "wal").mode == "WAL"


def test_journal_mode_is_case_insensitive_and_validated(db_path: Path) -> None:
    """``wal`` means WAL; an unknown mode is a ValueError listing the valid ones."""
    JobStore(db_path, journal_mode="wal").close()
    assert journal_mode(db_path) == "WAL"
    with pytest.raises(ValueError, match="journal_mode must be one of") as exc:
        JobStore(db_path, journal_mode="MEMORY")
    for mode in (*JOURNAL_MODES, "AUTO"):
        assert mode in str(exc.value)


# -- jobs -------------------------------------------------------------------------------------


def test_insert_then_get_round_trips_every_field(store: JobStore) -> None:
    """A stored job reads back with its fields; params are kept verbatim, result and logs empty."""
    new = record(
        "j1", tags=["x"], session_id="s1", private=True, runtime="rt", cost=60, log_level="INFO"
    )
    store.insert(new, '{"pubs": [1]}')
    got = store.get("j1", "alice")
    assert got == new
    assert got.status == QUEUED and not got.is_final
    assert got.attempts == 0 and got.metrics == {}
    assert store.params("j1", "alice") == '{"pubs": [1]}'
    assert store.result("j1", "alice") is None
    assert store.logs("j1", "alice") == ""


def test_another_owner_cannot_see_a_job(store: JobStore) -> None:
    """Another owner's lookups are JobNotFoundError, exactly like an unknown id."""
    store.insert(record("j1", owner="alice"), "{}")
    assert store.get("j1").owner == "alice"
    for lookup in (store.get, store.params, store.result, store.logs):
        with pytest.raises(JobNotFoundError, match="Job j1 was not found"):
            lookup("j1", "bob")
    with pytest.raises(JobNotFoundError, match="Job nope was not found"):
        store.get("nope", "alice")


def test_mark_running_only_from_queued(store: JobStore) -> None:
    """Only a queued job starts; starting counts an attempt and records the start time."""
    store.insert(record("j1"), "{}")
    assert store.mark_running("j1") is True
    job = store.get("j1")
    assert job.status == RUNNING
    assert job.started is not None
    assert job.attempts == 1
    assert store.mark_running("j1") is False
    assert store.get("j1").attempts == 1

    store.insert(record("j2"), "{}")
    assert store.finish("j2", CANCELLED, reason="Cancelled by the user.") is True
    assert store.mark_running("j2") is False
    assert store.get("j2").status == CANCELLED
    assert store.mark_running("unknown") is False


def test_finish_records_outcome_only_from_allowed_states(store: JobStore) -> None:
    """``finish`` applies only when the job is in ``only_if``; it stores result, logs, metrics."""
    store.insert(record("j1"), "{}")
    store.mark_running("j1")
    # A cancel that applies only to queued jobs does not touch a running one.
    assert store.finish("j1", CANCELLED, only_if=frozenset({QUEUED})) is False
    assert store.get("j1").status == RUNNING

    done = store.finish(
        "j1", COMPLETED, result="RESULT", logs="ran\n", metrics={"usage_seconds": 1.5}
    )
    assert done is True
    job = store.get("j1")
    assert job.status == COMPLETED and job.is_final
    assert job.finished is not None
    assert job.metrics == {"usage_seconds": 1.5}
    assert store.result("j1") == "RESULT"
    assert store.logs("j1") == "ran\n"

    # A final job stays final: a late failure report changes nothing.
    assert store.finish("j1", FAILED, reason="late", result="boom") is False
    assert store.get("j1").status == COMPLETED
    assert store.result("j1") == "RESULT"
    with pytest.raises(ValueError, match="not a final state"):
        store.finish("j1", RUNNING)


def test_requeue_appends_a_log_line(store: JobStore) -> None:
    """Requeueing an interrupted job makes it Queued again and appends a line to its logs."""
    store.insert(record("j1"), "{}")
    store.mark_running("j1")
    store.requeue("j1", "first interruption")
    job = store.get("j1")
    assert job.status == QUEUED
    assert job.started is None
    assert job.attempts == 1
    store.mark_running("j1")
    store.requeue("j1", "second interruption")
    assert store.logs("j1") == "first interruption\nsecond interruption\n"
    assert store.get("j1").attempts == 2
    assert store.ids_in_state(QUEUED) == ["j1"]


# -- queries ----------------------------------------------------------------------------------


@pytest.fixture
def populated(store: JobStore) -> JobStore:
    """alice has a0..a4 (a0, a1 final; a2 running; a3, a4 queued); bob has b0 (queued)."""
    for i in range(5):
        backend = "ideal_5q@aer_ideal" if i % 2 else "fake_manila@aer"
        program = "estimator" if i == 4 else "sampler"
        store.insert(record(f"a{i}", backend=backend, program_id=program), "{}")
        if i == 2:
            store.insert(record("b0", owner="bob"), "{}")
    store.finish("a0", COMPLETED, result="r")
    store.finish("a1", FAILED, reason="bad")
    store.mark_running("a2")
    return store


def ids(page: tuple[list[JobRecord], int]) -> tuple[list[str], int]:
    """The ids and total of a ``list_jobs`` answer."""
    records, total = page
    return [r.id for r in records], total


def test_list_jobs_pages_newest_first_with_total(populated: JobStore) -> None:
    """Pages are newest first by default; the total counts all of the owner's jobs only."""
    assert ids(list_jobs(populated, "alice", limit=2)) == (["a4", "a3"], 5)
    assert ids(list_jobs(populated, "alice", limit=2, offset=2)) == (["a2", "a1"], 5)
    assert ids(list_jobs(populated, "alice", limit=2, offset=4)) == (["a0"], 5)
    assert ids(list_jobs(populated, "alice", limit=2, offset=10)) == ([], 5)
    assert ids(list_jobs(populated, "bob")) == (["b0"], 1)
    assert ids(list_jobs(populated, "carol")) == ([], 0)


def test_list_jobs_ascending(populated: JobStore) -> None:
    """``descending=False`` lists oldest first."""
    assert ids(list_jobs(populated, "alice", descending=False, limit=3)) == (["a0", "a1", "a2"], 5)


def test_list_jobs_filters(populated: JobStore) -> None:
    """Pending means queued or running; not pending means final; backend and program filter."""
    assert ids(list_jobs(populated, "alice", pending=True)) == (["a4", "a3", "a2"], 3)
    assert ids(list_jobs(populated, "alice", pending=False)) == (["a1", "a0"], 2)
    assert ids(list_jobs(populated, "alice", backend="ideal_5q@aer_ideal")) == (["a3", "a1"], 2)
    assert ids(list_jobs(populated, "alice", program_id="estimator")) == (["a4"], 1)
    both = list_jobs(populated, "alice", pending=True, backend="fake_manila@aer")
    assert ids(both) == (["a4", "a2"], 2)


def test_ids_in_state_oldest_first(populated: JobStore) -> None:
    """``ids_in_state`` finds every owner's jobs in the given states, oldest first."""
    assert populated.ids_in_state(QUEUED) == ["b0", "a3", "a4"]
    assert populated.ids_in_state(RUNNING) == ["a2"]
    assert populated.ids_in_state(*FINAL_STATES) == ["a0", "a1"]


def test_delete_finished_before_removes_only_old_final_jobs(store: JobStore) -> None:
    """Only final jobs that finished before the cutoff are deleted; unfinished ones never are."""
    for job_id in ("old", "new", "queued", "running"):
        store.insert(record(job_id), "{}")
    store.mark_running("running")
    store.finish("old", COMPLETED, result="r")
    time.sleep(0.01)  # distinct microsecond timestamps for "old" and "new"
    store.finish("new", CANCELLED)
    old, new = store.get("old").finished, store.get("new").finished
    assert old is not None and new is not None and old < new

    assert store.delete_finished_before("2000-01-01T00:00:00Z") == 0
    assert store.delete_finished_before(new) == 1
    with pytest.raises(JobNotFoundError):
        store.get("old")
    assert store.get("new").status == CANCELLED
    assert store.delete_finished_before("9999-01-01T00:00:00Z") == 1
    remaining = sorted(r.id for r in list_jobs(store, "alice", limit=100)[0])
    assert remaining == ["queued", "running"]
