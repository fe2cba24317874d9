//! Key rotation across the fleet, as a job that can be run again until it
//! is done. Each server goes: the new key added to its authorized_keys
//! (logged in with the old one), a fresh login with the new key alone,
//! CHOM switched to the new key, the old key's lines removed, the old key
//! shown to be refused. The `key_rotations` journal keeps how far each
//! server got, so a server that was down, or a run that was killed, goes
//! on from its last step; the old key is only ever removed from a server
//! the new key has logged in to.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::db::{Db, JobResultRecord, JobState, KeyRecord, RotationRow, RotationState, ServerRecord};
use crate::error::{Error, ErrorCode, Result};
use crate::fleet::fan_out;
use crate::ids::{JobId, KeyId, ServerId};
use crate::jobs::{Control, Job, JobSpec, Scope};
use crate::ssh::{self, Credential, Pool, SshError, Target};

use super::{Keys, Selection};

/// Servers rotated at once: each opens up to four connections.
const PARALLEL: usize = 64;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RotationOutcome {
    pub server: String,
    /// Where the server stands now.
    pub state: RotationState,
    /// Whether it is done (the old key removed and refused).
    pub ok: bool,
    pub detail: String,
    pub error_code: Option<ErrorCode>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RotateReport {
    pub job_id: JobId,
    pub old_key: String,
    pub new_key: String,
    pub done: u32,
    /// Servers to finish by running the rotation again.
    pub pending: u32,
    pub results: Vec<RotationOutcome>,
}

impl Keys<'_> {
    /// Rotates the selected servers that log in with key `old` (and those
    /// of an unfinished rotation from `old` to `new`) to key `new`.
    pub async fn rotate_key(&self, old: &str, new: &str, sel: &Selection, ctl: &Control) -> Result<RotateReport> {
        let (old, new) = (self.key_record(old)?, self.key_record(new)?);
        if old.id == new.id {
            return Err(Error::Usage(format!("key {} would be rotated to itself: name another key", old.name)));
        }
        let journal: HashMap<ServerId, RotationState> =
            self.db.rotation(old.id, new.id)?.into_iter().map(|r| (r.server_id, r.state)).collect();
        let servers = self.rotating(sel, &old, &journal)?;
        // Both keys must sign before anything changes anywhere.
        let old_cred = self.credential(&old.name).await?;
        let new_cred = self.credential(&new.name).await?;
        let detail = format!("{} -> {}", old.name, new.name);
        let spec = JobSpec {
            kind: "key.rotate",
            detail: &detail,
            total: servers.len(),
            scope: Some(Scope::Key(old.name.to_string())),
            os_user: &self.os_user,
        };
        let job = Job::start(&self.db, &self.journal, spec, ctl)?;
        let mut work = Vec::with_capacity(servers.len());
        for s in &servers {
            let targets = self.target(s, false).await.map(|base| {
                let with = |name: &KeyRecord, cred: &Credential| Target {
                    key: Some((name.name.to_string(), cred.clone())),
                    ..base.clone()
                };
                (with(&old, &old_cred), with(&new, &new_cred))
            });
            let state = journal.get(&s.id).copied().unwrap_or(RotationState::Pending);
            work.push((s.clone(), state, targets));
        }
        let run = Arc::new(Rotation {
            db: self.db.clone(),
            pool: self.pool.clone(),
            job: job.clone(),
            old: (old.id, old.name.to_string(), old.public_key.clone()),
            new: (new.id, new.name.to_string(), new.public_key.clone()),
        });
        let results = fan_out(
            work,
            PARALLEL,
            &ctl.cancel,
            |(server, state, targets)| {
                let run = run.clone();
                async move {
                    let (old_target, new_target) = targets?;
                    run.server(&server, state, &old_target, &new_target).await
                }
            },
            |i, r| job.server_done(servers[i].name.as_str(), r.as_ref().err().map(ToString::to_string)),
        )
        .await;

        let now: HashMap<ServerId, RotationRow> =
            self.db.rotation(old.id, new.id)?.into_iter().map(|r| (r.server_id, r)).collect();
        let mut outcomes = Vec::with_capacity(servers.len());
        let mut rows = Vec::with_capacity(servers.len());
        for (s, (r, took)) in servers.iter().zip(results) {
            let state = now.get(&s.id).map_or(RotationState::Pending, |r| r.state);
            let (ok, detail, error_code) = match &r {
                Ok(done) => (true, done.clone(), None),
                Err(e) => (false, e.to_string(), Some(e.code())),
            };
            self.audit("key.rotate", Some(s.name.as_str()), Some(&detail), ok, state.as_str());
            rows.push((
                Some(s.id),
                JobResultRecord {
                    server: s.name.to_string(),
                    ok,
                    exit_status: None,
                    stdout: Some(format!("{}: {detail}", state.as_str())),
                    stderr: None,
                    error_code: error_code.map(|c| c.as_str().to_owned()),
                    error: (!ok).then(|| detail.clone()),
                    duration_ms: took.as_millis() as u64,
                },
            ));
            outcomes.push(RotationOutcome { server: s.name.to_string(), state, ok, detail, error_code });
        }
        self.db.insert_job_results(job.id, &rows)?;
        let done = outcomes.iter().filter(|o| o.ok).count() as u32;
        let pending = outcomes.len() as u32 - done;
        let state = match (ctl.cancel.is_cancelled(), pending) {
            (true, _) => JobState::Cancelled,
            (false, 0) => JobState::Succeeded,
            _ => JobState::Failed,
        };
        job.finish(state, done, pending).await?;
        Ok(RotateReport {
            job_id: job.id,
            old_key: old.name.to_string(),
            new_key: new.name.to_string(),
            done,
            pending,
            results: outcomes,
        })
    }

    /// Every rotation step recorded for key `name` (rotated from or to),
    /// newest first.
    pub fn rotations(&self, name: &str) -> Result<Vec<RotationRow>> {
        let key = self.key_record(name)?;
        Ok(self.db.rotations_of_key(key.id)?)
    }

    /// The selected servers this rotation is about: those that log in with
    /// `old`, and those it left unfinished. A server named by the operator
    /// that is neither is a mistake, said before anything runs.
    fn rotating(
        &self,
        sel: &Selection,
        old: &KeyRecord,
        journal: &HashMap<ServerId, RotationState>,
    ) -> Result<Vec<ServerRecord>> {
        let belongs = |s: &ServerRecord| {
            s.key.as_ref() == Some(&old.name) || journal.get(&s.id).is_some_and(|st| *st != RotationState::Done)
        };
        let servers = self.fleet().resolve(sel)?;
        if let Some(s) = servers.iter().find(|s| sel.names.iter().any(|n| n == s.name.as_str()) && !belongs(s)) {
            return Err(Error::Usage(format!(
                "server {} logs in with {}, not key {}: leave it out of this rotation",
                s.name,
                s.key.as_ref().map_or("no key".to_owned(), |k| format!("key {k}")),
                old.name
            )));
        }
        let servers: Vec<ServerRecord> = servers.into_iter().filter(belongs).collect();
        if servers.is_empty() {
            return Err(Error::Usage(format!(
                "no selected server logs in with key {} or has an unfinished rotation from it",
                old.name
            )));
        }
        Ok(servers)
    }
}

