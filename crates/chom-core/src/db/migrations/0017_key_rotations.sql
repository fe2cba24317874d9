-- 17: the journal of key rotations, one row per server and (old, new) key
-- pair. A rotation is run again until every row is 'done'; the row says
-- how far that server got, so a run after a crash or a down host goes on
-- from there (and never removes the old key where the new one has not
-- logged in).
CREATE TABLE key_rotations (
    server_id INTEGER NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    old_key_id INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
    new_key_id INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'added', 'switched', 'done')),
    -- What the last attempt said (an error, or what it did).
    detail TEXT NOT NULL DEFAULT '',
    job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (server_id, old_key_id, new_key_id)
);
CREATE INDEX key_rotations_by_old ON key_rotations (old_key_id, state);

-- (Since this version, an agent key's keyring_account is 'agent:' and a
-- random name rather than empty: the column is unique, and an empty one
-- allowed one agent key only. Nothing is stored under it.)
