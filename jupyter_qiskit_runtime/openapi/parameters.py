"""The schemas of the API's query and path parameters, and ``Query``, a query parameter.

Every rule the server applies to one parameter is in its schema (bounds, choices, patterns),
imported from ``runtime/`` where the handlers take them, so that the document and the server
cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import models as m
from ..runtime.cursors import CURSOR_NUMBER_MAX, encode_cursor

#: The schema of a string.
STRING_SCHEMA: dict[str, Any] = {"type": "string"}

#: The schema of a job or session id in a path: the characters of the ids this server gives out,
#: as the routes match them (a path with any other character is no job's or session's: 404).
ID_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"}

#: The schema of each path parameter, by name.
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "name": {"type": "string", "examples": ["fake_manila@aer", "ideal_5q@aer_ideal"]},
    "job_id": ID_SCHEMA,
    "session_id": ID_SCHEMA,
}

#: The schema of a boolean (``true`` or ``false``).
BOOLEAN: dict[str, Any] = {"type": "boolean"}

#: A date and time as the server reads one (``handlers/query.py``: Python's
#: ``datetime.fromisoformat``, then UTC): RFC 3339's ``date-time`` with an upper-case ``T`` and
#: ``Z``, seconds up to 59 (no leap second), on a day from 0001-01-02 to 9999-12-30, so that in UTC,
#: whatever its offset, it stays within the years 1 to 9999 that Python represents.
_DAY = "(?:0[1-9]|[12][0-9]|3[01])"
_MONTH_DAY = f"(?:0[1-9]|1[0-2])-{_DAY}"
_DATE = (
    "(?:(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])-"
    f"{_MONTH_DAY}"
    f"|0001-(?:01-(?:0[2-9]|[12][0-9]|3[01])|(?:0[2-9]|1[0-2])-{_DAY})"
    f"|9999-(?:(?:0[1-9]|1[01])-{_DAY}|12-(?:0[1-9]|[12][0-9]|30)))"
)
_HOUR_MINUTE = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
DATE_TIME_PATTERN = f"^{_DATE}T{_HOUR_MINUTE}:[0-5][0-9](?:\\.[0-9]+)?(?:Z|[+-]{_HOUR_MINUTE})$"
DATE_TIME: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": DATE_TIME_PATTERN,
    "examples": ["2025-01-31T12:00:00Z"],
}
#: Free text of a filter: the server refuses a control character (Tornado would read it as a
#: space, so the filter would select something else).
TEXT: dict[str, Any] = {"type": "string", "pattern": m.TEXT_PATTERN}
TEXTS: dict[str, Any] = {"type": "array", "items": TEXT}


def json_number(value: float) -> int | float:
    """A bound as JSON writes it best: ``60``, not ``60.0``."""
    return int(value) if float(value).is_integer() else value


def integers(low: int, high: int) -> dict[str, Any]:
    """The schema of an integer from ``low`` to ``high`` (inclusive)."""
    return {"type": "integer", "minimum": low, "maximum": high}


def choices(values: tuple[str, ...]) -> dict[str, Any]:
    """The schema of one of ``values``."""
    return {"enum": list(values)}


#: Base64 (URL-safe) of three digits (``0``-``9``, bytes 0x30-0x39): their first character is 12
#: to 14 (``M N O``) and its second holds the first digit's last two bits over the next digit's
#: first four (3): ``D T j z``, or ``D T`` after ``O`` (0x38, 0x39); the third holds the second
#: digit's last four bits (0-9) times 4; the fourth the third digit's last six bits (48-57).
_B64_TWO_DIGITS = "(?:[MN][DTjz]|O[DT])[AEIMQUYcgk]"
_B64_THREE_DIGITS = f"{_B64_TWO_DIGITS}[w-z0-5]"
_B64_ONE_DIGIT = "(?:[MN][AQgw]|O[AQ])"
#: The most digits of a cursor's number in the document: every number of that many digits is at
#: most ``CURSOR_NUMBER_MAX``, the largest the server takes.
CURSOR_DIGITS_MAX = len(str(CURSOR_NUMBER_MAX + 1)) - 1


def cursor_schema(kind: str) -> dict[str, Any]:
    """The schema of a cursor of ``kind`` as the server hands it out (``runtime/cursors.py``):
    ``<kind>:<number>``, the number in decimal without leading zeros, in URL-safe base64 without
    padding. The server refuses a string that is not a cursor of ``kind`` (400).

    ``kind`` is a multiple of three characters long, so that ``:<digits>`` starts a base64 group:
    ``:`` and a first digit encode as ``Oj`` and one of ``AEIMQUYcgk`` (``A``: ``0``, which is
    then the whole number), a second digit as one of ``w-z0-5``; the digits after those come
    three by three, then one or two. ``maxLength`` bounds the number's digits."""
    assert len(kind) % 3 == 0, kind
    prefix = encode_cursor(kind, 0)[: len(kind) * 4 // 3]
    more_digits = f"(?:{_B64_THREE_DIGITS})*(?:{_B64_TWO_DIGITS}|{_B64_ONE_DIGIT})?"
    pattern = f"^{prefix}Oj(?:A|[EIMQUYcgk](?:[w-z0-5]{more_digits})?)$"
    longest = math.ceil((len(kind) + 1 + CURSOR_DIGITS_MAX) * 4 / 3)
    return {"type": "string", "pattern": pattern, "maxLength": longest}


@dataclass(frozen=True)
class Query:
    """A query parameter: arrays are sent as the parameter repeated (``tags=a&tags=b``)."""

    name: str
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: STRING_SCHEMA)

    def to_openapi(self) -> dict[str, Any]:
        """The parameter object."""
        parameter: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": dict(self.schema),
        }
        if self.schema.get("type") == "array":
            parameter.update(style="form", explode=True)
        return parameter
