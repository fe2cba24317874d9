//! The `backups` table: what each backup of a site holds and whether its
//! repository was read back whole since.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbResult};
use crate::ids::{BackupId, JobId, ServerId, SiteId};

/// running: being made; done: both snapshots made; failed: not usable
/// (never restored from); interrupted: its job's process died; forgotten:
/// removed by retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BackupState {
    Running,
    Done,
    Failed,
    Interrupted,
    /// Removed from the repository by a retention plan.
    Forgotten,
}

impl BackupState {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupState::Running => "running",
            BackupState::Done => "done",
            BackupState::Failed => "failed",
            BackupState::Interrupted => "interrupted",
            BackupState::Forgotten => "forgotten",
        }
    }
}

/// One backup, as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackupRecord {
    pub id: BackupId,
    pub domain: String,
    pub server: String,
    pub job_id: Option<JobId>,
    pub state: BackupState,
    /// The release it holds.
    pub release: Option<String>,
    /// restic's snapshot ids on the server.
    pub files_snapshot: Option<String>,
    pub db_snapshot: Option<String>,
    pub files: u32,
    /// Bytes of files read, bytes new to the repository, bytes of the dump.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub bytes: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub added_bytes: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub db_bytes: u64,
    /// The database server's version, as it answered (MariaDB's).
    pub db_engine: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// When `restic check` last read its repository back whole after it
    /// was made; a backup is good only once this is set.
    pub verified_at: Option<DateTime<Utc>>,
    pub error: String,
    /// Made whole and read back since: the only kind CHOM calls good.
    pub good: bool,
    /// When a drill last restored it whole (files and dump) on its server.
    pub drilled_at: Option<DateTime<Utc>>,
    pub drill: Option<Drill>,
    /// Why the last drill failed; empty when none did.
    pub drill_error: String,
    /// Made by the server's own schedule (cron), read in by a probe.
    pub scheduled: bool,
    /// What the last check of its repository found wrong with its data;
    /// empty when nothing.
    pub damage: String,
}

/// What the last drill that passed restored and counted.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Drill {
    pub files: u32,
    pub tables: u32,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub rows: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub ms: u64,
}

/// What a finished backup made.
#[derive(Debug, Clone, Default)]
pub struct BackupMade {
    pub release: String,
    pub files_snapshot: String,
    pub db_snapshot: Option<String>,
    pub files: u64,
    pub bytes: u64,
    pub added_bytes: u64,
    pub db_bytes: u64,
    pub db_engine: Option<String>,
}

const COLUMNS: &str = "b.id, s.domain, sv.name, b.job_id, b.state, j.state, b.release_id, b.files_snapshot, \
     b.db_snapshot, b.files, b.bytes, b.added_bytes, b.db_bytes, b.db_engine, b.started_at, b.finished_at, \
     b.verified_at, b.error, b.drilled_at, b.drill_files, b.drill_tables, b.drill_rows, b.drill_ms, b.drill_error, \
     b.scheduled, b.damage";
const FROM: &str = "FROM backups b JOIN sites s ON s.id = b.site_id JOIN servers sv ON sv.id = s.server_id
     LEFT JOIN jobs j ON j.id = b.job_id";

fn record(r: &Row<'_>) -> rusqlite::Result<BackupRecord> {
    let job_state: Option<String> = r.get(5)?;
    let state = match r.get::<_, String>(4)?.as_str() {
        "done" => BackupState::Done,
        "failed" => BackupState::Failed,
        "forgotten" => BackupState::Forgotten,
        // Running only while its job does: a job a dead process left says
        // interrupted (see `mark_interrupted_jobs`).
        "running" if job_state.as_deref() == Some("running") => BackupState::Running,
        _ => BackupState::Interrupted,
    };
    let n = |i| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
    let verified_at = r.get::<_, Option<i64>>(16)?.map(from_ms);
    let drilled_at = r.get::<_, Option<i64>>(18)?.map(from_ms);
    let drill = match drilled_at {
        Some(_) => Some(Drill {
            files: u32::try_from(n(19)?).unwrap_or(u32::MAX),
            tables: u32::try_from(n(20)?).unwrap_or(u32::MAX),
            rows: n(21)?,
            ms: n(22)?,
        }),
        None => None,
    };
    Ok(BackupRecord {
        drilled_at,
        drill,
        drill_error: r.get(23)?,
        scheduled: r.get(24)?,
        damage: r.get(25)?,
        good: state == BackupState::Done && verified_at.is_some(),
        id: r.get(0)?,
        domain: r.get(1)?,
        server: r.get(2)?,
        job_id: r.get(3)?,
        state,
        release: r.get(6)?,
        files_snapshot: r.get(7)?,
        db_snapshot: r.get(8)?,
        files: u32::try_from(n(9)?).unwrap_or(u32::MAX),
        bytes: n(10)?,
        added_bytes: n(11)?,
        db_bytes: n(12)?,
        db_engine: r.get(13)?,
        started_at: from_ms(r.get(14)?),
        finished_at: r.get::<_, Option<i64>>(15)?.map(from_ms),
        verified_at,
        error: r.get(17)?,
    })
}

