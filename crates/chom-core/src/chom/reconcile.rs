//! Jobs a CHOM process left behind when it died (a crash, a kill, a
//! reboot of the desktop), set against what their servers say now: which
//! release serves, whether a change still holds the site's lock, whether
//! half-made releases are left.

use serde::Serialize;

use crate::db::{DeployState, JobRecord, ServiceState};
use crate::error::{Error, Result};
use crate::fleet::probe;
use crate::ids::JobId;

use super::{Ctx, Jobs};

/// What an interrupted job's server said.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Reconciled {
    pub job_id: JobId,
    pub kind: String,
    pub target: String,
    /// What the server was left with, and what to do.
    pub found: String,
    /// Whether the answer is final: a change still running on the server
    /// (its lock held) is asked again next time.
    pub settled: bool,
}

impl Jobs<'_> {
    /// Asks the server of every interrupted job not reconciled yet what it
    /// was left with, and records the answer on the job (for a deploy, on
    /// its deploy row and the site's live release too). A server that can
    /// not be reached now is asked again next time; its job says so.
    pub async fn reconcile_interrupted(&self) -> Result<Vec<Reconciled>> {
        let mut out = Vec::new();
        for job in self.db.unreconciled_jobs()? {
            let target = job.target.clone().unwrap_or_default();
            let (found, settled) = match self.reconcile(&job).await {
                Ok(r) => r,
                Err(e) => (format!("could not ask the server what was left ({e}); asked again next time"), false),
            };
            if settled {
                self.db.set_reconciled(job.id, &found)?;
                self.audit("job.reconcile", None, Some(&target), true, &format!("job {}: {found}", job.id));
            }
            tracing::info!(job = %job.id, kind = %job.kind, %target, %found, "interrupted job reconciled");
            out.push(Reconciled { job_id: job.id, kind: job.kind, target, found, settled });
        }
        Ok(out)
    }
}

impl Ctx {
    async fn reconcile(&self, job: &JobRecord) -> Result<(String, bool)> {
        let target = job.target.as_deref().unwrap_or_default();
        if job.kind == "setup" {
            return self.reconcile_setup(target).await;
        }
        let site = match self.site_record(target) {
            Ok(s) => s,
            Err(Error::NotFound { .. }) if job.kind == "site.create" => {
                return Ok((
                    format!("{target} was not recorded as created: a create that stops undoes itself on the server; create it again"),
                    true,
                ));
            }
            Err(Error::NotFound { .. }) => return Ok((format!("{target} is no longer in the cache"), true)),
            Err(e) => return Err(e),
        };
        let server = self.server_record(site.server.as_str())?;
        let now = self.read_releases(&site, &server).await?;
        self.db.set_site_release(site.id, now.current.as_deref())?;
        let serving = now.current.as_deref().unwrap_or("none");
        let mut found = match self.db.deploy_of_job(job.id)? {
            Some((deploy_id, release)) if job.kind == "deploy" => {
                let went_live = now.current.as_deref() == Some(release.as_str());
                let message = if went_live {
                    format!("release {release} went live before CHOM stopped")
                } else {
                    format!("release {serving} keeps serving; {release} never went live")
                };
                let state = if went_live { DeployState::Live } else { DeployState::Interrupted };
                self.db.finish_deploy(deploy_id, state, &message)?;
                message
            }
            Some((deploy_id, _)) if job.kind == "rollback" => {
                let message = format!("release {serving} serves");
                self.db.finish_deploy(deploy_id, DeployState::Interrupted, &message)?;
                message
            }
            _ => format!("release {serving} serves"),
        };
        if job.kind == "backup" {
            found.push_str("; that backup did not finish and is never restored from");
        }
        let settled = now.busy.is_none();
        match &now.busy {
            Some(holder) => found.push_str(&format!("; the server still runs a change of the site ({holder})")),
            None => found.push_str("; no lock left"),
        }
        if !now.partial.is_empty() {
            found
                .push_str(&format!("; half-made release {} left (the next deploy removes it)", now.partial.join(", ")));
        }
        Ok((found, settled))
    }

    /// Setup is made to be run again: say what runs now.
    async fn reconcile_setup(&self, server: &str) -> Result<(String, bool)> {
        let record = match self.server_record(server) {
            Ok(r) => r,
            Err(Error::NotFound { .. }) => return Ok((format!("{server} is no longer in the cache"), true)),
            Err(e) => return Err(e),
        };
        let target = self.target(&record, true).await?;
        let out = self.pool.run_in_shell(&target, probe::PROBE_SCRIPT).await?;
        let facts =
            probe::parse_probe(&out).map_err(|e| Error::ProbeOutput { server: server.to_owned(), detail: e.0 })?;
        let services: Vec<String> = facts
            .services
            .iter()
            .filter(|(_, st)| **st != ServiceState::Absent)
            .map(|(name, st)| format!("{name} {}", if *st == ServiceState::Up { "running" } else { "stopped" }))
            .collect();
        let services = if services.is_empty() { "no web services found".to_owned() } else { services.join(", ") };
        Ok((format!("setup did not finish; the server answers ({services}); setup is safe to run again"), true))
    }
}
