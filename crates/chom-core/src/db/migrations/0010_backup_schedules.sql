-- A site's backup schedule on its server (cron runs it there, without the
-- desktop), and what the probes last read of it: its last run, and whether
-- cron itself ran. Backups a schedule made come in as rows with
-- `scheduled` = 1 and no job.
CREATE TABLE backup_schedules (
    site_id INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    retention TEXT,
    installed_at INTEGER NOT NULL,
    last_run_at INTEGER,
    last_ok INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    cron_running INTEGER,
    seen_at INTEGER
);
ALTER TABLE backups ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0;
