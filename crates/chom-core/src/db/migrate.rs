//! Versioned, append-only migrations. `PRAGMA user_version` is the version.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use super::{DbError, DbResult};

/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("migrations/0001_init.sql")),
    M::up(include_str!("migrations/0002_sites.sql")),
    M::up(include_str!("migrations/0003_dashboard_updates.sql")),
    M::up(include_str!("migrations/0004_breakers.sql")),
    M::up(include_str!("migrations/0005_job_process_start.sql")),
    M::up(include_str!("migrations/0006_job_log_leases.sql")),
    M::up(include_str!("migrations/0007_job_input.sql")),
    M::up(include_str!("migrations/0008_backups.sql")),
    M::up(include_str!("migrations/0009_backup_drills.sql")),
    M::up(include_str!("migrations/0010_backup_schedules.sql")),
    M::up(include_str!("migrations/0011_backup_repos.sql")),
    M::up(include_str!("migrations/0012_backup_damage.sql")),
    M::up(include_str!("migrations/0013_schedule_drills.sql")),
    M::up(include_str!("migrations/0014_revoked_host_keys.sql")),
    M::up(include_str!("migrations/0015_jump_hosts.sql")),
    M::up(include_str!("migrations/0016_agent_keys.sql")),
    M::up(include_str!("migrations/0017_key_rotations.sql")),
    M::up(include_str!("migrations/0018_more_host_keys.sql")),
    M::up(include_str!("migrations/0019_latest_probes.sql")),
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// Refuses a database from a newer CHOM before any pragma or migration
/// touches the file.
pub(super) fn refuse_newer(conn: &Connection, path: &Path) -> DbResult<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > LATEST_VERSION {
        return Err(DbError::TooNew { path: path.to_owned(), found, supported: LATEST_VERSION });
    }
    Ok(())
}

pub(super) fn to_latest(conn: &mut Connection, path: &Path) -> DbResult<()> {
    migrations().to_latest(conn).map_err(|source| DbError::Migrate { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
    }

    /// Every earlier version (0 = a new empty file) upgrades to the latest,
    /// keeping the rows written at that version.
    #[test]
    fn every_earlier_version_upgrades() {
        for from in 0..=LATEST_VERSION as usize {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c.sqlite3");
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, from).unwrap();
            if from >= 1 {
                conn.execute(
                    "INSERT INTO servers (name, host, port, user, created_at, updated_at) VALUES ('old', 'h', 22, 'u', 1, 1)",
                    [],
                )
                .unwrap();
            }
            drop(conn);
            let db = super::super::Db::open(&path).unwrap();
            let version: i64 = db.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
            assert_eq!(version, LATEST_VERSION, "from version {from}");
            let kept: i64 = db.conn().query_row("SELECT count(*) FROM servers", [], |r| r.get(0)).unwrap();
            assert_eq!(kept, i64::from(from >= 1), "from version {from}");
        }
    }

    /// Migration 19 points each server at its newest probe and newest good
    /// one, from the history already there, and its trigger keeps them.
    #[test]
    fn latest_probe_pointers_are_backfilled_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        let mut conn = Connection::open(&path).unwrap();
        migrations().to_version(&mut conn, 18).unwrap();
        let probe = |conn: &Connection, server: i64, ok: bool| {
            conn.execute(
                "INSERT INTO probes (server_id, at, ok, duration_ms, hostname, os, kernel, uptime_s, load1, load5, load15, \
                 cpus, mem_total, mem_available, swap_total, swap_free, disk_total, disk_free, services) \
                 VALUES (?1, 1, ?2, 5, 'h', 'os', 'k', 1, 0.5, 0.5, 0.5, 1, 100, 50, 0, 0, 100, 10, '{}')",
                rusqlite::params![server, ok],
            )
            .unwrap();
            conn.last_insert_rowid()
        };
        conn.execute_batch(
            "INSERT INTO servers (name, host, port, user, created_at, updated_at) VALUES ('a', 'h', 22, 'u', 1, 1), \
             ('b', 'h', 22, 'u', 1, 1), ('c', 'h', 22, 'u', 1, 1)",
        )
        .unwrap();
        probe(&conn, 1, true);
        let a_good = probe(&conn, 1, true);
        probe(&conn, 1, false);
        probe(&conn, 2, false);
        drop(conn);
        let db = super::super::Db::open(&path).unwrap();
        let listed = |db: &super::super::Db| {
            let all = db.list_servers_with_probes(&Default::default(), true).unwrap();
            all.into_iter()
                .map(|l| (l.latest.map(|p| p.ok), l.last_good.map(|p| (p.ok, p.facts.is_some()))))
                .collect::<Vec<_>>()
        };
        // a: failed after good ones; b: never good; c: never probed.
        assert_eq!(listed(&db), [(Some(false), Some((true, true))), (Some(false), None), (None, None)]);
        let a_pointers: (i64, i64) = db
            .conn()
            .query_row("SELECT latest_probe_id, good_probe_id FROM servers WHERE name = 'a'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(a_pointers.1, a_good);
        assert!(a_pointers.0 > a_good);
        // New probes move the pointers: a answers again, c fails.
        probe(&db.conn(), 1, true);
        probe(&db.conn(), 3, false);
        assert_eq!(listed(&db), [(Some(true), None), (Some(false), None), (Some(false), None)]);
    }

    #[test]
    fn a_newer_database_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = super::super::Db::open(&path).err().expect("newer database must be refused");
        assert!(matches!(err, DbError::TooNew { found: 99, .. }), "{err}");
        assert!(err.to_string().contains("newer CHOM"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "file changed");
        assert!(!dir.path().join("c.sqlite3-wal").exists());
    }
}
