-- A job's log, line by line as it ran, so that what an operator saw survives
-- a crash of the desktop; bounded per job (jobs.log_dropped counts the rest).
CREATE TABLE job_log (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    server TEXT,
    -- out | err | step | done | note
    kind TEXT NOT NULL,
    line TEXT NOT NULL
);
CREATE INDEX job_log_by_job ON job_log(job_id, id);

ALTER TABLE jobs ADD COLUMN log_dropped INTEGER NOT NULL DEFAULT 0;
-- The site (domain) or server a single-target job works on.
ALTER TABLE jobs ADD COLUMN target TEXT;
-- The last step a single-target job reported (upload, build, switch...).
ALTER TABLE jobs ADD COLUMN step TEXT;
-- After an interruption: what the server said it was left with.
ALTER TABLE jobs ADD COLUMN reconciled TEXT;
ALTER TABLE jobs ADD COLUMN reconciled_at INTEGER;
CREATE INDEX jobs_by_state ON jobs(state);

-- Who runs a job on a site or a server right now, for every CHOM process
-- on this data directory: the app and CLIs take a lease before they start.
CREATE TABLE leases (
    scope TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL,
    holder TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_started INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
