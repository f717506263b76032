"""What every model shares: the base class, timestamps, and the error body every error answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

#: An ISO 8601 date and time, as a string on the wire.
Timestamp = Annotated[datetime, Strict(False)]

#: What text the server stores and sends back may hold: no control character (Unicode category
#: Cc: U+0000-U+001F, U+007F-U+009F). The server refuses unpaired surrogates too, which no
#: pattern can name portably (JSON Schema's regular expressions and UTF-8 have none); a client
#: that encodes its strings in UTF-8 never sends one. ``tests/test_openapi.py`` checks that the
#: pattern accepts exactly what ``runtime.jobs.forbidden_character`` lets through.
TEXT_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"

#: A string without control characters (``TEXT_PATTERN``).
Text = Annotated[str, Field(pattern=TEXT_PATTERN)]

#: A character class (without its brackets) of what the server drops around a form field or a
#: query argument it strips: white space as Python's ``str.strip()`` has it, and the control
#: characters Tornado reads as spaces (U+0000-U+0008, U+000E-U+001F). Listed, because ``\s``
#: differs between regular expression dialects (ECMA 262's, the one JSON Schema names, leaves out
#: U+001C-U+001F and U+0085, and adds U+FEFF). ``tests/test_openapi.py`` checks it.
SPACE_CLASS = "\\x00-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


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
