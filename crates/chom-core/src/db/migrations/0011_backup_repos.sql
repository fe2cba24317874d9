-- Which OS keyring entry holds a server's backup repository password:
-- named per repository (a random part), so two data directories, or two
-- desktops, that each name a server "web0" never share or overwrite it.
CREATE TABLE backup_repos (
    server_id INTEGER PRIMARY KEY REFERENCES servers(id) ON DELETE CASCADE,
    account TEXT NOT NULL UNIQUE
);
