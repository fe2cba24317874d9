//! The `jobs` and `job_results` tables.

use crate::ids::{JobId, ServerId};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::{from_ms, to_ms, Db, DbResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Succeeded,
    /// Finished, with at least one server failing.
    Failed,
    Cancelled,
    /// Was running when the process died.
    Interrupted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => JobState::Interrupted,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub detail: String,
    pub state: JobState,
    pub os_user: String,
    pub total: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The site or server a single-target job works on.
    pub target: Option<String>,
    /// The last step it reached.
    pub step: Option<String>,
    /// After an interruption: what its server said it was left with.
    pub reconciled: Option<String>,
    /// Log lines over the job's bound, not kept.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub log_dropped: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobResultRecord {
    pub server: String,
    pub ok: bool,
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub exit_status: Option<i64>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub duration_ms: u64,
}

fn row_to_job(r: &Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        detail: r.get(2)?,
        state: JobState::parse(&r.get::<_, String>(3)?),
        os_user: r.get(4)?,
        total: r.get(5)?,
        succeeded: r.get(6)?,
        failed: r.get(7)?,
        started_at: from_ms(r.get(8)?),
        finished_at: r.get::<_, Option<i64>>(9)?.map(from_ms),
        target: r.get(10)?,
        step: r.get(11)?,
        reconciled: r.get(12)?,
        log_dropped: r.get::<_, i64>(13)? as u64,
    })
}

const SELECT: &str = "SELECT id, kind, detail, state, os_user, total, succeeded, failed, started_at, finished_at, \
     target, step, reconciled, log_dropped FROM jobs";

