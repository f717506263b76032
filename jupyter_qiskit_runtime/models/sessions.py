"""Sessions and batches: opening one, its details, and closing it to new jobs.

The modes are the runtime's (``runtime/sessions.py``), imported here, not repeated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from ..runtime.sessions import MAX_TTL_SECONDS, MODES
from .common import Timestamp, WireModel

if TYPE_CHECKING:
    SessionMode = str
else:
    #: A session's mode, one of ``runtime.sessions.MODES``: ``dedicated`` (a session) or
    #: ``batch``. (A ``Literal`` of the runtime's constants, built at run time: to mypy, a
    #: ``str``.)
    SessionMode = Literal[MODES]


class SessionCreateRequest(WireModel):
    """``POST /v1/sessions``: open a session (``dedicated``) or a batch."""

    mode: SessionMode = Field(
        "dedicated", description="``dedicated`` (a session, the default) or ``batch``."
    )
    backend: str = Field(
        min_length=1,
        description="A backend name from ``GET /v1/backends``; any other is a 404.",
        examples=["fake_manila@aer"],
    )
    instance: Any = Field(None, description="The client's instance (CRN); accepted and ignored.")
    max_ttl: int | None = Field(
        None,
        gt=0,
        le=MAX_TTL_SECONDS,
        description="Maximum session length in seconds, counted from its first job's start "
        "(default 8 hours).",
    )
    interactive_ttl: int | None = Field(
        None,
        gt=0,
        le=MAX_TTL_SECONDS,
        description="Idle seconds between jobs before the session is inactive (default 60).",
    )


class SessionTimestamp(WireModel):
    """One state transition of a session."""

    status: str
    timestamp: Timestamp


class SessionDetails(WireModel):
    """``GET /v1/sessions/{id}`` (and the answer to ``POST /v1/sessions``)."""

    id: str
    backend_name: str | None = None
    interactive_ttl: int | None = Field(None, description="Idle seconds allowed between jobs.")
    max_ttl: int | None = Field(None, description="Maximum session length in seconds.")
    active_ttl: int | None = Field(None, description="Seconds the session may stay active.")
    state: str | None = Field(None, description="open, active, inactive, closed, pending_*.")
    accepting_jobs: bool | None = None
    last_job_started: Timestamp | None = None
    last_job_completed: Timestamp | None = None
    started_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    activated_at: Timestamp | None = None
    mode: SessionMode | None = None
    elapsed_time: float | None = Field(None, description="Usage seconds (``usage_time``).")
    timestamps: list[SessionTimestamp] | None = None
    created_at: Timestamp | None = None
    user_id: str | None = Field(None, description="The owner.")


class SessionUpdate(WireModel):
    """``PATCH /v1/sessions/{id}``: ``{"accepting_jobs": false}`` closes it to new jobs; a
    session cannot be reopened, so ``false`` is the one value."""

    accepting_jobs: Literal[False]
