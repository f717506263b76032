"""Durable job storage in SQLite (the standard library's ``sqlite3``).

One connection, guarded by a lock, serves the server's event loop (short reads) and the job
threads (writes). The schema is versioned with ``PRAGMA user_version`` and migrated forward on open.
The journal mode is chosen by ``journal.py``: ``WAL`` where the database is on a local disk,
``DELETE`` (a rollback journal) on a network file system, unless configured.

Durability (docs/architecture.md, "Job store"): a new job is committed with ``synchronous=FULL``
before ``insert`` returns. Under WAL, the move to Running is not forced to disk (it survives a
crash of this process; a power cut leaves the job queued, to run again), and a final state is
made durable by ``WalFlusher``, one ``fsync`` for a group of final writes.

A failure of the database itself (read-only or full disk, I/O error, damaged file) is raised as
``StoreUnavailableError`` (a 503 for the client) with SQLite's error as its cause; an error in
this code's SQL (``ProgrammingError``, ``IntegrityError``) is raised as it is.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from .errors import JobNotFoundError, StoreUnavailableError
from .journal import AUTO, JournalChoice, WalFlusher, choose_journal_mode
from .records import (
    FINAL_STATES,
    PENDING_STATES,
    QUEUED,
    RECORD_COLUMNS,
    RUNNING,
    JobRecord,
    utc_now,
)
from .schema import MIGRATIONS as MIGRATIONS  # re-exported: the store applies them

#: SQLite's largest integer; Python's sqlite3 raises ``OverflowError`` for a larger one, so every
#: integer a client sends that reaches SQL is bounded by it (or by less).
SQLITE_INTEGER_MAX = 2**63 - 1

JOURNAL_MODES = ("DELETE", "TRUNCATE", "PERSIST", "WAL")
#: What ``JobStore`` and ``QiskitRuntimeApp.journal_mode`` accept: a mode, or ``AUTO``.
JOURNAL_CHOICES = (AUTO, *JOURNAL_MODES)


def _is_unavailable(error: sqlite3.DatabaseError) -> bool:
    """Whether a database error means the database cannot be used now (read-only, full, I/O
    errors, locked too long, damaged), rather than a mistake in this code's SQL or data."""
    return not isinstance(
        error, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.NotSupportedError
    )


