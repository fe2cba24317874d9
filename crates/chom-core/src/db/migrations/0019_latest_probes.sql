-- 19: each server's newest probe and newest successful probe, kept by a
-- trigger as probes arrive. Listing 50,000 servers then reads two probes
-- each by id instead of grouping the whole probe history (months of it)
-- twice. Plain ids, not foreign keys: a probe goes only with its server.
ALTER TABLE servers ADD COLUMN latest_probe_id INTEGER;
ALTER TABLE servers ADD COLUMN good_probe_id INTEGER;
UPDATE servers SET
    latest_probe_id = (SELECT max(p.id) FROM probes p WHERE p.server_id = servers.id),
    good_probe_id = (SELECT max(p.id) FROM probes p WHERE p.server_id = servers.id AND p.ok = 1);
CREATE TRIGGER probes_latest AFTER INSERT ON probes BEGIN
    UPDATE servers SET
        latest_probe_id = max(NEW.id, coalesce(latest_probe_id, 0)),
        good_probe_id = CASE WHEN NEW.ok THEN max(NEW.id, coalesce(good_probe_id, 0)) ELSE good_probe_id END
    WHERE id = NEW.server_id;
END;