/// What every server's task shares.
struct Rotation {
    db: Arc<Db>,
    pool: Arc<Pool>,
    job: Arc<Job>,
    /// Id, name and public line of the old key and of the new one.
    old: (KeyId, String, String),
    new: (KeyId, String, String),
}

impl Rotation {
    /// Takes one server from `state` as far as it goes; records every step
    /// it reaches and, on an error, what stopped it.
    async fn server(&self, s: &ServerRecord, state: RotationState, old: &Target, new: &Target) -> Result<String> {
        let name = s.name.as_str();
        let mut at = state;
        let result = self.steps(s, &mut at, old, new).await;
        if let Err(e) = &result {
            self.db.set_rotation(s.id, self.old.0, self.new.0, at, &e.to_string(), self.job.id)?;
            self.job.note(Some(name), format!("stopped at {}: {e}", at.as_str()));
        }
        result
    }

    /// Keeps `state` at the last step reached, for the caller to record
    /// what stopped it.
    async fn steps(&self, s: &ServerRecord, state: &mut RotationState, old: &Target, new: &Target) -> Result<String> {
        let (name, job) = (s.name.as_str(), &self.job);
        let (old_name, new_name) = (&self.old.1, &self.new.1);
        if *state < RotationState::Switched {
            if s.key.as_ref().map(|k| k.as_str()) != Some(old_name.as_str()) {
                return Err(Error::Usage(format!(
                    "{name} no longer logs in with key {old_name}: this rotation leaves it as it is"
                )));
            }
            job.step(name, &format!("adding key {new_name}"));
            self.run(old, &ssh::install_command(&self.new.2)?, "adding the new key to ~/.ssh/authorized_keys").await?;
            self.record(s, RotationState::Added, &format!("key {new_name} added to ~/.ssh/authorized_keys"))?;
            *state = RotationState::Added;

            job.step(name, &format!("proving a fresh login with key {new_name} alone"));
            self.pool.prove_fresh_login(new).await.map_err(|e| {
                Error::Usage(format!("a fresh login with key {new_name} failed ({e}); key {old_name} stays"))
            })?;
            let proven = format!("a fresh login with key {new_name} worked; CHOM logs in with it");
            if !self.db.switch_rotated_key(s.id, self.old.0, self.new.0, &proven, job.id)? {
                return Err(Error::Usage(format!("{name} was given another key meanwhile: left as it is")));
            }
            *state = RotationState::Switched;
        }
        if *state == RotationState::Switched {
            job.step(name, &format!("removing key {old_name}"));
            let out = self.run(new, &ssh::remove_command(&self.old.2, &self.new.2)?, "removing the old key").await?;
            let removed = out
                .lines()
                .find_map(|l| l.strip_prefix(ssh::REMOVED_TOKEN)?.trim().parse::<u32>().ok())
                .ok_or_else(|| Error::Internal(format!("{name}: the removal did not say what it removed")))?;
            let deploy = self.deploy_user(new).await?;
            job.step(name, &format!("checking key {old_name} is refused"));
            match self.pool.prove_fresh_login(old).await {
                Err(SshError::AuthFailed { .. }) => {}
                Ok(()) => {
                    return Err(Error::Usage(format!(
                        "key {old_name} still logs in to {name} after {removed} line(s) were removed from \
                         ~/.ssh/authorized_keys: it is authorized elsewhere too (sshd's AuthorizedKeysFile); \
                         remove it there, then run the rotation again"
                    )))
                }
                Err(e) => return Err(Error::Usage(format!("could not check that key {old_name} is refused: {e}"))),
            }
            let done =
                format!("key {old_name} removed ({removed} line(s)) and refused; key {new_name} logs in; {deploy}");
            self.record(s, RotationState::Done, &done)?;
            *state = RotationState::Done;
            return Ok(done);
        }
        Ok(format!("done already (key {new_name} logs in)"))
    }

