-- CHOM cache, version 1. Times are Unix milliseconds (UTC).
-- No private key material, passphrase or password is ever stored here.

CREATE TABLE keys (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    algorithm       TEXT NOT NULL,
    bits            INTEGER NOT NULL,
    public_key      TEXT NOT NULL,          -- one OpenSSH line
    fingerprint     TEXT NOT NULL,          -- SHA256:...
    keyring_account TEXT NOT NULL UNIQUE,   -- where the private half lives in the OS keyring
    created_at      INTEGER NOT NULL
);

CREATE TABLE servers (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    host        TEXT NOT NULL,
    port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    user        TEXT NOT NULL,
    key_id      INTEGER REFERENCES keys(id) ON DELETE RESTRICT,
    group_name  TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'unknown',  -- up | down | unknown | host_key_changed
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    last_seen   INTEGER
);
CREATE INDEX servers_group ON servers(group_name);

CREATE TABLE server_tags (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    tag       TEXT NOT NULL,
    PRIMARY KEY (server_id, tag)
) WITHOUT ROWID;
CREATE INDEX server_tags_tag ON server_tags(tag);

-- The host key pinned after the operator accepted its fingerprint.
CREATE TABLE host_keys (
    server_id   INTEGER PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
    algorithm   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key  TEXT NOT NULL,              -- OpenSSH line of the host key
    first_seen  INTEGER NOT NULL
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,              -- probe | run | trust ...
    detail      TEXT NOT NULL DEFAULT '',   -- e.g. the command of a run
    state       TEXT NOT NULL,              -- running | succeeded | failed | cancelled | interrupted
    os_user     TEXT NOT NULL,
    pid         INTEGER NOT NULL,           -- the CHOM process running it, to detect crashes
    total       INTEGER NOT NULL DEFAULT 0,
    succeeded   INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX jobs_started ON jobs(started_at);

CREATE TABLE job_results (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    server_name TEXT NOT NULL,
    server_id   INTEGER REFERENCES servers(id) ON DELETE SET NULL,
    ok          INTEGER NOT NULL,
    exit_status INTEGER,
    stdout      TEXT,
    stderr      TEXT,
    error_code  TEXT,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (job_id, server_name)
);

CREATE TABLE probes (
    id            INTEGER PRIMARY KEY,
    server_id     INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    job_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    at            INTEGER NOT NULL,
    ok            INTEGER NOT NULL,
    error_code    TEXT,
    error         TEXT,
    duration_ms   INTEGER NOT NULL,
    hostname      TEXT,
    os            TEXT,
    kernel        TEXT,
    uptime_s      INTEGER,
    load1         REAL,
    load5         REAL,
    load15        REAL,
    cpus          INTEGER,
    mem_total     INTEGER,                  -- bytes
    mem_available INTEGER,
    swap_total    INTEGER,
    swap_free     INTEGER,
    disk_total    INTEGER,                  -- bytes, filesystem of /
    disk_free     INTEGER,
    services      TEXT                      -- JSON object: name -> "up" | "down" | "absent"
);
CREATE INDEX probes_server_at ON probes(server_id, at);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    os_user TEXT NOT NULL,
    action  TEXT NOT NULL,                  -- e.g. server.add, key.generate, trust.accept, run
    server  TEXT,
    target  TEXT,
    result  TEXT NOT NULL,                  -- ok | error
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
