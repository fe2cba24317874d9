//! The inventory as a table shows it (`chom server list`, the app's Fleet
//! table): one row per server with the figures of its latest probe, in one
//! query, without the probes' facts (kernel, uptime, each service's state)
//! that only a server's own page needs. At 50,000 servers a list of full
//! records spent most of its time allocating, and then freeing, what a
//! table never showed.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::probes::used_pct;
use super::servers::{ServerStatus, FILTER};
use super::{from_ms, Db, DbResult, ServerFilter};
use crate::ids::ServerId;

/// A server as a line of the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerRow {
    pub id: ServerId,
    pub name: String,
    pub user: String,
    pub host: String,
    pub port: u16,
    pub group: Option<String>,
    /// Sorted, comma-separated.
    pub tags: String,
    pub status: ServerStatus,
    pub last_seen: Option<DateTime<Utc>>,
    /// When its circuit breaker opened until (CHOM does not dial it before).
    pub open_until: Option<DateTime<Utc>>,
    /// The figures of its latest probe, or of the last good one when the
    /// latest failed (what was last known); `None` when never probed.
    pub load1: Option<f64>,
    pub mem_used_pct: Option<f64>,
    pub disk_used_pct: Option<f64>,
    /// When its latest probe ran.
    pub probed_at: Option<DateTime<Utc>>,
    /// The web services it runs (installed: up or down), sorted and
    /// space-separated; only from `inventory_rows`.
    pub services: String,
}

impl ServerRow {
    /// Whether its breaker is open now.
    pub fn paused(&self) -> bool {
        self.open_until.is_some_and(|u| u > Utc::now())
    }
}

impl Db {
    /// The servers matching `f`, ordered by name.
    pub fn server_rows(&self, f: &ServerFilter) -> DbResult<Vec<ServerRow>> {
        self.rows(f, false)
    }

    /// Every server, with the services each runs (the Fleet table's).
    pub fn inventory_rows(&self) -> DbResult<Vec<ServerRow>> {
        self.rows(&ServerFilter::default(), true)
    }

