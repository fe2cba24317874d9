-- The per-server circuit breaker: failed dials in a row, and until when
-- the server is paused. No row: closed, nothing failed.
CREATE TABLE server_breakers (
    server_id INTEGER PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
    failures INTEGER NOT NULL,
    open_until INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);
