-- 18: more pinned host keys per server, beside the one in host_keys (a
-- known_hosts file may vouch for a server's ed25519, ECDSA and RSA keys
-- at once). Any of them is accepted; the client asks for their types
-- first. They go when the main pin is replaced, the endpoint changes or
-- the key is revoked.
CREATE TABLE host_keys_more (
    server_id   INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    algorithm   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (server_id, fingerprint)
);
