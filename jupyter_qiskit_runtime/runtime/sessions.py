"""Sessions and batches: groups of jobs on one backend, with IBM's lifetimes and states.

A session is created ``open``; it is ``active`` once a job of it has started and while jobs keep
coming within its interactive timeout, ``inactive`` after that (a new job makes it active again),
and ``closed`` when its owner closes or cancels it, when it stops accepting jobs and none is left,
or when its maximum time to live (counted from its first job's start) runs out. A closed session
takes no jobs, and its queued jobs are cancelled.

Only what cannot be derived is stored; when jobs started and finished comes from the jobs table.
Time limits are enforced when a session is read, when a job is submitted to it and when one of
its jobs is about to run, so no timer thread is needed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import InvalidRequestError, InvalidStateError, NotFoundError
from .jobs import as_integer
from .records import PENDING_STATES, utc_now
from .store import JobStore

MODES = ("dedicated", "batch")

#: IBM's defaults: 8 hours to live, 60 seconds between jobs before a session goes inactive.
DEFAULT_MAX_TTL = 28_800
DEFAULT_INTERACTIVE_TTL = 60

#: The largest ``max_ttl`` and ``interactive_ttl`` (seconds) a session may ask for: a signed
#: 32-bit integer, 68 years. IBM caps a session at 8 hours for fair use of a shared device; a
#: local simulator has no one to share with, so any smaller value is honoured, and a larger one
#: cannot be meant (and would not fit the database's 64-bit integers from 2**63 on).
MAX_TTL_SECONDS = 2**31 - 1


class SessionNotFoundError(NotFoundError):
    """No session of that id exists for this user."""

    code = 1219


def _seconds_since(timestamp: str | None, now: datetime) -> float | None:
    if timestamp is None:
        return None
    return (now - datetime.fromisoformat(timestamp)).total_seconds()


@dataclass
class SessionRecord:
    """A session as stored, with what the jobs table says about its jobs."""

    id: str
    owner: str
    backend: str
    mode: str
    max_ttl: int
    interactive_ttl: int
    accepting_jobs: bool
    created: str
    closed_at: str | None
    first_job_started: str | None
    last_job_started: str | None
    last_job_completed: str | None
    pending_jobs: int

    def state(self, now: datetime) -> str:
        """IBM's session state: open, active, inactive, pending_closed or closed."""
        if self.closed_at is not None:
            return "closed"
        if not self.accepting_jobs:
            return "pending_closed"
        if self.first_job_started is None:
            return "open"
        if self.pending_jobs:
            return "active"
        last = max(filter(None, [self.last_job_started, self.last_job_completed]))
        idle = _seconds_since(last, now) or 0.0
        return "inactive" if idle > self.interactive_ttl else "active"

    def expired(self, now: datetime) -> bool:
        """Whether its maximum time to live, counted from its first job's start, has run out."""
        elapsed = _seconds_since(self.first_job_started, now)
        return elapsed is not None and elapsed > self.max_ttl

    def to_api(self, now: datetime) -> dict[str, Any]:
        """The session in the shape of IBM's ``GET /sessions/{id}``."""
        end = datetime.fromisoformat(self.closed_at) if self.closed_at else now
        elapsed = _seconds_since(self.first_job_started, end)
        timestamps = [{"status": "open", "timestamp": self.created}]
        if self.first_job_started:
            timestamps.append({"status": "active", "timestamp": self.first_job_started})
        if self.closed_at:
            timestamps.append({"status": "closed", "timestamp": self.closed_at})
        return {
            "id": self.id,
            "backend_name": self.backend,
            "mode": self.mode,
            "state": self.state(now),
            "accepting_jobs": self.accepting_jobs and self.closed_at is None,
            "max_ttl": self.max_ttl,
            "interactive_ttl": self.interactive_ttl,
            "active_ttl": max(self.max_ttl - int(elapsed or 0), 0),
            "created_at": self.created,
            "started_at": self.first_job_started,
            "activated_at": self.first_job_started,
            "last_job_started": self.last_job_started,
            "last_job_completed": self.last_job_completed,
            "closed_at": self.closed_at,
            "elapsed_time": round(elapsed or 0.0, 3),
            "timestamps": timestamps,
            "user_id": self.owner,
        }


@dataclass(frozen=True)
class SessionRequest:
    """A validated ``POST /sessions`` body."""

    backend: str
    mode: str
    max_ttl: int
    interactive_ttl: int = DEFAULT_INTERACTIVE_TTL

    @classmethod
    def from_body(cls, body: Any) -> SessionRequest:
        """Validate a decoded JSON body; ``InvalidRequestError`` says what is wrong."""
        if not isinstance(body, dict):
            raise InvalidRequestError("The request body must be a JSON object.")
        backend = body.get("backend")
        if not isinstance(backend, str) or not backend:
            raise InvalidRequestError("The field 'backend' is required and must be a string.")
        mode = body.get("mode", "dedicated")
        if mode not in MODES:
            raise InvalidRequestError(f"The field 'mode' must be one of {', '.join(MODES)}.")
        return cls(
            backend=backend,
            mode=mode,
            max_ttl=_seconds_field(body, "max_ttl", DEFAULT_MAX_TTL),
            interactive_ttl=_seconds_field(body, "interactive_ttl", DEFAULT_INTERACTIVE_TTL),
        )


