//! Jobs and the audit log as the operator reads them: the history, a
//! job's results and stored log, searches, and a job's state now.

use crate::db::{AuditEntry, AuditFilter, JobRecord, JobResultRecord, JobState, LogLine};
use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::remedy::{Listing, Remedy};

use super::Jobs;

impl Jobs<'_> {
    /// Watches every job this process runs (app-wide views): `observer`
    /// gets each event, with its job's id, once the job's log holds it.
    pub fn observe_jobs(&self, observer: crate::jobs::Observer) {
        self.journal.observe(observer);
    }

    pub fn list(&self, limit: u32) -> Result<Vec<JobRecord>> {
        Ok(self.db.list_jobs(limit)?)
    }

    pub fn job(&self, id: JobId) -> Result<(JobRecord, Vec<JobResultRecord>)> {
        let job = self.db.job(id)?.ok_or_else(|| Error::NotFound {
            what: "job",
            name: id.to_string(),
            remedy: Remedy::List { what: Listing::Jobs },
        })?;
        Ok((job, self.db.job_results(id)?))
    }

    /// A job's log from line `after` (0: the start), at most `limit` lines.
    pub fn job_log(&self, id: JobId, grep: Option<&str>, after: i64, limit: u32) -> Result<Vec<LogLine>> {
        Ok(self.db.job_log(id, grep, after, limit)?)
    }

    /// Lines containing `text` in every job's log, newest first.
    pub fn search_logs(&self, text: &str, limit: u32) -> Result<Vec<(JobId, LogLine)>> {
        Ok(self.db.search_logs(text, limit)?)
    }

    /// Job `id`'s state now: a job whose process has died since is marked
    /// interrupted first (a follower of another process's job stops then).
    pub fn job_state(&self, id: JobId) -> Result<JobState> {
        self.db.mark_interrupted_jobs()?;
        Ok(self.job(id)?.0.state)
    }

    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        Ok(self.db.list_audit(filter)?)
    }
}
