//! `Chom`: the one entry point the app and the CLI use. It owns the cache,
//! the keyring store and the SSH pool, and writes jobs and the audit log.

mod breaker;
mod deploy;
mod fleet;
mod keys;
mod outcome;
mod reconcile;
mod remote;
mod repair;
mod resume;
mod servers;
mod setup;
mod sites;
mod source;
mod ssl;
mod transfer;
mod trust;
mod upload;
mod view;
mod wordpress;

pub use deploy::{release_id, DeployOptions, DeployReport, Releases};
pub use fleet::{ProbeOutcome, ProbeReport, RunOutcome, RunReport, Selection};
pub use keys::KeyView;
pub use reconcile::Reconciled;
pub use repair::RepairReport;
pub use resume::Resumed;
pub use servers::{ServerEdit, ServerInput};
pub use setup::{SetupReport, DEPLOY_USER};
pub use sites::{SiteCreated, SiteDetail, SiteInput};
pub use source::{DeploySource, SourceChoice};
pub use ssl::{days_left, is_expiring, AcmeDirectory, SslStatus, LETSENCRYPT, LETSENCRYPT_STAGING, WARN_DAYS};
pub use transfer::TransferReport;
pub use trust::{Acceptance, HostKeyCheck};
pub use view::{ServerDetail, ServerView};
pub use wordpress::{SiteLaunch, WordpressSetup, WORDPRESS_URL};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::keys::PrivateKey;

use crate::db::{Db, NewAudit};
use crate::error::Result;
use crate::jobs::{os_user, Journal};
use crate::secrets::{OsKeyring, SecretStore};
use crate::ssh::{Pool, SshConfig};

/// Log lines kept for all jobs together; the oldest jobs' logs go first.
const MAX_LOG_LINES: i64 = 2_000_000;

pub struct Chom {
    db: Arc<Db>,
    secrets: Arc<dyn SecretStore>,
    pool: Arc<Pool>,
    /// Where every job's events are logged before they are shown.
    journal: Journal,
    data_dir: PathBuf,
    os_user: String,
    /// Decoded private keys, so a fleet-wide operation reads the keyring once
    /// per key, not once per server.
    key_cache: Mutex<HashMap<String, Arc<PrivateKey>>>,
}

impl Chom {
    /// Opens the data directory with the OS keyring and default SSH settings.
    pub fn open(data_dir: &Path) -> Result<Chom> {
        Self::open_with(data_dir, Arc::new(OsKeyring::new()), SshConfig::default())
    }

    pub fn open_with(data_dir: &Path, secrets: Arc<dyn SecretStore>, ssh: SshConfig) -> Result<Chom> {
        crate::paths::secure_data_dir(data_dir).map_err(|e| {
            crate::Error::Usage(format!("cannot create the data directory {}: {e}", data_dir.display()))
        })?;
        let db = Db::open(&data_dir.join(Db::FILE_NAME))?;
        // The database and its WAL exist now: private too.
        crate::paths::secure_data_dir(data_dir).map_err(|e| {
            crate::Error::Usage(format!("cannot make the data directory {} private: {e}", data_dir.display()))
        })?;
        let interrupted = db.mark_interrupted_jobs()?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "jobs left running by a process that ended were marked interrupted");
        }
        let pruned = db.prune_logs(MAX_LOG_LINES)?;
        if pruned > 0 {
            tracing::info!(pruned, "the oldest jobs' logs were removed to keep the cache bounded");
        }
        let journal = Journal::start(db.path())?;
        let db = Arc::new(db);
        let gate = breaker::CacheGate { db: db.clone(), policy: ssh.breaker };
        Ok(Chom {
            db,
            secrets,
            pool: Pool::with_gate(ssh, Some(Arc::new(gate))),
            journal,
            data_dir: data_dir.to_owned(),
            os_user: os_user(),
            key_cache: Mutex::default(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }

    /// Call before the process exits: waits (a few seconds at most) until
    /// the commands a cancel or a timeout stopped have been told so on
    /// their servers, and until every job event sent is in the log.
    pub async fn finish(&self) {
        self.pool.finish_stops(std::time::Duration::from_secs(5)).await;
        // What a job that ended early (an error before its end) still sent.
        self.journal.flush().await;
    }

    fn audit(&self, action: &str, server: Option<&str>, target: Option<&str>, ok: bool, detail: &str) {
        let entry = NewAudit { action, server, target, ok, detail };
        if let Err(e) = self.db.insert_audit(&self.os_user, &entry) {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    /// Watches every job this process runs (app-wide views): `observer`
    /// gets each event, with its job's id, once the job's log holds it.
    pub fn observe_jobs(&self, observer: crate::jobs::Observer) {
        self.journal.observe(observer);
    }

    pub fn jobs(&self, limit: u32) -> Result<Vec<crate::db::JobRecord>> {
        Ok(self.db.list_jobs(limit)?)
    }

    pub fn job(&self, id: i64) -> Result<(crate::db::JobRecord, Vec<crate::db::JobResultRecord>)> {
        let job = self.db.job(id)?.ok_or_else(|| crate::Error::NotFound {
            what: "job",
            name: id.to_string(),
            remedy: crate::Remedy::List { what: crate::Listing::Jobs },
        })?;
        Ok((job, self.db.job_results(id)?))
    }

    /// A job's log from line `after` (0: the start), at most `limit` lines,
    /// with the id of each.
    pub fn job_log(
        &self,
        id: i64,
        grep: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, crate::db::LogLine)>> {
        Ok(self.db.job_log(id, grep, after, limit)?)
    }

    /// Lines containing `text` in every job's log, newest first.
    pub fn search_logs(&self, text: &str, limit: u32) -> Result<Vec<(i64, crate::db::LogLine)>> {
        Ok(self.db.search_logs(text, limit)?)
    }

    /// Job `id`'s state now: a job whose process has died since is marked
    /// interrupted first (a follower of another process's job stops then).
    pub fn job_state(&self, id: i64) -> Result<crate::db::JobState> {
        self.db.mark_interrupted_jobs()?;
        Ok(self.job(id)?.0.state)
    }

    pub fn audit_log(&self, filter: &crate::db::AuditFilter) -> Result<Vec<crate::db::AuditEntry>> {
        Ok(self.db.list_audit(filter)?)
    }
}

#[cfg(test)]
mod tests;
