//! Running an interrupted job again, where that is safe: a deploy (from
//! its first step: its half-made release is gone from the server, its new
//! release gets a new id, and files the live release already has are not
//! sent again) and a setup (made to be run again). Other changes are run
//! again by the operator, who knows whether they still want them.

use serde::{Deserialize, Serialize};

use crate::db::JobState;
use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::jobs::Control;

use super::{DeployOptions, Jobs};

/// What a job was asked to do, stored with it (`jobs.input`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Input {
    Deploy { domain: String, options: DeployOptions },
    Setup { server: String, php: String },
}

impl Input {
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data")
    }
}

/// The job that ran an interrupted one again.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Resumed {
    /// The new job.
    pub job_id: JobId,
    pub kind: String,
    pub target: String,
    /// What it did: "release X is live", "setup done: N changes".
    pub outcome: String,
}

impl Jobs<'_> {
    /// Runs interrupted job `id` again, once its server said what it was
    /// left with and no change of it still runs there.
    pub async fn resume_job(&self, id: JobId, ctl: &Control) -> Result<Resumed> {
        let (job, _) = self.job(id)?;
        if job.state != JobState::Interrupted {
            return Err(Error::Usage(format!(
                "job {id} ({}) is {}: only an interrupted job is resumed",
                job.kind,
                job.state.as_str()
            )));
        }
        let mut job = job;
        if job.reconciled.is_none() {
            self.reconcile_interrupted().await?;
            job = self.job(id)?.0;
        }
        if job.reconciled.is_none() {
            return Err(Error::Usage(format!(
                "job {id}'s server has not said yet what it was left with (a change may still run there): \
                 try again in a moment"
            )));
        }
        if let Some(again) = job.reconciled.as_deref().and_then(|r| r.split("; resumed as job ").nth(1)) {
            return Err(Error::Usage(format!("job {id} was resumed already, as job {again}")));
        }
        let input = self.db.job_input(id)?.and_then(|j| serde_json::from_str::<Input>(&j).ok());
        let (target, outcome, new_job) = match input {
            Some(Input::Deploy { domain, options }) => {
                let r = self.deploys().deploy(&domain, &options, ctl).await?;
                (domain, format!("release {} is live", r.release), r.job_id)
            }
            Some(Input::Setup { server, php }) => {
                let r = self.servers().setup_server(&server, &php, ctl).await?;
                (
                    server,
                    format!("setup done: {} changed, {} as they were", r.changed.len(), r.unchanged.len()),
                    r.job_id,
                )
            }
            None => {
                return Err(Error::Usage(format!(
                    "a {} job is not resumed (its server said: {}); run it again if it is still wanted",
                    job.kind,
                    job.reconciled.as_deref().unwrap_or("")
                )))
            }
        };
        self.db.set_reconciled(id, &format!("{}; resumed as job {new_job}", job.reconciled.unwrap_or_default()))?;
        self.audit("job.resume", None, Some(&target), true, &format!("job {id} resumed as job {new_job}: {outcome}"));
        Ok(Resumed { job_id: new_job, kind: job.kind, target, outcome })
    }
}
