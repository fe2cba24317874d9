-- The server this one is reached through (OpenSSH's ProxyJump): the
-- pooled connection to it carries this server's SSH stream. A jump host
-- that servers still go through cannot be removed.
ALTER TABLE servers ADD COLUMN jump_id INTEGER REFERENCES servers (id) ON DELETE RESTRICT;
