-- When the process running a job started: with its PID, it tells a job
-- of a live process from one whose process died and whose PID was reused.
ALTER TABLE jobs ADD COLUMN pid_started INTEGER;
