"""Workloads: ``GET /v1/workloads``, IBM's cursor-paged listing of a user's jobs."""

from __future__ import annotations

from pydantic import Field

from .common import Timestamp, WireModel


class Workload(WireModel):
    """One entry of ``GET /v1/workloads``: a job, session or batch."""

    id: str
    mode: str | None = Field(None, description="``job``, ``session`` or ``batch``.")
    backend: str | None = None
    status: str | None = Field(None, description="pending, in_progress, completed, ...")
    created: Timestamp | None = None
    ended: Timestamp | None = None
    tags: list[str] | None = None
    session_id: str | None = None
    user_id: str | None = None
    usage_seconds: float | None = Field(None, description="Null until it is final.")


class PageLink(WireModel):
    """A link to a neighbouring page of a listing."""

    href: str = Field(description="The page's URL, with its opaque cursor.")


class WorkloadList(WireModel):
    """``GET /v1/workloads``: a page of workloads with links to the pages around it."""

    workloads: list[Workload]
    total_count: int = Field(description="Workloads matching the filters, over all pages.")
    limit: int
    next: PageLink | None = None
    previous: PageLink | None = None
