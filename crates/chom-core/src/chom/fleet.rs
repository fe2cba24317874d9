//! Fleet operations as jobs: the probe and ad-hoc commands, concurrently on
//! every selected server, each server's outcome kept apart.

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use tracing::Instrument;

use crate::db::{JobResultRecord, JobState, NewProbe, ProbeFacts, ServerFilter, ServerRecord};
use crate::error::{Error, ErrorCode, Result};
use crate::fleet::{fan_out, probe};
use crate::ids::JobId;
use crate::jobs::{Control, Job, JobSpec};
use crate::remedy::Remedy;
use crate::ssh::{ExecOutput, OutputLine, Target};
use crate::validate::{GroupName, Tag, ValidationError};

use super::{Ctx, Fleet};

/// Server tasks in flight at once (connection attempts are bounded
/// separately, by the pool).
const PARALLEL: usize = 512;

/// Which servers an operation targets.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub names: Vec<String>,
    pub tag: Option<String>,
    pub group: Option<String>,
    pub all: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeOutcome {
    pub server: String,
    pub ok: bool,
    pub error_code: Option<ErrorCode>,
    pub error: Option<String>,
    /// What to do about the error, for the front end to say.
    pub remedy: Option<Remedy>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub duration_ms: u64,
    pub facts: Option<ProbeFacts>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProbeReport {
    pub job_id: JobId,
    pub succeeded: u32,
    pub failed: u32,
    pub results: Vec<ProbeOutcome>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunOutcome {
    pub server: String,
    pub ok: bool,
    pub exit_status: Option<u32>,
    pub signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub error_code: Option<ErrorCode>,
    pub error: Option<String>,
    pub remedy: Option<Remedy>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RunReport {
    pub job_id: JobId,
    pub succeeded: u32,
    pub failed: u32,
    pub results: Vec<RunOutcome>,
}

impl Fleet<'_> {
    /// The servers a selection names; an unknown name is an error before
    /// anything runs.
    pub fn resolve(&self, sel: &Selection) -> Result<Vec<ServerRecord>> {
        let by_filter = sel.all || sel.tag.is_some() || sel.group.is_some();
        if sel.names.is_empty() && !by_filter {
            return Err(Error::Usage("select servers: name them, or choose a tag, a group or all of them".into()));
        }
        let mut servers = Vec::new();
        for name in &sel.names {
            servers.push(self.server_record(name)?);
        }
        if by_filter {
            let filter = ServerFilter {
                tag: sel.tag.as_deref().map(Tag::parse).transpose()?,
                group: sel.group.as_deref().map(GroupName::parse).transpose()?,
                search: None,
            };
            servers.extend(self.db.list_servers(&filter)?);
        }
        servers.sort_by(|a, b| a.name.cmp(&b.name));
        servers.dedup_by_key(|s| s.id);
        Ok(servers)
    }

    /// Probes every selected server at once, one round trip each, and stores
    /// the results (history kept, last seen and status updated).
    #[tracing::instrument(skip_all, fields(job))]
    pub async fn probe(&self, sel: &Selection, ctl: &Control) -> Result<ProbeReport> {
        let servers = self.resolve(sel)?;
        let job = self.start_fleet_job("probe", "", servers.len(), ctl)?;
        tracing::Span::current().record("job", job.id.0);
        let pool = self.pool.clone();
        let results = fan_out(
            self.targets(&servers).await,
            PARALLEL,
            &ctl.cancel,
            |(span, target)| {
                let pool = pool.clone();
                async move {
                    let target = target?;
                    let out = pool.run_in_shell(&target, probe::PROBE_SCRIPT).await;
                    pool.done_with(&target).await;
                    let out = out?;
                    let facts = probe::parse_probe(&out)
                        .map_err(|e| Error::ProbeOutput { server: target.server, detail: e.0 })?;
                    Ok((facts, probe::parse_backup_status(&out)))
                }
                .instrument(span)
            },
            |i, r| {
                if let Err(e) = r {
                    job.saw(e);
                }
                job.server_done(servers[i].name.as_str(), r.as_ref().err().map(ToString::to_string))
            },
        )
        .await;

        let mut backups = Vec::new();
        let outcomes: Vec<ProbeOutcome> = servers
            .iter()
            .zip(results)
            .map(|(s, (r, took))| {
                let r = r.map(|(facts, status)| {
                    backups.push((s, status));
                    facts
                });
                if let Err(e) = &r {
                    tracing::info!(server = %s.name, code = e.code().as_str(), error = %e, "probe failed");
                }
                ProbeOutcome {
                    server: s.name.to_string(),
                    ok: r.is_ok(),
                    error_code: r.as_ref().err().map(Error::code),
                    error: r.as_ref().err().map(ToString::to_string),
                    remedy: r.as_ref().err().and_then(Error::remedy),
                    duration_ms: took.as_millis() as u64,
                    facts: r.ok(),
                }
            })
            .collect();
        let at = Utc::now();
        let batch: Vec<NewProbe<'_>> = servers
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.error_code != Some(ErrorCode::Cancelled))
            .map(|(s, o)| NewProbe {
                server_id: s.id,
                job_id: Some(job.id),
                at,
                duration_ms: o.duration_ms,
                outcome: match &o.facts {
                    Some(f) => Ok(f),
                    None => Err((o.error_code.map_or("internal", ErrorCode::as_str), o.error.as_deref().unwrap_or(""))),
                },
            })
            .collect();
        self.db.insert_probes(&batch)?;
        for (server, status) in &backups {
            self.read_backup_status(server, status)?;
        }
        let rows: Vec<_> = servers
            .iter()
            .zip(&outcomes)
            .map(|(s, o)| {
                let record = JobResultRecord {
                    server: o.server.clone(),
                    ok: o.ok,
                    exit_status: None,
                    stdout: None,
                    stderr: None,
                    error_code: o.error_code.map(|c| c.as_str().to_owned()),
                    error: o.error.clone(),
                    duration_ms: o.duration_ms,
                };
                (Some(s.id), record)
            })
            .collect();
        self.db.insert_job_results(job.id, &rows)?;
        let succeeded = outcomes.iter().filter(|o| o.ok).count() as u32;
        let failed = outcomes.len() as u32 - succeeded;
        self.finish_fleet_job(&job, succeeded, failed).await?;
        Ok(ProbeReport { job_id: job.id, succeeded, failed, results: outcomes })
    }

    /// Runs an operator's shell command on every selected server at once,
    /// streaming output lines as events.
    #[tracing::instrument(skip_all, fields(job))]
    pub async fn run(&self, sel: &Selection, command: &str, ctl: &Control) -> Result<RunReport> {
        validate_command(command)?;
        let servers = self.resolve(sel)?;
        let job = self.start_fleet_job("run", command, servers.len(), ctl)?;
        tracing::Span::current().record("job", job.id.0);
        let (pool, command_arc) = (self.pool.clone(), Arc::<str>::from(command));
        let results = fan_out(
            self.targets(&servers).await,
            PARALLEL,
            &ctl.cancel,
            |(span, target)| {
                let (pool, command, job) = (pool.clone(), command_arc.clone(), job.clone());
                async move {
                    let target = target?;
                    let server = target.server.clone();
                    let mut on_line = |l: OutputLine| job.output(&server, l.stream, l.line);
                    let out = pool.exec(&target, &command, &mut on_line).await;
                    pool.done_with(&target).await;
                    Ok(out?)
                }
                .instrument(span)
            },
            |i, r: &Result<ExecOutput>| {
                let error = match r {
                    Ok(out) if out.success() => None,
                    Ok(out) => Some(match out.exit_status {
                        Some(s) => format!("exit status {s}"),
                        None => format!("killed by {}", out.signal.as_deref().unwrap_or("a signal")),
                    }),
                    Err(e) => {
                        job.saw(e);
                        Some(e.to_string())
                    }
                };
                job.server_done(servers[i].name.as_str(), error)
            },
        )
        .await;

        let outcomes: Vec<RunOutcome> = servers
            .iter()
            .zip(results)
            .map(|(s, (r, took))| run_outcome(s.name.as_str(), r, took.as_millis() as u64))
            .collect();
        let rows: Vec<_> = servers
            .iter()
            .zip(&outcomes)
            .map(|(s, o)| {
                let record = JobResultRecord {
                    server: o.server.clone(),
                    ok: o.ok,
                    exit_status: o.exit_status.map(i64::from),
                    stdout: Some(o.stdout.clone()),
                    stderr: Some(o.stderr.clone()),
                    error_code: o.error_code.map(|c| c.as_str().to_owned()),
                    error: o.error.clone(),
                    duration_ms: o.duration_ms,
                };
                (Some(s.id), record)
            })
            .collect();
        self.db.insert_job_results(job.id, &rows)?;
        for o in &outcomes {
            let detail = match (&o.error, o.exit_status) {
                (Some(e), _) => e.clone(),
                (None, Some(st)) => format!("exit {st}"),
                (None, None) => format!("killed by {}", o.signal.as_deref().unwrap_or("a signal")),
            };
            self.audit("run", Some(&o.server), Some(command), o.ok, &detail);
        }
        let succeeded = outcomes.iter().filter(|o| o.ok).count() as u32;
        let failed = outcomes.len() as u32 - succeeded;
        self.finish_fleet_job(&job, succeeded, failed).await?;
        Ok(RunReport { job_id: job.id, succeeded, failed, results: outcomes })
    }
}

impl Ctx {
    fn start_fleet_job(&self, kind: &str, detail: &str, total: usize, ctl: &Control) -> Result<Arc<Job>> {
        Job::start(&self.db, &self.journal, JobSpec { kind, detail, total, scope: None, os_user: &self.os_user }, ctl)
    }

    async fn finish_fleet_job(&self, job: &Job, succeeded: u32, failed: u32) -> Result<()> {
        let state = if job.cancel.is_cancelled() {
            JobState::Cancelled
        } else if failed > 0 {
            JobState::Failed
        } else {
            JobState::Succeeded
        };
        job.finish(state, succeeded, failed).await
    }

    /// Connection targets with their keys; a server whose key can not be
    /// loaded fails alone, with the reason.
    async fn targets(&self, servers: &[ServerRecord]) -> Vec<(tracing::Span, Result<Target>)> {
        let mut out = Vec::with_capacity(servers.len());
        for s in servers {
            out.push((tracing::info_span!("server", server = %s.name), self.target(s, true).await));
        }
        out
    }
}

fn run_outcome(server: &str, r: Result<ExecOutput>, duration_ms: u64) -> RunOutcome {
    match r {
        Ok(out) => RunOutcome {
            server: server.to_owned(),
            ok: out.success(),
            exit_status: out.exit_status,
            signal: out.signal,
            stdout: out.stdout,
            stderr: out.stderr,
            error_code: None,
            error: None,
            remedy: None,
            duration_ms,
        },
        Err(e) => RunOutcome {
            server: server.to_owned(),
            ok: false,
            exit_status: None,
            signal: None,
            stdout: String::new(),
            stderr: String::new(),
            error_code: Some(e.code()),
            error: Some(e.to_string()),
            remedy: e.remedy(),
            duration_ms,
        },
    }
}

fn validate_command(command: &str) -> std::result::Result<(), ValidationError> {
    if command.trim().is_empty() {
        return Err(ValidationError::new("command", command, "give a command to run"));
    }
    if command.contains('\0') {
        return Err(ValidationError::new("command", command, "NUL bytes can not be sent to a shell"));
    }
    if command.len() > 64 * 1024 {
        return Err(ValidationError::new("command", command, "use at most 64 KiB"));
    }
    Ok(())
}
