"""Listing a user's jobs: the filters of ``GET /jobs`` and ``GET /workloads``, in SQL.

``list_jobs`` pages by offset, as ``GET /jobs`` does; ``list_workloads`` pages by keyset (the
job's never-reused ``seq``), so that a cursor stays valid while jobs come and go. ``list_changes``
(``GET /jobs/changes``) lists the jobs changed after a number of the store's change counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .cursors import decode_cursor, encode_cursor
from .jobs import workload_to_api
from .records import FINAL_STATES, PENDING_STATES, RECORD_COLUMNS, JobRecord
from .store import SQLITE_INTEGER_MAX, JobStore

# The query arguments of the listings, as the handlers parse them and the OpenAPI document
# describes them.

#: ``GET /jobs``: jobs per page when the request gives no ``limit``, and the range ``limit`` may
#: take.
JOBS_LIMIT_DEFAULT = 10
JOBS_LIMIT_MIN = 0
JOBS_LIMIT_MAX = 1000
#: ``GET /jobs``: the largest ``offset``, SQLite's largest integer (any offset past the user's
#: jobs gives an empty page).
JOBS_OFFSET_MAX = SQLITE_INTEGER_MAX
#: ``GET /jobs``'s ``sort``: oldest first, or newest first (the default).
JOBS_SORTS = ("ASC", "DESC")

#: ``GET /jobs/changes``: most jobs in one answer when the request gives no ``limit``, and the
#: range ``limit`` may take.
CHANGES_LIMIT_DEFAULT = 100
CHANGES_LIMIT_MIN = 1
CHANGES_LIMIT_MAX = 1000

#: ``GET /workloads``: workloads per page when the request gives no ``limit``, and the range
#: ``limit`` may take.
WORKLOADS_LIMIT_DEFAULT = 10
WORKLOADS_LIMIT_MIN = 1
WORKLOADS_LIMIT_MAX = 50
#: ``GET /workloads``'s ``sort``: oldest first (the default), or newest first.
WORKLOADS_SORTS = ("createdAt", "-createdAt")
#: ``GET /workloads``'s ``user``: only the requesting user's workloads.
WORKLOADS_USERS = ("me",)
#: ``GET /workloads``'s ``mode``: the kinds of workload IBM lists.
WORKLOADS_MODES = ("job", "session", "batch")


def _like_pattern(text: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``text`` anywhere, its wildcards literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class JobFilter:
    """Which of an owner's jobs a listing selects; a field left empty selects them all.

    ``created_after`` and ``created_before`` are inclusive bounds in ``utc_iso`` form, the form
    ``created`` is stored in, so that they compare as strings. ``tags`` selects jobs that have
    every one of them. ``search`` matches a part of the id or of any tag, ignoring case.
    """

    pending: bool | None = None
    statuses: frozenset[str] | None = None
    backend: str | None = None
    program_id: str | None = None
    session_id: str | None = None
    tags: tuple[str, ...] = ()
    created_after: str | None = None
    created_before: str | None = None
    search: str | None = None

    def where(self, owner: str) -> tuple[str, list[Any]]:
        """The SQL condition on ``jobs`` and its arguments."""
        where: list[str] = ["owner = ?"]
        args: list[Any] = [owner]
        states = None if self.pending is None else PENDING_STATES if self.pending else FINAL_STATES
        for allowed in (states, self.statuses):
            if allowed is not None:
                where.append(f"status IN ({','.join('?' * len(allowed))})" if allowed else "0")
                args.extend(sorted(allowed))
        for column, value in (
            ("backend", self.backend),
            ("program_id", self.program_id),
            ("session_id", self.session_id),
        ):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if self.tags:
            wanted = sorted(set(self.tags))
            where.append(
                "(SELECT COUNT(DISTINCT value) FROM json_each(jobs.tags) "
                f"WHERE value IN ({','.join('?' * len(wanted))})) = ?"
            )
            args.extend([*wanted, len(wanted)])
        if self.created_after:
            where.append("created >= ?")
            args.append(self.created_after)
        if self.created_before:
            where.append("created <= ?")
            args.append(self.created_before)
        if self.search:
            where.append(
                "(id LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM json_each(jobs.tags) "
                "WHERE value LIKE ? ESCAPE '\\'))"
            )
            args.extend([_like_pattern(self.search)] * 2)
        return " AND ".join(where), args


@dataclass
class WorkloadPage:
    """One page of a cursor listing: ``(seq, record)`` pairs in the order asked for, the total
    number of matching jobs, and whether matching jobs lie before or after the page."""

    records: list[tuple[int, JobRecord]]
    total: int
    more_before: bool
    more_after: bool


def list_jobs(
    store: JobStore,
    owner: str,
    *,
    limit: int = 10,
    offset: int = 0,
    pending: bool | None = None,
    backend: str | None = None,
    program_id: str | None = None,
    descending: bool = True,
    tags: Sequence[str] = (),
    session_id: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
) -> tuple[list[JobRecord], int]:
    """A page of ``owner``'s jobs and their total; newest first unless not ``descending``.

    The filters are those of ``JobFilter``; the total counts every job they select.
    """
    clause, args = JobFilter(
        pending=pending, backend=backend, program_id=program_id, session_id=session_id,
        tags=tuple(tags), created_after=created_after, created_before=created_before,
    ).where(owner)  # fmt: skip
    order = "DESC" if descending else "ASC"
    with store.reading() as db:
        total = db.execute(f"SELECT COUNT(*) FROM jobs WHERE {clause}", args).fetchone()
        rows = db.execute(
            f"SELECT {RECORD_COLUMNS} FROM jobs WHERE {clause} ORDER BY seq {order} "
            "LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
    return [JobRecord.from_row(r) for r in rows], int(total[0])


def list_workloads(
    store: JobStore,
    owner: str,
    filters: JobFilter,
    *,
    limit: int,
    descending: bool,
    after: int | None = None,
    before: int | None = None,
) -> WorkloadPage:
    """A page of ``owner``'s jobs by keyset: those just after the job numbered ``after`` in
    the sort order, or just before the job numbered ``before``, or the first ones.

    Numbers (``seq``) are never reused, so a cursor stays valid while jobs come and go.
    """
    clause, args = filters.where(owner)
    later, earlier = ("<", ">") if descending else (">", "<")
    order, reverse = ("DESC", "ASC") if descending else ("ASC", "DESC")
    select = f"SELECT seq, {RECORD_COLUMNS} FROM jobs WHERE {clause}"
    exists = f"SELECT EXISTS (SELECT 1 FROM jobs WHERE {clause} AND seq {{}} ?)"
    with store.reading() as db:
        total = db.execute(f"SELECT COUNT(*) FROM jobs WHERE {clause}", args).fetchone()
        if before is not None:
            rows = db.execute(
                f"{select} AND seq {earlier} ? ORDER BY seq {reverse} LIMIT ?",
                [*args, before, limit],
            ).fetchall()[::-1]
        elif after is not None:
            rows = db.execute(
                f"{select} AND seq {later} ? ORDER BY seq {order} LIMIT ?",
                [*args, after, limit],
            ).fetchall()
        else:
            rows = db.execute(f"{select} ORDER BY seq {order} LIMIT ?", [*args, limit]).fetchall()
        more_before = more_after = False
        if rows:
            first, last = rows[0]["seq"], rows[-1]["seq"]
            more_before = bool(db.execute(exists.format(earlier), [*args, first]).fetchone()[0])
            more_after = bool(db.execute(exists.format(later), [*args, last]).fetchone()[0])
    records = [(int(r["seq"]), JobRecord.from_row(r)) for r in rows]
    return WorkloadPage(records, int(total[0]), more_before, more_after)


def _cursor(seq: int) -> str:
    """An opaque page cursor for the job numbered ``seq``."""
    return encode_cursor("seq", seq)


def _cursor_seq(name: str, cursor: str) -> int:
    """The job number a cursor of ``_cursor`` stands for; 400 for anything else."""
    return decode_cursor(name, cursor, "seq", "follow the 'href' of a page's 'next' or 'previous'")


def workloads_page(
    store: JobStore, owner: str, filters: JobFilter, instance: str, *, limit: int,
    descending: bool, mode: str | None, next_cursor: str | None, previous_cursor: str | None,
) -> dict[str, Any]:  # fmt: skip
    """``GET /workloads``: a page of ``owner``'s jobs as workloads of ``instance``, with the
    cursors of the neighbouring pages (``None`` at an end).

    Every job is a workload of mode ``job`` (jobs run in a session too: a session is listed by
    the session endpoints, not here), so ``mode`` ``session`` or ``batch`` selects none.
    """
    after = _cursor_seq("next", next_cursor) if next_cursor is not None else None
    before = _cursor_seq("previous", previous_cursor) if previous_cursor is not None else None
    if mode not in (None, "job"):
        return {"workloads": [], "total_count": 0, "limit": limit, "next": None, "previous": None}
    page = list_workloads(
        store, owner, filters, limit=limit, descending=descending, after=after, before=before
    )
    seqs = [seq for seq, _ in page.records]
    return {
        "workloads": [workload_to_api(record, instance) for _, record in page.records],
        "total_count": page.total,
        "limit": limit,
        "next": _cursor(seqs[-1]) if page.more_after else None,
        "previous": _cursor(seqs[0]) if page.more_before else None,
    }


def list_changes(
    store: JobStore, owner: str, after: int, limit: int
) -> tuple[list[tuple[int, JobRecord]], bool]:
    """``owner``'s jobs whose latest change is numbered after ``after``, as ``(changed, record)``
    pairs in the order of those changes, at most ``limit``; and whether more follow.

    A job changed several times since ``after`` is listed once, as it is now.
    """
    with store.reading() as db:
        rows = db.execute(
            f"SELECT changed, {RECORD_COLUMNS} FROM jobs WHERE owner = ? AND changed > ? "
            "ORDER BY changed LIMIT ?",
            (owner, after, limit + 1),
        ).fetchall()
    pairs = [(int(r["changed"]), JobRecord.from_row(r)) for r in rows[:limit]]
    return pairs, len(rows) > limit
