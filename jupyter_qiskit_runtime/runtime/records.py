"""A job as the store keeps it (``JobRecord``), its states and the store's timestamps."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = (
    "Queued",
    "Running",
    "Completed",
    "Failed",
    "Cancelled",
)
FINAL_STATES = frozenset({COMPLETED, FAILED, CANCELLED})
PENDING_STATES = frozenset({QUEUED, RUNNING})

RECORD_COLUMNS = (
    "id, owner, program_id, backend, status, reason, reason_code, created, started, finished, "
    "tags, session_id, private, runtime, cost, log_level, attempts, metrics"
)


def utc_iso(moment: datetime) -> str:
    """An aware datetime as a fixed-width ISO 8601 UTC string, so that strings sort as times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, as IBM's API writes timestamps."""
    return utc_iso(datetime.now(UTC))


@dataclass
class JobRecord:
    """A job as stored, without its (possibly large) params, result and logs."""

    id: str
    owner: str
    program_id: str
    backend: str
    status: str
    created: str
    reason: str | None = None
    reason_code: int | None = None
    started: str | None = None
    finished: str | None = None
    tags: list[str] = field(default_factory=list)
    session_id: str | None = None
    private: bool = False
    runtime: str | None = None
    cost: int | None = None
    log_level: str | None = None
    attempts: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        """Whether the job has reached a state it never leaves."""
        return self.status in FINAL_STATES

    @classmethod
    def from_row(cls, row: sqlite3.Row | dict[str, Any]) -> JobRecord:
        """Build a record from a row selected with ``RECORD_COLUMNS`` (and maybe ``seq``)."""
        data = dict(row)
        data.pop("seq", None)
        data.pop("changed", None)
        data["tags"] = json.loads(data["tags"])
        data["metrics"] = json.loads(data["metrics"])
        data["private"] = bool(data["private"])
        return cls(**data)
