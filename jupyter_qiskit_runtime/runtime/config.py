"""The runtime's settings, taken from the extension's traits (``QiskitRuntimeApp``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RuntimeConfig"]


@dataclass(frozen=True)
class RuntimeConfig:
    """The settings the runtime needs, taken from the extension's traits."""

    db_path: str
    journal_mode: str
    pool_size: int
    worker_memory_limit: int
    max_payload_bytes: int
    max_pending_jobs_per_user: int
    retention_days: float
    prestart_workers: int
    quick_job_wait: float = 0.0
