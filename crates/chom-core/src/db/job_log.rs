//! The `job_log` table: every line a job showed, written as it ran.
//!
//! Lines are written by one thread with a connection of its own (see
//! `jobs::journal`), so a busy fleet run never holds the cache's mutex and
//! no async worker waits on SQLite.

use crate::ids::JobId;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbError, DbResult};

/// One stored line. `kind`: out, err, step, done or note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LogLine {
    /// Its place in the log (the row id): ask for the lines after it.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub n: i64,
    pub at: DateTime<Utc>,
    pub server: Option<String>,
    pub kind: String,
    pub line: String,
}

/// A line to store, for job `job_id`.
#[derive(Debug, Clone)]
pub struct NewLogLine {
    pub job_id: JobId,
    pub at: DateTime<Utc>,
    pub server: Option<String>,
    pub kind: &'static str,
    pub line: String,
}

/// The journal thread's own connection to the cache.
pub struct LogWriter {
    conn: Connection,
}

impl LogWriter {
    pub fn open(path: &Path) -> DbResult<LogWriter> {
        let open_err = |source| DbError::Open { path: path.to_owned(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        Ok(LogWriter { conn })
    }

    /// Stores `lines` in one transaction: committed, they survive a kill
    /// of this process (WAL); only power loss can take the newest ones.
    pub fn write(&mut self, lines: &[NewLogLine]) -> DbResult<()> {
        let tx = super::write_tx(&mut self.conn)?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO job_log (job_id, at, server, kind, line) VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for l in lines {
                stmt.execute(params![l.job_id, to_ms(l.at), l.server, l.kind, l.line])?;
            }
            // The job's checkpoint: the last step it reached, for what an
            // interrupted job is reconciled against.
            let mut step = tx.prepare_cached("UPDATE jobs SET step = ?2 WHERE id = ?1")?;
            for l in lines.iter().filter(|l| l.kind == "step") {
                step.execute(params![l.job_id, l.line])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records how many lines of a job were not kept (over its bound).
    pub fn dropped(&mut self, job_id: JobId, dropped: u64) -> DbResult<()> {
        self.conn.execute("UPDATE jobs SET log_dropped = ?2 WHERE id = ?1", params![job_id, dropped as i64])?;
        Ok(())
    }
}

impl Db {
    /// A job's log in order, from line `after` (0: the start), at most `limit`
    /// lines; `grep` keeps the lines containing it (case-insensitive for
    /// ASCII, as SQLite's LIKE is).
    pub fn job_log(&self, job_id: JobId, grep: Option<&str>, after: i64, limit: u32) -> DbResult<Vec<LogLine>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, at, server, kind, line FROM job_log WHERE job_id = ?1 AND id > ?2 \
             AND (?3 IS NULL OR instr(lower(line), lower(?3)) > 0) ORDER BY id LIMIT ?4",
        )?;
        let rows = stmt
            .query_map(params![job_id, after, grep, limit], |r| {
                Ok(LogLine {
                    n: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    server: r.get(2)?,
                    kind: r.get(3)?,
                    line: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Lines containing `text` in any job's log, newest first: (job, line).
    pub fn search_logs(&self, text: &str, limit: u32) -> DbResult<Vec<(JobId, LogLine)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT job_id, id, at, server, kind, line FROM job_log WHERE instr(lower(line), lower(?1)) > 0 \
             ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![text, limit], |r| {
                let line = LogLine {
                    n: r.get(1)?,
                    at: from_ms(r.get(2)?),
                    server: r.get(3)?,
                    kind: r.get(4)?,
                    line: r.get(5)?,
                };
                Ok((r.get(0)?, line))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Keeps the logs to about `max_lines` in all, dropping the oldest
    /// jobs' logs first (their rows and results stay). Cheap when under:
    /// the row ids bound the count without scanning.
    pub fn prune_logs(&self, max_lines: i64) -> DbResult<usize> {
        self.blocking(|| {
            let conn = self.conn();
            let (lo, hi): (Option<i64>, Option<i64>) =
                conn.query_row("SELECT min(id), max(id) FROM job_log", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let (Some(lo), Some(hi)) = (lo, hi) else { return Ok(0) };
            if hi - lo < max_lines {
                return Ok(0);
            }
            let cut = hi - max_lines;
            let job: Option<i64> = conn
                .query_row(
                    "SELECT job_id FROM job_log WHERE id = (SELECT max(id) FROM job_log WHERE id <= ?1)",
                    [cut],
                    |r| r.get(0),
                )
                .ok();
            let Some(job) = job else { return Ok(0) };
            // Whole jobs go: a log is never kept with its start missing.
            let gone = conn.execute("DELETE FROM job_log WHERE job_id <= ?1", [job])?;
            Ok(gone)
        })
    }
}