impl Db {
    pub fn insert_job(
        &self,
        kind: &str,
        detail: &str,
        os_user: &str,
        total: u32,
        target: Option<&str>,
    ) -> DbResult<JobId> {
        self.blocking(|| {
            let me = crate::process::current();
            let conn = self.conn();
            conn.execute(
                "INSERT INTO jobs (kind, detail, state, os_user, pid, pid_started, total, started_at, target) \
                 VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    kind,
                    detail,
                    os_user,
                    me.pid,
                    i64::try_from(me.started).unwrap_or(0),
                    total,
                    to_ms(Utc::now()),
                    target
                ],
            )?;
            Ok(JobId(conn.last_insert_rowid()))
        })
    }

    /// Removes a job that never started (its lease was taken).
    pub fn delete_job(&self, job_id: JobId) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("DELETE FROM jobs WHERE id = ?1", [job_id])?;
            Ok(())
        })
    }

    /// What the job was asked to do, for running it again (JSON).
    pub fn set_job_input(&self, job_id: JobId, input: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute("UPDATE jobs SET input = ?2 WHERE id = ?1", params![job_id, input])?;
            Ok(())
        })
    }

    pub fn job_input(&self, job_id: JobId) -> DbResult<Option<String>> {
        Ok(self.conn().query_row("SELECT input FROM jobs WHERE id = ?1", [job_id], |r| r.get(0)).optional()?.flatten())
    }

    /// Records what an interrupted job's server said it was left with.
    pub fn set_reconciled(&self, job_id: JobId, what: &str) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE jobs SET reconciled = ?2, reconciled_at = ?3 WHERE id = ?1",
                params![job_id, what, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Interrupted single-target jobs not reconciled with their server yet,
    /// oldest first.
    pub fn unreconciled_jobs(&self) -> DbResult<Vec<JobRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE state = 'interrupted' AND reconciled IS NULL AND target IS NOT NULL ORDER BY id"
        ))?;
        let jobs = stmt.query_map([], row_to_job)?.collect::<Result<_, _>>()?;
        Ok(jobs)
    }

    /// A job's results, one per server, in one transaction (a fleet-wide
    /// job writes thousands at once).
    pub fn insert_job_results(&self, job_id: JobId, rows: &[(Option<ServerId>, JobResultRecord)]) -> DbResult<()> {
        self.blocking(|| {
            let mut conn = self.conn();
            let tx = super::write_tx(&mut conn)?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR REPLACE INTO job_results (job_id, server_name, server_id, ok, exit_status, stdout, \
                     stderr, error_code, error, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?;
                for (server_id, r) in rows {
                    insert.execute(params![
                        job_id,
                        r.server,
                        server_id,
                        r.ok,
                        r.exit_status,
                        r.stdout,
                        r.stderr,
                        r.error_code,
                        r.error,
                        r.duration_ms as i64
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub fn finish_job(&self, job_id: JobId, state: JobState, succeeded: u32, failed: u32) -> DbResult<()> {
        self.blocking(|| {
            self.conn().execute(
                "UPDATE jobs SET state = ?2, succeeded = ?3, failed = ?4, finished_at = ?5 WHERE id = ?1",
                params![job_id, state.as_str(), succeeded, failed, to_ms(Utc::now())],
            )?;
            Ok(())
        })
    }

    /// Marks jobs left `running` by a CHOM process that no longer exists as
    /// interrupted (another CHOM process may be running jobs right now).
    pub fn mark_interrupted_jobs(&self) -> DbResult<usize> {
        self.blocking(|| {
            let conn = self.conn();
            let owners: Vec<(i64, Option<i64>)> = conn
                .prepare("SELECT DISTINCT pid, pid_started FROM jobs WHERE state = 'running'")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut marked = 0;
            for (pid, started) in owners {
                let stamp = crate::process::ProcessStamp {
                    pid: u32::try_from(pid).unwrap_or(0),
                    started: started.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
                };
                if crate::process::alive(stamp) {
                    continue;
                }
                marked += conn.execute(
                    "UPDATE jobs SET state = 'interrupted', finished_at = ?3
                     WHERE state = 'running' AND pid = ?1 AND pid_started IS ?2",
                    params![pid, started, to_ms(Utc::now())],
                )?;
            }
            if marked > 0 {
                // A deploy of such a job ended with it; the server's `current`
                // link says which release serves (`chom site releases` reads it).
                conn.execute(
                    "UPDATE deploys SET state = 'interrupted', finished_at = ?1,
                         message = 'CHOM stopped before this finished; the server kept the release it was serving'
                     WHERE state = 'running' AND job_id IN (SELECT id FROM jobs WHERE state = 'interrupted')",
                    params![to_ms(Utc::now())],
                )?;
            }
            Ok(marked)
        })
    }

    pub fn list_jobs(&self, limit: u32) -> DbResult<Vec<JobRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY id DESC LIMIT ?1"))?;
        let jobs = stmt.query_map([limit], row_to_job)?.collect::<Result<_, _>>()?;
        Ok(jobs)
    }

    /// The newest jobs that touched a server, newest first.
    pub fn jobs_for_server(&self, server: &str, limit: u32) -> DbResult<Vec<JobRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT} WHERE id IN (SELECT job_id FROM job_results WHERE server_name = ?1) ORDER BY id DESC LIMIT ?2"
        ))?;
        let jobs = stmt.query_map(params![server, limit], row_to_job)?.collect::<Result<_, _>>()?;
        Ok(jobs)
    }

    pub fn job(&self, id: JobId) -> DbResult<Option<JobRecord>> {
        Ok(self.conn().query_row(&format!("{SELECT} WHERE id = ?1"), [id], row_to_job).optional()?)
    }

    pub fn job_results(&self, job_id: JobId) -> DbResult<Vec<JobResultRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT server_name, ok, exit_status, stdout, stderr, error_code, error, duration_ms FROM job_results \
             WHERE job_id = ?1 ORDER BY server_name",
        )?;
        let rows = stmt
            .query_map([job_id], |r| {
                Ok(JobResultRecord {
                    server: r.get(0)?,
                    ok: r.get(1)?,
                    exit_status: r.get(2)?,
                    stdout: r.get(3)?,
                    stderr: r.get(4)?,
                    error_code: r.get(5)?,
                    error: r.get(6)?,
                    duration_ms: r.get::<_, i64>(7)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// Whether a process with this id runs. Off Linux the answer is "no" for any
/// other process, so a crashed job is never left `running` forever.
#[cfg(test)]
mod tests {
    use super::*;

    /// A job left running by a process that died is shown as interrupted
    /// when CHOM opens again; one of a live process is left alone.
    #[test]
    fn jobs_of_dead_processes_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("c.sqlite3")).unwrap();
        let crashed = db.insert_job("probe", "", "op", 3, None).unwrap();
        let alive = db.insert_job("run", "uptime", "op", 1, None).unwrap();
        // PID 0 is never a user process: stands for the process that died.
        db.conn().execute("UPDATE jobs SET pid = 0 WHERE id = ?1", [crashed]).unwrap();
        // This PID, but started an hour before this process: it was reused.
        let reused = db.insert_job("deploy", "", "op", 1, Some("a.test")).unwrap();
        db.conn().execute("UPDATE jobs SET pid_started = pid_started - 3600 WHERE id = ?1", [reused]).unwrap();
        assert_eq!(db.mark_interrupted_jobs().unwrap(), 2);
        assert_eq!(db.job(crashed).unwrap().unwrap().state, JobState::Interrupted);
        assert_eq!(db.job(reused).unwrap().unwrap().state, JobState::Interrupted);
        assert!(db.job(crashed).unwrap().unwrap().finished_at.is_some());
        assert_eq!(db.job(alive).unwrap().unwrap().state, JobState::Running);
    }
}
