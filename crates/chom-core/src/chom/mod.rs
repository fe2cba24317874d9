//! `Chom`: the one entry point the app and the CLI use. It owns what every
//! capability shares (`Ctx`: the cache, the keyring store, the SSH pool,
//! the jobs' journal, the audit log) and hands out one service per
//! capability over it: `servers()`, `keys()`, `fleet()`, `sites()`,
//! `deploys()`, `jobs()`, `transfers()`. A new capability is a module with
//! a service of its own, not more methods on one type.

mod backup;
mod breaker;
mod check;
mod defaults;
mod deploy;
mod fleet;
mod history;
mod import;
mod inventory;
mod jump;
mod keys;
mod outcome;
mod overview;
mod reconcile;
mod remote;
mod repair;
mod request;
mod restore;
mod restore_path;
mod restore_to;
mod resume;
mod retention;
mod rotate;
mod schedule;
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

pub use check::CheckReport;
pub use defaults::{site_defaults, SiteDefaults, DEFAULT_GIT_REF, DEFAULT_WP_ADMIN};
pub use deploy::{DeployOptions, DeployReport, Releases};
pub use fleet::{ProbeOutcome, ProbeReport, RunOutcome, RunReport, Selection};
pub use import::{AnsibleFormat, HostKeyAction, ImportAction, ImportPlan, ImportSource, PlannedHostKey, PlannedServer};
pub use inventory::{natural, FleetColumn, FleetPage, FleetQuery, Inventory};
pub use keys::{AgentKeyView, KeyView};
pub use overview::{BackupBrief, Coverage, SiteBackups};
pub use reconcile::Reconciled;
pub use repair::RepairReport;
pub use request::{ReleaseRequest, SiteRequest, WordpressChoice};
pub use restore::{RestoreParts, RestoreReport, RestoreRequest};
pub use restore_path::{PathRestoreReport, PathRestoreRequest};
pub use restore_to::{Downloaded, RestoreTarget};
pub use resume::Resumed;
pub use retention::{PlannedSnapshot, Retention, RetentionPlan};
pub use rotate::{RotateReport, RotationOutcome};
pub use schedule::{ScheduleInput, ScheduleView};
pub use servers::{ServerEdit, ServerInput};
pub use setup::{SetupReport, DEPLOY_USER};
pub use sites::{SiteCreated, SiteDetail, SiteInput};
pub use source::{DeploySource, SourceChoice};
pub use ssl::{days_left, is_expiring, AcmeDirectory, SslStatus, LETSENCRYPT, LETSENCRYPT_STAGING, WARN_DAYS};
pub use transfer::TransferReport;
pub use trust::{Acceptance, HostKeyCheck};
pub use view::{ProbePoint, ServerDetail, ServerView, SiteView, STALE_AFTER};
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
use crate::web::steps::StepLimits;

/// Log lines kept for all jobs together; the oldest jobs' logs go first.
const MAX_LOG_LINES: i64 = 2_000_000;

pub struct Chom {
    ctx: Ctx,
}

/// What the services share; its helpers (records by name, connecting,
/// scripts run as jobs, the audit log) live in the modules that need them.
pub struct Ctx {
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
    /// How long each step of a server-side script may run.
    step_limits: StepLimits,
    /// The inventory as the Fleet table last read it (`Servers::fleet_page`).
    inventory: Mutex<Option<Arc<inventory::Inventory>>>,
}

macro_rules! services {
    ($($(#[$doc:meta])* $name:ident => $accessor:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name<'a>(&'a Ctx);

        // A service is a view of the shared context: its methods reach the
        // cache, the pool and the shared helpers through it.
        impl std::ops::Deref for $name<'_> {
            type Target = Ctx;
            fn deref(&self) -> &Ctx {
                self.0
            }
        }

        impl Chom {
            pub fn $accessor(&self) -> $name<'_> {
                $name(&self.ctx)
            }
        }

        impl Ctx {
            /// The service, for another one that builds on it.
            #[allow(dead_code)] // not every service is built on by another yet
            fn $accessor(&self) -> $name<'_> {
                $name(self)
            }
        }
    )*};
}

services! {
    /// The inventory: servers, their host keys, their setup for sites,
    /// their circuit breakers.
    Servers => servers;
    /// SSH keys, their private halves in the OS keyring.
    Keys => keys;
    /// Probes and commands across a selection of servers.
    Fleet => fleet;
    /// Sites: create, enable, delete, WordPress, certificates, repair.
    Sites => sites;
    /// Releases: deploy, list, roll back.
    Deploys => deploys;
    /// Jobs and the audit log: history, logs, reconciliation, resume.
    Jobs => jobs;
    /// Files between this computer and a server.
    Transfers => transfers;
    /// Backups of sites into their server's restic repository.
    Backups => backups;
    /// Servers and host keys from ssh config, known_hosts, Ansible.
    Imports => imports;
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
        let ctx = Ctx {
            db,
            secrets,
            pool: Pool::with_gate(ssh, Some(Arc::new(gate))),
            journal,
            data_dir: data_dir.to_owned(),
            os_user: os_user(),
            key_cache: Mutex::default(),
            step_limits: StepLimits::default(),
            inventory: Mutex::default(),
        };
        Ok(Chom { ctx })
    }

    /// Steps of server-side scripts with limits of the operator's own.
    pub fn with_step_limits(mut self, limits: StepLimits) -> Chom {
        self.ctx.step_limits = limits;
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.ctx.data_dir
    }

    pub fn db(&self) -> &Db {
        &self.ctx.db
    }

    pub fn pool(&self) -> &Arc<Pool> {
        &self.ctx.pool
    }

    /// Call before the process exits: waits (a few seconds at most) until
    /// the commands a cancel or a timeout stopped have been told so on
    /// their servers, and until every job event sent is in the log.
    pub async fn finish(&self) {
        self.ctx.pool.finish_stops(std::time::Duration::from_secs(5)).await;
        // What a job that ended early (an error before its end) still sent.
        self.ctx.journal.flush().await;
    }
}

impl Ctx {
    fn audit(&self, action: &str, server: Option<&str>, target: Option<&str>, ok: bool, detail: &str) {
        let entry = NewAudit { action, server, target, ok, detail };
        if let Err(e) = self.db.insert_audit(&self.os_user, &entry) {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }
}

#[cfg(test)]
mod tests;
