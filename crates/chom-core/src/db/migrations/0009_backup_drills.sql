-- A drill: the backup restored on its server into scratch copies (files
-- checked against the snapshot and counted, the dump loaded and its tables
-- and rows counted), then removed. `drilled_at` is set when one passed;
-- `drill_error` says why the last one failed (empty: none did).
ALTER TABLE backups ADD COLUMN drilled_at INTEGER;
ALTER TABLE backups ADD COLUMN drill_files INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backups ADD COLUMN drill_tables INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backups ADD COLUMN drill_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backups ADD COLUMN drill_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE backups ADD COLUMN drill_error TEXT NOT NULL DEFAULT '';
