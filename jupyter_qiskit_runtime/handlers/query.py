"""Typed query arguments: each parser answers a bad value with a 400 that names the argument."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import UTC, datetime

from tornado import web

from ..runtime.errors import InvalidRequestError
from ..runtime.jobs import forbidden_character

#: An example of the timestamps the listings accept, for error messages.
TIMESTAMP_EXAMPLE = "2025-01-31T12:00:00Z"


def text_arguments(handler: web.RequestHandler, name: str, strip: bool = False) -> list[str]:
    """Every value of a repeated free-text argument (a filter), as sent (stripped of surrounding
    white space if ``strip``), each refused if it holds a control character.

    Tornado's own getters replace control characters with spaces, so a filter holding one would
    silently select something else; stored text never holds one. Bytes that are not UTF-8 are a
    400 from Tornado.
    """
    values = []
    for raw in handler.request.query_arguments.get(name, []):
        value = handler.decode_argument(raw, name=name)
        if (char := forbidden_character(value)) is not None:
            raise InvalidRequestError(
                f"The query argument '{name}' contains the character {char}; control characters "
                "are not allowed."
            )
        values.append(value.strip() if strip else value)
    return values


def text_argument(handler: web.RequestHandler, name: str) -> str | None:
    """The value of a free-text argument given at most once, stripped, as ``text_arguments``
    checks it; ``None`` if absent."""
    values = text_arguments(handler, name, strip=True)
    if len(values) > 1:
        raise _repeated(name, len(values))
    return values[0] if values else None


def _repeated(name: str, count: int) -> InvalidRequestError:
    return InvalidRequestError(
        f"The query argument '{name}' is given {count} times; it takes one value."
    )


def _scalar(handler: web.RequestHandler, name: str) -> str | None:
    """The one value of an argument, exactly as sent; ``None`` if absent. Refused when repeated,
    or when it has white space around it or a control character in it (Tornado's own getter
    strips the one and turns the other into spaces, so ``?limit=%205`` would pass as 5)."""
    raw_values = handler.request.query_arguments.get(name, [])
    if not raw_values:
        return None
    if len(raw_values) > 1:
        raise _repeated(name, len(raw_values))
    value = handler.decode_argument(raw_values[0], name=name)
    if value != value.strip() or forbidden_character(value) is not None:
        raise InvalidRequestError(
            f"The query argument '{name}' has white space around it or a control character in it."
        )
    return value


def int_argument(
    handler: web.RequestHandler, name: str, default: int, low: int, high: int | None
) -> int:
    """An integer between ``low`` and ``high`` (inclusive; no upper bound if ``None``)."""
    raw = _scalar(handler, name)
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
    raw = _scalar(handler, name)
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
    raw = _scalar(handler, name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise InvalidRequestError(f"The query argument '{name}' must be 'true' or 'false'.")
    return raw.lower() == "true"


def choice_argument(
    handler: web.RequestHandler, name: str, choices: Collection[str], default: str | None = None
) -> str | None:
    """One of ``choices``, compared exactly."""
    raw = _scalar(handler, name)
    if raw is None:
        return default
    if raw not in choices:
        listed = ", ".join(f"'{c}'" for c in choices)
        raise InvalidRequestError(f"The query argument '{name}' must be one of {listed}.")
    return raw


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime (one without an offset is UTC);
    ``None`` if ``text`` is not one.

    A ``+`` of an offset that was not percent-encoded in the URL arrives as a space; it is read
    as the ``+`` it was.
    """
    if len(text) > 6 and text[-6] == " " and text[-3] == ":":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def time_argument(handler: web.RequestHandler, name: str) -> datetime | None:
    """An ISO 8601 date and time as an aware UTC datetime (``parse_time``)."""
    raw = _scalar(handler, name)
    if raw is None:
        return None
    moment = parse_time(raw)
    if moment is None:
        raise InvalidRequestError(
            f"The query argument '{name}' must be an ISO 8601 date and time such as "
            f"{TIMESTAMP_EXAMPLE}, not '{raw}'."
        )
    return moment


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