    fn rows(&self, f: &ServerFilter, services: bool) -> DbResult<Vec<ServerRow>> {
        let conn = self.conn();
        // Each server's tags joined, ordered by server id for a binary search.
        let mut tags: Vec<(i64, String)> = Vec::new();
        let mut stmt = conn.prepare_cached("SELECT server_id, tag FROM server_tags ORDER BY server_id, tag")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, tag): (i64, _) = (r.get(0)?, r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?);
            match tags.last_mut() {
                Some((last, joined)) if *last == id => {
                    joined.push(',');
                    joined.push_str(tag);
                }
                _ => tags.push((id, tag.to_owned())),
            }
        }
        let mut tags_of = |id: i64| match tags.binary_search_by_key(&id, |(i, _)| *i) {
            Ok(i) => std::mem::take(&mut tags[i].1),
            Err(_) => String::new(),
        };
        // The figures come from `f`: the latest probe when it worked,
        // otherwise the last one that did.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT s.id, s.name, s.user, s.host, s.port, s.group_name, s.status, s.last_seen, b.open_until, \
             f.load1, f.mem_total, f.mem_available, f.disk_total, f.disk_free, p.at, \
             CASE WHEN ?4 THEN (SELECT group_concat(key, ' ') FROM (SELECT key FROM json_each(f.services) \
               WHERE value <> 'absent' ORDER BY key)) END \
             FROM servers s LEFT JOIN server_breakers b ON b.server_id = s.id \
             LEFT JOIN probes p ON p.id = s.latest_probe_id \
             LEFT JOIN probes f ON f.ok AND f.id = CASE WHEN p.ok THEN p.id ELSE s.good_probe_id END \
             WHERE {FILTER} ORDER BY s.name"
        ))?;
        let (tag, group) = (f.tag.as_ref().map(|t| t.as_str()), f.group.as_ref().map(|g| g.as_str()));
        let mut rows = stmt.query(params![tag, group, f.search.as_deref(), services])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let text = |i| -> rusqlite::Result<String> { Ok(r.get_ref(i)?.as_str()?.to_owned()) };
            let figure = |i| r.get::<_, Option<i64>>(i).map(|v| v.and_then(|v| u64::try_from(v).ok()));
            let (mem_total, mem_available, disk_total, disk_free) =
                (figure(10)?, figure(11)?, figure(12)?, figure(13)?);
            out.push(ServerRow {
                id: r.get(0)?,
                name: text(1)?,
                user: text(2)?,
                host: text(3)?,
                port: u16::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                group: r.get(5)?,
                tags: tags_of(r.get(0)?),
                status: ServerStatus::parse(r.get_ref(6)?.as_str().map_err(rusqlite::Error::from)?),
                last_seen: r.get::<_, Option<i64>>(7)?.map(from_ms),
                open_until: r.get::<_, Option<i64>>(8)?.map(from_ms),
                load1: r.get(9)?,
                mem_used_pct: mem_total.zip(mem_available).and_then(|(t, a)| used_pct(t.saturating_sub(a), t)),
                disk_used_pct: disk_total.zip(disk_free).and_then(|(t, free)| used_pct(t.saturating_sub(free), t)),
                probed_at: r.get::<_, Option<i64>>(14)?.map(from_ms),
                services: r.get::<_, Option<String>>(15)?.unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ListedServer;
    use crate::validate::{GroupName, Tag};

    const SERVICES: &str = r#"{"nginx":"up","mariadb":"absent","php-fpm":"down"}"#;

    fn probe(db: &Db, server: i64, ok: bool, (mem_total, mem_available, disk_free): (i64, i64, i64), load: f64) {
        db.conn()
            .execute(
                "INSERT INTO probes (server_id, at, ok, duration_ms, hostname, os, kernel, uptime_s, load1, load5, load15, \
                 cpus, mem_total, mem_available, swap_total, swap_free, disk_total, disk_free, services) \
                 VALUES (?1, 1, ?2, 5, 'h', 'os', 'k', 1, ?3, 0.5, 0.5, 1, ?4, ?5, 0, 0, 100, ?6, ?7)",
                params![server, ok, load, mem_total, mem_available, disk_free, SERVICES],
            )
            .unwrap();
    }

    /// The rows agree with the full listing under every filter: the same
    /// servers in the same order, tags, status, and the figures of the
    /// latest probe or, after a failed one, of the last that worked.
    #[test]
    fn rows_match_the_full_listing() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.sqlite3")).unwrap();
        db.conn()
            .execute_batch(
                "INSERT INTO servers (name, host, port, user, group_name, status, created_at, updated_at) VALUES \
                 ('b', 'h2', 2222, 'u', 'g1', 'down', 1, 1), ('a', 'h1', 22, 'root', NULL, 'up', 1, 1), \
                 ('c', 'x3', 22, 'u', 'g1', 'unknown', 1, 1); \
                 INSERT INTO server_tags (server_id, tag) VALUES (1, 'web'), (1, 'db'), (3, 'web'); \
                 INSERT INTO server_breakers (server_id, failures, open_until, updated_at) VALUES (3, 4, 99999999999999, 1)",
            )
            .unwrap();
        probe(&db, 1, true, (100, 50, 10), 0.5);
        probe(&db, 1, false, (0, 0, 0), 0.0);
        probe(&db, 2, true, (200, 150, 90), 1.25);
        let filters = [
            ServerFilter::default(),
            ServerFilter { tag: Some(Tag::parse("web").unwrap()), ..Default::default() },
            ServerFilter { group: Some(GroupName::parse("g1").unwrap()), ..Default::default() },
            ServerFilter { search: Some("H".into()), ..Default::default() },
        ];
        for f in &filters {
            let rows = db.server_rows(f).unwrap();
            let full = db.list_servers_with_probes(f, true).unwrap();
            let names = |v: Vec<&str>| v.join(" ");
            assert_eq!(
                names(rows.iter().map(|r| r.name.as_str()).collect()),
                names(full.iter().map(|l| l.server.name.as_str()).collect()),
                "{f:?}"
            );
            for (r, l) in rows.iter().zip(&full) {
                let good = l.latest.as_ref().filter(|p| p.ok).or(l.last_good.as_ref());
                let facts = good.and_then(|p| p.facts.as_ref());
                let tags: Vec<&str> = l.server.tags.iter().map(|t| t.as_str()).collect();
                assert_eq!(r.tags, tags.join(","));
                assert_eq!(
                    (r.status, r.host.as_str(), r.port),
                    (l.server.status, l.server.host.as_str(), l.server.port.get())
                );
                assert_eq!(r.load1, facts.map(|f| f.load[0]));
                assert_eq!(r.mem_used_pct, facts.and_then(|f| f.mem_used_pct()));
                assert_eq!(r.disk_used_pct, facts.and_then(|f| f.disk_used_pct()));
            }
        }
        let all = db.server_rows(&ServerFilter::default()).unwrap();
        // b failed after a good probe: its figures are the good one's.
        assert_eq!((all[1].name.as_str(), all[1].mem_used_pct, all[1].disk_used_pct), ("b", Some(50.0), Some(90.0)));
        assert_eq!((all[1].tags.as_str(), all[1].group.as_deref()), ("db,web", Some("g1")));
        assert_eq!((all[0].mem_used_pct, all[0].load1), (Some(25.0), Some(1.25)));
        assert_eq!((all[2].load1, all[2].paused(), all[0].paused()), (None, true, false));
        assert!(all.iter().all(|r| r.services.is_empty()), "the CLI's rows skip the services");
        let inventory = db.inventory_rows().unwrap();
        let services: Vec<&str> = inventory.iter().map(|r| r.services.as_str()).collect();
        assert_eq!(services, ["nginx php-fpm", "nginx php-fpm", ""]);

        // A page's rows in full, by id, in the order asked; a gone id is skipped.
        let full = db.list_servers_with_probes(&ServerFilter::default(), true).unwrap();
        let by_id = db.listed_servers_by_id(&[ServerId(3), ServerId(1), ServerId(99), ServerId(2)]).unwrap();
        let names: Vec<&str> = by_id.iter().map(|l| l.server.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        for l in &by_id {
            let f = full.iter().find(|f| f.server.id == l.server.id).unwrap();
            assert_eq!((&l.server.tags, l.server.port), (&f.server.tags, f.server.port));
            let probes = |l: &ListedServer| (l.latest.as_ref().map(|p| p.ok), l.last_good.as_ref().map(|p| p.at));
            assert_eq!(probes(l), probes(f));
        }
    }
}
