-- What the last check of its repository found wrong with a backup's data
-- (empty: nothing). A damaged backup is good again only after a check
-- that read the whole repository back passed; a partial one may not have
-- read the damaged part.
ALTER TABLE backups ADD COLUMN damage TEXT NOT NULL DEFAULT '';
