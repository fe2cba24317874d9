-- What a job was asked to do (JSON: a deploy's source and hooks, a
-- setup's PHP version), so that an interrupted one can be run again as it
-- was. Never a secret: sources, paths, hooks and versions only.
ALTER TABLE jobs ADD COLUMN input TEXT;