def _seconds_field(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    value = as_integer(value)  # 60.0 is an integer in JSON Schema's sense, as in the document
    if value is None or value <= 0:
        raise InvalidRequestError(f"The field '{name}' must be a positive number of seconds.")
    if value > MAX_TTL_SECONDS:
        raise InvalidRequestError(
            f"The field '{name}' is {value} seconds; a session may ask for at most "
            f"{MAX_TTL_SECONDS}."
        )
    return value


_SELECT = """
    SELECT s.*, MIN(j.started) AS first_job_started, MAX(j.started) AS last_job_started,
           MAX(j.finished) AS last_job_completed,
           SUM(CASE WHEN j.status IN (?, ?) THEN 1 ELSE 0 END) AS pending_jobs
    FROM sessions s LEFT JOIN jobs j ON j.session_id = s.id
    WHERE s.id = ? GROUP BY s.id
"""


class SessionManager:
    """Creates, reads, closes and cancels sessions; admits jobs to them."""

    def __init__(self, store: JobStore) -> None:
        self._store = store

    def create(self, owner: str, request: SessionRequest) -> SessionRecord:
        """A new open session of ``owner`` on ``request.backend``."""
        session_id = uuid.uuid4().hex[:20]
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO sessions (id, owner, backend, mode, max_ttl, interactive_ttl, "
                "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    session_id, owner, request.backend, request.mode, request.max_ttl,
                    request.interactive_ttl, utc_now(),
                ),
            )  # fmt: skip
        return self.get(owner, session_id)

    def get(self, owner: str | None, session_id: str) -> SessionRecord:
        """``owner``'s session, brought up to date (closed if its time has run out)."""
        record = self._load(session_id)
        if record is None or (owner is not None and record.owner != owner):
            raise SessionNotFoundError(f"Session {session_id} was not found.")
        now = datetime.now(UTC)
        if record.closed_at is None and (
            record.expired(now) or (not record.accepting_jobs and not record.pending_jobs)
        ):
            self._mark_closed(session_id)
            record = self._load(session_id) or record
        return record

    def _load(self, session_id: str) -> SessionRecord | None:
        rows = self._store.query(_SELECT, (*sorted(PENDING_STATES), session_id))
        if not rows:
            return None
        data = dict(rows[0])
        data["accepting_jobs"] = bool(data["accepting_jobs"])
        data["pending_jobs"] = int(data["pending_jobs"] or 0)
        return SessionRecord(**data)

    def _mark_closed(self, session_id: str) -> None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE sessions SET closed_at = ?, accepting_jobs = 0 "
                "WHERE id = ? AND closed_at IS NULL",
                (utc_now(), session_id),
            )

    def stop_accepting(self, owner: str, session_id: str) -> None:
        """Take no more jobs (``PATCH accepting_jobs=false``); the jobs it has still run, and
        the session closes once they are done."""
        self.get(owner, session_id)
        with self._store.transaction() as db:
            db.execute("UPDATE sessions SET accepting_jobs = 0 WHERE id = ?", (session_id,))
        self.get(owner, session_id)

    def close(self, owner: str, session_id: str) -> list[str]:
        """Close the session now; the ids of its pending jobs, for the caller to cancel."""
        self.get(owner, session_id)
        self._mark_closed(session_id)
        return self.pending_job_ids(session_id)

    def pending_job_ids(self, session_id: str) -> list[str]:
        """Ids of the session's queued and running jobs, oldest first."""
        rows = self._store.query(
            "SELECT id FROM jobs WHERE session_id = ? AND status IN (?, ?) ORDER BY seq",
            (session_id, *sorted(PENDING_STATES)),
        )
        return [row[0] for row in rows]

    def admit(self, owner: str, session_id: str, backend: str) -> None:
        """Check that ``owner`` may submit a job on ``backend`` to the session now."""
        record = self.get(owner, session_id)
        if record.closed_at is not None or not record.accepting_jobs:
            raise InvalidStateError(
                f"Session {session_id} is {record.state(datetime.now(UTC))} and does not accept "
                "jobs. Open a new session."
            )
        if backend != record.backend:
            raise InvalidRequestError(
                f"Session {session_id} runs on {record.backend}; this job asks for {backend}."
            )

    def refusal(self, session_id: str) -> str | None:
        """Why a job of this session may not start now (the session closed), or ``None``."""
        try:
            record = self.get(None, session_id)
        except SessionNotFoundError:
            return f"Its session {session_id} no longer exists."
        if record.closed_at is None:
            return None
        if record.expired(datetime.fromisoformat(record.closed_at)):
            return f"Its session {session_id} reached its maximum time of {record.max_ttl} s."
        return f"Its session {session_id} was closed."
