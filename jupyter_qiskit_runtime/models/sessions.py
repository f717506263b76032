"""Sessions and batches: opening one, its details, and closing it to new jobs.

The modes are the runtime's (``runtime/sessions.py``), imported here, not repeated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..runtime.sessions import MODES
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

    mode: SessionMode | None = None
    backend: str | None = None
    instance: str | None = Field(None, description="The client's instance (CRN); recorded only.")
    max_ttl: int | None = Field(None, gt=0, description="Maximum session length in seconds.")
    interactive_ttl: int | None = Field(None, gt=0, description="Idle seconds between jobs.")


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
    """``PATCH /v1/sessions/{id}``: ``{"accepting_jobs": false}`` closes it to new jobs."""

    accepting_jobs: bool
