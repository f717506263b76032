"""Typed query arguments: each parser answers a bad value with a 400 that names the argument."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime

from tornado import web

from ..runtime.errors import InvalidRequestError

#: An example of the timestamps the listings accept, for error messages.
TIMESTAMP_EXAMPLE = "2025-01-31T12:00:00Z"


def int_argument(
    handler: web.RequestHandler, name: str, default: int, low: int, high: int | None
) -> int:
    """An integer between ``low`` and ``high`` (inclusive; no upper bound if ``None``)."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequestError(f"The query argument '{name}' must be an integer.") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidRequestError(f"The query argument '{name}' must be {bounds}.")
    return value


def float_argument(
    handler: web.RequestHandler, name: str, default: float, low: float, high: float
) -> float:
    """A finite number between ``low`` and ``high`` (inclusive)."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # also NaN
        raise InvalidRequestError(
            f"The query argument '{name}' must be a number between {low:g} and {high:g}."
        )
    return value


def bool_argument(handler: web.RequestHandler, name: str, default: bool | None) -> bool | None:
    """``true`` or ``false`` in any case (the client sends ``True`` for ``include_mocks``)."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidRequestError(f"The query argument '{name}' must be 'true' or 'false'.")
    return raw.lower() == "true"


def choice_argument(
    handler: web.RequestHandler, name: str, choices: Collection[str], default: str | None = None
) -> str | None:
    """One of ``choices``, compared exactly."""
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return default
    if raw not in choices:
        listed = ", ".join(f"'{c}'" for c in choices)
        raise InvalidRequestError(f"The query argument '{name}' must be one of {listed}.")
    return raw


def time_argument(handler: web.RequestHandler, name: str) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime; one without an offset is UTC.

    A ``+`` of an offset that was not percent-encoded in the URL arrives as a space; it is read
    as the ``+`` it was.
    """
    raw = handler.get_query_argument(name, None)
    if raw is None:
        return None
    text = raw
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidRequestError(
            f"The query argument '{name}' must be an ISO 8601 date and time such as "
            f"{TIMESTAMP_EXAMPLE}, not '{raw}'."
        ) from None


def time_range(handler: web.RequestHandler) -> tuple[datetime | None, datetime | None]:
    """``created_after`` and ``created_before``, refused if the range is empty."""
    after = time_argument(handler, "created_after")
    before = time_argument(handler, "created_before")
    if after is not None and before is not None and after > before:
        raise InvalidRequestError(
            "The query argument 'created_after' is later than 'created_before': no job was "
            "created in between."
        )
    return after, before
