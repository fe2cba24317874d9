//! The `backup_schedules` table: a site's schedule as installed on its
//! server, what the probes last read of it, and the backups its runs made;
//! and `backup_repos`: which keyring entry holds a server's repository password.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{from_ms, to_ms, BackupMade, Db, DbResult, Drill};
use crate::ids::{ServerId, SiteId};

/// One schedule, as stored.
#[derive(Debug, Clone)]
pub struct ScheduleRecord {
    pub site_id: SiteId,
    pub domain: String,
    pub server: String,
    /// "HH:MM", the server's own time.
    pub at: String,
    /// The retention rules (JSON of `Retention`), when set.
    pub retention: Option<String>,
    pub installed_at: DateTime<Utc>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_ok: Option<bool>,
    pub last_error: String,
    pub cron_running: Option<bool>,
    pub seen_at: Option<DateTime<Utc>>,
    /// ISO weekdays (digits, 1 = Monday) the run also drills its backup.
    pub drill_days: String,
}

/// One run of a schedule, as its status file on the server says.
#[derive(Debug, Clone)]
pub struct ScheduledRun {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub error: String,
    pub made: BackupMade,
    /// The drill of the backup it made, when the run drilled: what it
    /// counted, or why it failed.
    pub drill: Option<std::result::Result<Drill, String>>,
}

const COLUMNS: &str = "b.site_id, s.domain, sv.name, b.at, b.retention, b.installed_at, b.last_run_at, b.last_ok, \
     b.last_error, b.cron_running, b.seen_at, b.drill_days \
     FROM backup_schedules b JOIN sites s ON s.id = b.site_id JOIN servers sv ON sv.id = s.server_id";

fn record(r: &Row<'_>) -> rusqlite::Result<ScheduleRecord> {
    Ok(ScheduleRecord {
        site_id: r.get(0)?,
        domain: r.get(1)?,
        server: r.get(2)?,
        at: r.get(3)?,
        retention: r.get(4)?,
        installed_at: from_ms(r.get(5)?),
        last_run_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
        last_ok: r.get(7)?,
        last_error: r.get(8)?,
        cron_running: r.get(9)?,
        seen_at: r.get::<_, Option<i64>>(10)?.map(from_ms),
        drill_days: r.get(11)?,
    })
}

impl Db {
    pub fn set_schedule(&self, site_id: SiteId, at: &str, retention: Option<&str>, drill_days: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "INSERT INTO backup_schedules (site_id, at, retention, installed_at, drill_days) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (site_id) DO UPDATE SET at = ?2, retention = ?3, installed_at = ?4, drill_days = ?5",
                params![site_id, at, retention, to_ms(Utc::now()), drill_days],
            )?;
            Ok(())
        })
    }

    pub fn delete_schedule(&self, site_id: SiteId) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("DELETE FROM backup_schedules WHERE site_id = ?1", [site_id])?;
            Ok(())
        })
    }

    pub fn schedule(&self, site_id: SiteId) -> DbResult<Option<ScheduleRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} WHERE b.site_id = ?1"))?;
        Ok(stmt.query_row([site_id], record).optional()?)
    }

    /// Every schedule, or those of one server's sites.
    pub fn schedules(&self, server: Option<&str>) -> DbResult<Vec<ScheduleRecord>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} WHERE ?1 IS NULL OR sv.name = ?1 ORDER BY s.domain"))?;
        let rows = stmt.query_map([server], record)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// What a probe saw: cron running or not, and the site's last run; a
    /// run not seen before becomes a backup row (done, or failed with its
    /// error). Returns whether the run was new.
    pub fn record_scheduled_run(
        &self,
        site_id: SiteId,
        cron_running: Option<bool>,
        run: Option<&ScheduledRun>,
    ) -> DbResult<bool> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            let now = to_ms(Utc::now());
            tx.execute(
                "UPDATE backup_schedules SET cron_running = ?2, seen_at = ?3 WHERE site_id = ?1",
                params![site_id, cron_running, now],
            )?;
            let mut new = false;
            if let Some(run) = run {
                let started = to_ms(run.started_at);
                let seen: Option<Option<i64>> = tx
                    .query_row("SELECT last_run_at FROM backup_schedules WHERE site_id = ?1", [site_id], |r| r.get(0))
                    .optional()?;
                new = matches!(seen, Some(last) if last.is_none_or(|l| started > l));
                if new {
                    let m = &run.made;
                    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                    tx.execute(
                        "INSERT INTO backups (site_id, state, release_id, files_snapshot, db_snapshot, files, bytes,
                         added_bytes, db_bytes, db_engine, started_at, finished_at, error, scheduled)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1)",
                        params![
                            site_id,
                            if run.ok { "done" } else { "failed" },
                            Some(m.release.as_str()).filter(|r| !r.is_empty()),
                            Some(m.files_snapshot.as_str()).filter(|s| !s.is_empty()),
                            m.db_snapshot,
                            int(m.files),
                            int(m.bytes),
                            int(m.added_bytes),
                            int(m.db_bytes),
                            m.db_engine,
                            started,
                            to_ms(run.finished_at),
                            run.error,
                        ],
                    )?;
                    let id = tx.last_insert_rowid();
                    let finished = to_ms(run.finished_at);
                    match (&run.drill, run.ok) {
                        (Some(Ok(d)), true) => tx.execute(
                            "UPDATE backups SET drilled_at = ?2, drill_files = ?3, drill_tables = ?4, drill_rows = ?5,
                             drill_ms = ?6 WHERE id = ?1",
                            params![id, finished, d.files, d.tables, int(d.rows), int(d.ms)],
                        )?,
                        (Some(Err(e)), _) => {
                            tx.execute("UPDATE backups SET drill_error = ?2 WHERE id = ?1", params![id, e])?
                        }
                        _ => 0,
                    };
                    tx.execute(
                        "UPDATE backup_schedules SET last_run_at = ?2, last_ok = ?3, last_error = ?4 WHERE site_id = ?1",
                        params![site_id, started, run.ok, run.error],
                    )?;
                }
            }
            tx.commit()?;
            Ok(new)
        })
    }
}

impl Db {
    /// The keyring entry of `server_id`'s repository password, when one was named.
    pub fn backup_repo_account(&self, server_id: ServerId) -> DbResult<Option<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT account FROM backup_repos WHERE server_id = ?1")?;
        Ok(stmt.query_row([server_id], |r| r.get(0)).optional()?)
    }

    pub fn set_backup_repo_account(&self, server_id: ServerId, account: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "INSERT INTO backup_repos (server_id, account) VALUES (?1, ?2)
                 ON CONFLICT (server_id) DO UPDATE SET account = ?2",
                params![server_id, account],
            )?;
            Ok(())
        })
    }
}
