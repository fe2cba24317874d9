-- The ISO weekdays (1 = Monday, as digits, e.g. "3" or "1234567") on
-- which a site's scheduled run also drills the backup it made; empty:
-- never.
ALTER TABLE backup_schedules ADD COLUMN drill_days TEXT NOT NULL DEFAULT '';
