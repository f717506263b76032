"""What every model shares: the base class, timestamps, and the error body every error answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

#: An ISO 8601 date and time, as a string on the wire.
Timestamp = Annotated[datetime, Strict(False)]


class WireModel(BaseModel):
    """A body whose fields are all named here; unknown fields are kept, not refused."""

    model_config = ConfigDict(strict=True, extra="allow")


class ErrorDetail(WireModel):
    """What went wrong, as the official client shows it."""

    message: str = Field(description="A sentence for the person who reads it in the client.")
    code: int = Field(
        description="A stable machine-readable code: 1400 invalid request, 1413 too large, "
        "1401 not authorized, 1404 not found (1211 backend, 1212 program, 1217 job, "
        "1219 session), "
        "1409 wrong state, 1429 too many unfinished jobs, 1503 shutting down; "
        "the HTTP status for an error Jupyter itself raises (403 without credentials)."
    )


class ErrorBody(WireModel):
    """Every error: the client appends ``error.message`` and ``error.code`` to its exception."""

    error: ErrorDetail
    message: str = Field(description="The same message, where Jupyter's own clients look.")
