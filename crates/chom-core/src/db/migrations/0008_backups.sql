-- Backups of sites into their server's restic repository: one row per
-- backup (a files snapshot and, for PHP sites, a database snapshot).
-- `verified_at`: when `restic check` last read this backup's repository
-- back whole after it was made. Never a password.
CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    job_id INTEGER REFERENCES jobs(id),
    state TEXT NOT NULL,
    release_id TEXT,
    files_snapshot TEXT,
    db_snapshot TEXT,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    added_bytes INTEGER NOT NULL DEFAULT 0,
    db_bytes INTEGER NOT NULL DEFAULT 0,
    db_engine TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    verified_at INTEGER,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX backups_by_site ON backups (site_id, started_at);