    /// The `deploy` user that `server setup` made accepts the server's key
    /// too: where it holds the old one, it gets the new one and loses the
    /// old (as that user, started by root). Says what it did.
    async fn deploy_user(&self, target: &Target) -> Result<String> {
        let (old, new) = (&self.old.2, &self.new.2);
        let inner =
            format!("if {}; then {}; else exit 5; fi", ssh::install_command(new)?, ssh::remove_command(old, new)?);
        let command = ssh::for_deploy_user(super::DEPLOY_USER, &inner, old)?;
        let out = self.run(target, &command, "replacing the key of the deploy user").await?;
        let said = out.lines().rev().find_map(|l| l.strip_prefix(ssh::DEPLOY_TOKEN)).map(str::trim);
        Ok(match said {
            Some("done") => format!("the {} user's key replaced too", super::DEPLOY_USER),
            Some("skipped no-root") => format!("no root here, so no {} user checked", super::DEPLOY_USER),
            Some(_) => format!("no {} user with key {} here", super::DEPLOY_USER, self.old.1),
            None => return Err(Error::Internal(format!("{}: the deploy user's step said nothing", target.server))),
        })
    }

    /// Runs one of the rotation's commands as the login user (the
    /// operator's own account, not a site's), failing on a non-zero exit.
    async fn run(&self, target: &Target, command: &str, what: &str) -> Result<String> {
        let out = self.pool.exec(target, command, &mut |_| {}).await?;
        if !out.success() {
            return Err(SshError::RemoteFailed {
                server: target.server.clone(),
                what: what.to_owned(),
                status: out.exit_status.map_or("no exit status".into(), |s| format!("exit status {s}")),
                stderr: out.stderr.trim().chars().take(300).collect(),
            }
            .into());
        }
        Ok(out.stdout)
    }

    fn record(&self, s: &ServerRecord, state: RotationState, detail: &str) -> Result<()> {
        self.db.set_rotation(s.id, self.old.0, self.new.0, state, detail, self.job.id)?;
        Ok(())
    }
}
