"""The job database's schema, as the migrations that build it (``PRAGMA user_version`` counts
the ones applied); ``JobStore`` applies the missing ones when it opens a database."""

from __future__ import annotations

#: Each entry migrates the schema from version ``index`` to ``index + 1``.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        owner TEXT NOT NULL,
        program_id TEXT NOT NULL,
        backend TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        reason_code INTEGER,
        params TEXT NOT NULL,
        result TEXT,
        logs TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        started TEXT,
        finished TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        session_id TEXT,
        private INTEGER NOT NULL DEFAULT 0,
        runtime TEXT,
        cost INTEGER,
        log_level TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        metrics TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX jobs_owner_created ON jobs (owner, created);
    CREATE INDEX jobs_status ON jobs (status);
    """,
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        backend TEXT NOT NULL,
        mode TEXT NOT NULL,
        max_ttl INTEGER NOT NULL,
        interactive_ttl INTEGER NOT NULL,
        accepting_jobs INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE INDEX sessions_owner ON sessions (owner);
    CREATE INDEX jobs_session ON jobs (session_id);
    """,
    # ``changed``: the number of a job's latest change, from a counter that only grows and
    # survives restarts and deletions, so that "changes after N" never misses one.
    """
    ALTER TABLE jobs ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET changed = seq;
    CREATE INDEX jobs_owner_changed ON jobs (owner, changed);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters (name, value) SELECT 'job_changes', COALESCE(MAX(seq), 0) FROM jobs;
    """,
)