class JobStore:
    """Persistence for jobs: params, results, logs, timestamps and owner.

    ``on_change(job_id, owner)`` is called, from the writing thread, after each committed change
    to a job (new, running, queued again, final, tags); each such change also gives the job the
    next number of the change counter in its ``changed`` column.
    """

    def __init__(
        self,
        path: str | Path,
        journal_mode: str = AUTO,
        on_change: Callable[[str, str], None] = lambda job_id, owner: None,
    ) -> None:
        self._on_change = on_change
        if journal_mode.upper() not in JOURNAL_CHOICES:
            raise ValueError(f"journal_mode must be one of {JOURNAL_CHOICES}, not {journal_mode!r}")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        #: The journal mode in use and why it was chosen.
        self.journal: JournalChoice = choose_journal_mode(self.path, journal_mode)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute(f"PRAGMA journal_mode={self.journal.mode}")
        self._wal = self.journal.mode == "WAL"
        self._synchronous = ""
        self._set_synchronous("FULL")
        self._flusher = WalFlusher(self.path + "-wal") if self._wal else None
        self._migrate()

    def _set_synchronous(self, level: str) -> None:
        """``PRAGMA synchronous`` for the next commits (outside a transaction, under the lock)."""
        if level != self._synchronous:
            self._db.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._connection() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self._transaction() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"The job database {self.path} has schema version {version}, newer than this "
                    f"version of jupyter-qiskit-runtime knows ({len(MIGRATIONS)}). Upgrade the "
                    "package or point QiskitRuntimeApp.db_path elsewhere."
                )
            for target, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={target}")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock; a failure of the database itself (see
        ``_is_unavailable``) is raised as ``StoreUnavailableError``, with it as the cause."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.DatabaseError as exc:
                if not _is_unavailable(exc):
                    raise
                raise StoreUnavailableError(
                    "The job store is unavailable: the server could not read or write its job "
                    "database. Try again later; the server's log has the details."
                ) from exc

    @contextmanager
    def _transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; committed to disk before it ends if ``durable``, else only
        handed to the operating system (under WAL; it then survives a crash of this process)."""
        with self._connection() as db:
            self._set_synchronous("FULL" if durable or not self._wal else "NORMAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (a full disk, an I/O error); a COMMIT that
                # failed leaves the transaction open, and it must not stay open.
                if db.in_transaction:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction, for the runtime's other tables (sessions)."""
        return self._transaction()

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        """The connection, held for a group of reads that must see one state."""
        return self._connection()

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """The rows a read-only statement selects."""
        with self._connection() as db:
            return list(db.execute(sql, args).fetchall())

    def close(self) -> None:
        """Make the last writes durable and close the database connection."""
        if self._flusher is not None:
            self._flusher.close()
        with self._lock:
            self._db.close()

    def _group_commit(self) -> None:
        """Make the commits since the last flush durable soon, in one ``fsync`` with others."""
        if self._flusher is not None:
            self._flusher.request()

    @staticmethod
    def _mark_changed(db: sqlite3.Connection, job_id: str) -> str:
        """Give the job the next change number, in the open transaction; its owner."""
        return _bump_counter(db, "WHERE id = ?", (job_id,))

    def insert(self, record: JobRecord, params: str) -> None:
        """Store a new job with its raw params JSON, durably before it returns."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'job_changes' RETURNING value"
            ).fetchone()[0]
            db.execute(
                "INSERT INTO jobs (id, owner, program_id, backend, status, created, tags, "
                "session_id, private, runtime, cost, log_level, params, changed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id, record.owner, record.program_id, record.backend, record.status,
                    record.created, json.dumps(record.tags), record.session_id,
                    int(record.private), record.runtime, record.cost, record.log_level, params,
                    changed,
                ),
            )  # fmt: skip
        self._on_change(record.id, record.owner)

    def get(self, job_id: str, owner: str | None = None) -> JobRecord:
        """The job ``job_id``; ``JobNotFoundError`` if absent or not owned by ``owner``."""
        with self._connection() as db:
            row = db.execute(
                f"SELECT {RECORD_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None or (owner is not None and row["owner"] != owner):
            raise JobNotFoundError(f"Job {job_id} was not found.")
        return JobRecord.from_row(row)

    def _text_column(self, job_id: str, owner: str | None, column: str) -> str | None:
        with self._connection() as db:
            row = db.execute(f"SELECT owner, {column} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or (owner is not None and row[0] != owner):
            raise JobNotFoundError(f"Job {job_id} was not found.")
        return None if row[1] is None else str(row[1])

    def get_with_params(self, job_id: str) -> tuple[JobRecord, str]:
        """The job ``job_id`` and its params JSON, in one read (for running it)."""
        with self._connection() as db:
            row = db.execute(
                f"SELECT {RECORD_COLUMNS}, params FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise JobNotFoundError(f"Job {job_id} was not found.")
        data = dict(row)
        params = data.pop("params") or "{}"
        return JobRecord.from_row(data), params

    def params(self, job_id: str, owner: str | None = None) -> str:
        """The job's params JSON as it was submitted."""
        return self._text_column(job_id, owner, "params") or "{}"

    def result(self, job_id: str, owner: str | None = None) -> str | None:
        """The job's result text: the encoded result, or the error message of a failed job."""
        return self._text_column(job_id, owner, "result")

    def logs(self, job_id: str, owner: str | None = None) -> str:
        """The job's log text."""
        return self._text_column(job_id, owner, "logs") or ""

    def set_tags(self, job_id: str, owner: str, tags: list[str]) -> None:
        """Replace the tags of one of ``owner``'s jobs."""
        with self._transaction() as db:
            self.get(job_id, owner)
            db.execute("UPDATE jobs SET tags = ? WHERE id = ?", (json.dumps(tags), job_id))
            self._mark_changed(db, job_id)
        self._on_change(job_id, owner)

    def delete_if_final(self, job_id: str, owner: str) -> JobRecord:
        """Delete one of ``owner``'s jobs, with its params, result and logs, if it is final.

        Returns the job as it was: a job that was not final is still there.
        """
        with self._transaction() as db:
            record = self.get(job_id, owner)
            if record.is_final:
                db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            return record

    def take_result(self, job_id: str, owner: str) -> str | None:
        """The result text of one of ``owner``'s jobs, deleted as it is read (a private job's
        results can be read once); ``None`` if there is none, or it was read before."""
        with self._transaction() as db:
            self.get(job_id, owner)
            row = db.execute("SELECT result FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row[0] is not None:
                db.execute("UPDATE jobs SET result = NULL WHERE id = ?", (job_id,))
            return None if row[0] is None else str(row[0])

    def ids_in_state(self, *states: str) -> list[str]:
        """Ids of every job in one of ``states``, oldest first."""
        with self._connection() as db:
            rows = db.execute(
                f"SELECT id FROM jobs WHERE status IN ({','.join('?' * len(states))}) ORDER BY seq",
                states,
            ).fetchall()
        return [r[0] for r in rows]

    def mark_running(self, job_id: str) -> bool:
        """Move a queued job to Running; false if it is no longer queued (e.g. cancelled).

        Not forced to disk (see the module's docstring): losing it in a power cut leaves the job
        queued, to run again."""
        with self._transaction(durable=False) as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, started = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = ?",
                (RUNNING, utc_now(), job_id, QUEUED),
            )
            owner = self._mark_changed(db, job_id) if cursor.rowcount == 1 else None
        if owner is not None:
            self._on_change(job_id, owner)
        return owner is not None

    def requeue(self, job_id: str, log_line: str) -> None:
        """Put a job that was interrupted back in the queue, noting why in its logs."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET status = ?, started = NULL, logs = logs || ? WHERE id = ?",
                (QUEUED, log_line + "\n", job_id),
            )
            owner = self._mark_changed(db, job_id) if cursor.rowcount == 1 else None
        if owner is not None:
            self._on_change(job_id, owner)

    def finish(
        self,
        job_id: str,
        status: str,
        *,
        result: str | None = None,
        logs: str = "",
        reason: str | None = None,
        reason_code: int | None = None,
        metrics: dict[str, Any] | None = None,
        only_if: frozenset[str] = PENDING_STATES,
    ) -> bool:
        """Record a final state, result and logs; false if the job was not in ``only_if``.

        A private job's params are deleted here: it will not run again.
        """
        if status not in FINAL_STATES:
            raise ValueError(f"{status} is not a final state")
        with self._transaction(durable=False) as db:
            cursor = db.execute(
                f"UPDATE jobs SET status = ?, result = ?, logs = logs || ?, reason = ?, "
                f"reason_code = ?, finished = ?, metrics = ?, "
                f"params = CASE WHEN private THEN '{{}}' ELSE params END "
                f"WHERE id = ? AND status IN ({','.join('?' * len(only_if))})",
                (
                    status, result, logs, reason, reason_code, utc_now(),
                    json.dumps(metrics or {}), job_id, *sorted(only_if),
                ),
            )  # fmt: skip
            owner = self._mark_changed(db, job_id) if cursor.rowcount == 1 else None
        self._group_commit()
        if owner is not None:
            self._on_change(job_id, owner)
        return owner is not None

    def delete_finished_before(self, cutoff_iso: str) -> int:
        """Delete final jobs that finished before ``cutoff_iso``; the number deleted."""
        with self._transaction() as db:
            cursor = db.execute(
                f"DELETE FROM jobs WHERE finished < ? AND status IN "
                f"({','.join('?' * len(FINAL_STATES))})",
                (cutoff_iso, *sorted(FINAL_STATES)),
            )
            return cursor.rowcount


def _bump_counter(db: sqlite3.Connection, where: str, args: Sequence[Any]) -> str:
    """Give the one job ``where`` selects the next change number; its owner."""
    row = db.execute(
        "UPDATE counters SET value = value + 1 WHERE name = 'job_changes' RETURNING value"
    ).fetchone()
    owner = db.execute(f"UPDATE jobs SET changed = ? {where} RETURNING owner", (row[0], *args))
    return str(owner.fetchone()[0])
