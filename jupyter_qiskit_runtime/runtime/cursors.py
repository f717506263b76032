"""Opaque cursors: a kind and a number, as URL-safe base64 without padding.

The workload listing's pages (kind ``seq``, a job's row number) and the job changes feed (kind
``change``, a number of the store's change counter) hand them out; a client sends them back as
they are.
"""

from __future__ import annotations

import base64

from .errors import InvalidRequestError

#: The largest number a cursor may carry: the largest of 18 digits, below SQLite's largest
#: integer (2**63 - 1), so that a cursor's length alone bounds its number (the OpenAPI document's
#: ``maxLength``). The numbers this server hands out (row numbers, change numbers) are far below
#: it; a larger one was not handed out.
CURSOR_NUMBER_MAX = 10**18 - 1


def encode_cursor(kind: str, number: int) -> str:
    """The cursor for ``number`` of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{number}".encode()).decode().rstrip("=")


def decode_cursor(name: str, cursor: str, kind: str, hint: str) -> int:
    """The number a cursor of ``kind`` stands for; a 400 naming the query argument ``name``,
    followed by ``hint`` (what to send instead), for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, number = text.partition(":")
        if found == kind:
            value = int(number)
            if 0 <= value <= CURSOR_NUMBER_MAX:
                return value
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        pass
    raise InvalidRequestError(
        f"The query argument '{name}' is not a cursor this server gave out; {hint}."
    )
