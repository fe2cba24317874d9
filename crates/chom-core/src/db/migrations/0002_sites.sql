-- CHOM cache, version 2: sites and their deploys. Database and admin
-- passwords live in the OS keyring and on the server, never here.

CREATE TABLE sites (
    id              INTEGER PRIMARY KEY,
    server_id       INTEGER NOT NULL REFERENCES servers(id) ON DELETE RESTRICT,
    domain          TEXT NOT NULL UNIQUE,       -- ASCII (punycode) form
    kind            TEXT NOT NULL CHECK (kind IN ('static', 'wordpress', 'laravel')),
    php_version     TEXT,                       -- NULL for static sites
    aliases         TEXT NOT NULL DEFAULT '',   -- space-separated ASCII domains
    site_user       TEXT NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1,
    current_release TEXT,                       -- what `current` pointed at when last seen
    ssl_expires_at  INTEGER,
    ssl_checked_at  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX sites_server ON sites(server_id);

-- One row per deploy or rollback attempt; what happened, as far as CHOM saw.
CREATE TABLE deploys (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    kind        TEXT NOT NULL,                  -- deploy | rollback
    release_id  TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',       -- folder, git URL@ref, tarball
    state       TEXT NOT NULL,                  -- running | live | failed | interrupted
    step        TEXT NOT NULL DEFAULT '',       -- the last step reached
    message     TEXT NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX deploys_site ON deploys(site_id, started_at);