impl Db {
    pub fn insert_backup(&self, site_id: SiteId, job_id: JobId) -> DbResult<BackupId> {
        self.blocking(|| {
            let conn = self.conn();
            conn.execute(
                "INSERT INTO backups (site_id, job_id, state, started_at) VALUES (?1, ?2, 'running', ?3)",
                params![site_id, job_id, to_ms(Utc::now())],
            )?;
            Ok(BackupId(conn.last_insert_rowid()))
        })
    }

    pub fn finish_backup(&self, id: BackupId, made: &BackupMade) -> DbResult<()> {
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.blocking(|| {
            self.conn().execute(
                "UPDATE backups SET state = 'done', release_id = ?2, files_snapshot = ?3, db_snapshot = ?4, files = ?5,
                 bytes = ?6, added_bytes = ?7, db_bytes = ?8, db_engine = ?9, finished_at = ?10 WHERE id = ?1",
                params![
                    id,
                    made.release,
                    made.files_snapshot,
                    made.db_snapshot,
                    int(made.files),
                    int(made.bytes),
                    int(made.added_bytes),
                    int(made.db_bytes),
                    made.db_engine,
                    to_ms(Utc::now())
                ],
            )?;
            Ok(())
        })
    }

    pub fn fail_backup(&self, id: BackupId, error: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE backups SET state = 'failed', error = ?2, finished_at = ?3 WHERE id = ?1",
                params![id, error, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Marks the finished backups of `server_id` made before `checked`
    /// (when the check started) as read back whole at that time. A damaged
    /// one only when the check read `whole` the repository, which clears
    /// its damage.
    pub fn mark_backups_verified(&self, server_id: ServerId, checked: DateTime<Utc>, whole: bool) -> DbResult<usize> {
        self.blocking(|| {
            Ok(self.conn().execute(
                "UPDATE backups SET verified_at = ?2, damage = '' WHERE state = 'done' AND finished_at <= ?2
                 AND (damage = '' OR ?3) AND site_id IN (SELECT id FROM sites WHERE server_id = ?1)",
                params![server_id, to_ms(checked), whole],
            )?)
        })
    }

    /// The backups of `server_id` with data in `snapshots` are damaged
    /// (`what` says how): no longer good. Returns them, oldest first.
    pub fn mark_backups_damaged(&self, server_id: ServerId, snapshots: &[&str], what: &str) -> DbResult<Vec<BackupId>> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            let mut ids = Vec::new();
            {
                let mut find = tx.prepare(
                    // restic's summary names a snapshot by a prefix of its id.
                    "SELECT id FROM backups
                     WHERE ((length(files_snapshot) >= 8 AND files_snapshot = substr(?2, 1, length(files_snapshot)))
                       OR (length(db_snapshot) >= 8 AND db_snapshot = substr(?2, 1, length(db_snapshot))))
                     AND site_id IN (SELECT id FROM sites WHERE server_id = ?1)",
                )?;
                for snapshot in snapshots {
                    for id in find.query_map(params![server_id, snapshot], |r| r.get::<_, BackupId>(0))? {
                        ids.push(id?);
                    }
                }
            }
            ids.sort();
            ids.dedup();
            for id in &ids {
                tx.execute("UPDATE backups SET verified_at = NULL, damage = ?2 WHERE id = ?1", params![id, what])?;
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Clears what an earlier check said of `server_id`'s backups: a check
    /// that found damage leaves none of them good.
    pub fn unmark_backups_verified(&self, server_id: ServerId) -> DbResult<usize> {
        self.blocking(|| {
            Ok(self.conn().execute(
                "UPDATE backups SET verified_at = NULL WHERE site_id IN (SELECT id FROM sites WHERE server_id = ?1)",
                [server_id],
            )?)
        })
    }

    pub fn finish_drill(&self, id: BackupId, drill: &Drill) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE backups SET drilled_at = ?2, drill_files = ?3, drill_tables = ?4, drill_rows = ?5, drill_ms = ?6,
                 drill_error = '' WHERE id = ?1",
                params![
                    id,
                    to_ms(Utc::now()),
                    drill.files,
                    drill.tables,
                    i64::try_from(drill.rows).unwrap_or(i64::MAX),
                    i64::try_from(drill.ms).unwrap_or(i64::MAX)
                ],
            )?;
            Ok(())
        })
    }

    /// A drill that failed: the backup is no longer restore-tested.
    pub fn fail_drill(&self, id: BackupId, error: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn()
                .execute("UPDATE backups SET drilled_at = NULL, drill_error = ?2 WHERE id = ?1", params![id, error])?;
            Ok(())
        })
    }

    /// The site's newest backup whose last drill passed.
    pub fn newest_restore_tested(&self, site_id: SiteId) -> DbResult<Option<BackupId>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM backups WHERE site_id = ?1 AND state = 'done' AND drilled_at IS NOT NULL
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )?;
        Ok(stmt.query_row([site_id], |r| r.get(0)).optional()?)
    }

    /// Backups `ids` of the site are gone from the repository.
    pub fn forget_backups(&self, site_id: SiteId, ids: &[BackupId]) -> DbResult<usize> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            let mut n = 0;
            for id in ids {
                n += tx.execute(
                    "UPDATE backups SET state = 'forgotten' WHERE site_id = ?1 AND id = ?2",
                    params![site_id, id],
                )?;
            }
            tx.commit()?;
            Ok(n)
        })
    }

    pub fn backup(&self, id: BackupId) -> DbResult<Option<BackupRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} {FROM} WHERE b.id = ?1"))?;
        Ok(stmt.query_row([id], record).optional()?)
    }

    /// Backups, newest first: of one site, or of all.
    pub fn backups(&self, site_id: Option<SiteId>, limit: u32) -> DbResult<Vec<BackupRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} {FROM} WHERE ?1 IS NULL OR b.site_id = ?1 ORDER BY b.started_at DESC, b.id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![site_id, limit], record)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check's damage hits the backups whose snapshots restic named (by
    /// their full ids; the rows keep restic's short ones), never a backup
    /// without a database snapshot through its empty id; only a check of
    /// all the data makes a damaged backup good again.
    #[test]
    fn damage_is_marked_by_snapshot_and_cleared_only_by_a_whole_check() {
        let dir = tempfile::tempdir().unwrap();
        let (db, site) = super::super::test_site(&dir.path().join("c.sqlite3"));
        let job = db.insert_job("backup", "", "op", 1, None).unwrap();
        let made = |files: &str, db_snapshot: Option<&str>| BackupMade {
            release: "r1".into(),
            files_snapshot: files.into(),
            db_snapshot: db_snapshot.map(str::to_owned),
            ..BackupMade::default()
        };
        let a = db.insert_backup(site, job).unwrap();
        db.finish_backup(a, &made("aaaa1111", Some("dddd2222"))).unwrap();
        let b = db.insert_backup(site, job).unwrap();
        db.finish_backup(b, &made("bbbb3333", Some(""))).unwrap();
        let checked = Utc::now() + chrono::Duration::seconds(1);
        assert_eq!(db.mark_backups_verified(ServerId(1), checked, false).unwrap(), 2);

        let full = format!("dddd2222{}", "0".repeat(56));
        let hit = db.mark_backups_damaged(ServerId(1), &[full.as_str()], "Pack ID does not match").unwrap();
        assert_eq!(hit, vec![a], "only the backup whose dump snapshot was named");
        let (ra, rb) = (db.backup(a).unwrap().unwrap(), db.backup(b).unwrap().unwrap());
        assert!(!ra.good && ra.damage.contains("Pack ID") && rb.good && rb.damage.is_empty());

        db.mark_backups_verified(ServerId(1), checked, false).unwrap();
        assert!(!db.backup(a).unwrap().unwrap().good, "a partial check does not clear damage");
        db.mark_backups_verified(ServerId(1), checked, true).unwrap();
        let ra = db.backup(a).unwrap().unwrap();
        assert!(ra.good && ra.damage.is_empty(), "a check of all the data does");
    }

    /// The CI failure this guards against: `backup check` said "database is
    /// locked" because the journal thread committed while the check's
    /// deferred transaction sat between its read and its write.
    #[test]
    fn a_read_then_write_waits_for_another_connection_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite3");
        let (db, site) = super::super::test_site(&path);
        let job = db.insert_job("backup", "", "op", 1, None).unwrap();
        let a = db.insert_backup(site, job).unwrap();
        let made = BackupMade { files_snapshot: "aaaa1111".into(), ..BackupMade::default() };
        db.finish_backup(a, &made).unwrap();

        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; UPDATE servers SET name = name || '' WHERE id = 1;").unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            other.execute_batch("COMMIT").unwrap();
        });
        let full = format!("aaaa1111{}", "0".repeat(56));
        let hit = db.mark_backups_damaged(ServerId(1), &[full.as_str()], "Pack ID does not match");
        writer.join().unwrap();
        assert_eq!(hit.unwrap(), vec![a]);
    }
}
