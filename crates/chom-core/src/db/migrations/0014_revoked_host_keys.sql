-- Host keys a known_hosts file marked @revoked for a server: refused for
-- good, whatever else pins or offers them.
CREATE TABLE revoked_host_keys (
    server_id   INTEGER NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL,
    public_key  TEXT    NOT NULL,
    -- Where the revocation came from (a file and line), for the operator.
    source      TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (server_id, fingerprint)
);
