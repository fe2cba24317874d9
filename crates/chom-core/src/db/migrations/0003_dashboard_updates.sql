-- WordPress sites whose dashboard may update plugins and themes: their
-- user then writes wp-content/plugins, themes and upgrade of the live
-- release. Off by default.
ALTER TABLE sites ADD COLUMN dashboard_updates INTEGER NOT NULL DEFAULT 0;
