//! Running one web script on one server as a job: the job row, progress
//! events from its `@@chom` lines, its result row and the audit entry.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::{JobResultRecord, JobState, ServerRecord};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::ServerId;
use crate::jobs::{Control, Job, JobEvent, JobSpec, Scope};
use crate::ssh::quote::quote;
use crate::ssh::{Input, OutputLine, SshError, Stream, Target};
use crate::web::script::Report;
use crate::web::{RemoteEvent, Script, WebError};

use super::Ctx;

/// A single-server job (setup, site change, deploy, certificate).
pub(super) struct WebJob {
    pub job: Arc<Job>,
    pub server: String,
    pub server_id: ServerId,
}

impl Deref for WebJob {
    type Target = Job;
    fn deref(&self) -> &Job {
        &self.job
    }
}

/// What a script printed, kept for the job's result row.
#[derive(Default)]
pub(super) struct Transcript {
    pub stdout: String,
    pub stderr: String,
}

/// The command line that runs `script` on `server` as root: directly when
/// CHOM logs in as root, else through passwordless sudo (`-n`: never wait
/// for a password prompt that nobody can answer).
pub(super) fn as_root(server: &ServerRecord, script: &Script) -> String {
    if server.user.as_str() == "root" {
        script.command()
    } else {
        format!("sudo -n {}", script.command())
    }
}

/// What ended a script before its exit status came: the operator, its
/// time limit, or the connection.
pub(super) fn stopped_by(e: &Error) -> &'static str {
    match e {
        Error::Cancelled => "cancelled",
        Error::Ssh(SshError::CommandTimeout { .. }) | Error::Web(WebError::StepTimedOut { .. }) => "timed out",
        _ => "connection lost",
    }
}

/// A change job's line in the audit log: what it changed, or why it failed.
pub(super) fn change_detail(result: &Result<()>, changed: &[String]) -> String {
    match result {
        Ok(()) if changed.is_empty() => "nothing changed".to_owned(),
        Ok(()) => changed.join("; "),
        Err(e) => e.to_string(),
    }
}

/// sudo's own refusal, told as what to do.
fn sudo_refused(server: &ServerRecord, stderr: &str) -> Option<String> {
    let refused = stderr.lines().any(|l| {
        l.starts_with("sudo:")
            && (l.contains("password is required") || l.contains("not in the sudoers") || l.contains("not allowed"))
    }) || stderr.contains("sudo: command not found")
        || stderr.contains("sudo: not found");
    refused.then(|| {
        format!(
            "{user} can not run commands as root without a password (sudo -n refused); nothing was changed. \
             Log in as root, or allow {user} passwordless sudo",
            user = server.user
        )
    })
}

impl Ctx {
    /// Starts a job on one server, holding `scope` (the site or the server
    /// it changes) against every other CHOM process on this data directory.
    pub(super) fn start_web_job(
        &self,
        kind: &str,
        detail: &str,
        server: &ServerRecord,
        scope: Scope,
        ctl: &Control,
    ) -> Result<WebJob> {
        let spec = JobSpec { kind, detail, total: 1, scope: Some(scope), os_user: &self.os_user };
        let job = Job::start(&self.db, &self.journal, spec, ctl)?;
        Ok(WebJob { job, server: server.name.to_string(), server_id: server.id })
    }

    /// Records the job's outcome; `error` is `None` on success.
    pub(super) async fn end_web_job(&self, job: &WebJob, transcript: &Transcript, error: Option<&Error>) -> Result<()> {
        let ok = error.is_none();
        self.db.insert_job_results(
            job.id,
            &[(
                Some(job.server_id),
                JobResultRecord {
                    server: job.server.clone(),
                    ok,
                    exit_status: None,
                    stdout: Some(transcript.stdout.clone()),
                    stderr: Some(transcript.stderr.clone()),
                    error_code: error.map(|e| e.code().as_str().to_owned()),
                    error: error.map(ToString::to_string),
                    duration_ms: job.elapsed().as_millis() as u64,
                },
            )],
        )?;
        let state = match error {
            None => JobState::Succeeded,
            Some(e) if e.code() == ErrorCode::Cancelled => JobState::Cancelled,
            Some(_) => JobState::Failed,
        };
        if let Some(e) = error {
            job.saw(e);
        }
        job.server_done(&job.server, error.map(ToString::to_string));
        job.finish(state, u32::from(ok), u32::from(!ok)).await
    }

    /// Runs a read-only script (no job, no progress) and returns what it
    /// reported and its stdout; a non-zero exit is a `WebError::Remote`
    /// saying `what`.
    pub(super) async fn read_script(
        &self,
        server: &ServerRecord,
        script: &Script,
        what: &str,
    ) -> Result<(Report, String)> {
        let target = self.target(server, true).await?;
        let limit = self.pool.config().command_timeout;
        self.script_on(server, &target, script, ("a read", None), limit, what).await
    }

    /// `read_script` on a target already opened, with `input` after the
    /// holder line on its stdin, for at most `limit`.
    pub(super) async fn script_on(
        &self,
        server: &ServerRecord,
        target: &Target,
        script: &Script,
        (holder, input): (&str, Option<Input>),
        limit: std::time::Duration,
        what: &str,
    ) -> Result<(Report, String)> {
        let input = Some(script.stdin(holder, input));
        let out = self.pool.exec_with_input(target, &as_root(server, script), input, limit, &mut |_| {}).await?;
        let report = script.report().read(&out.stdout);
        if !out.success() {
            let detail = match (report.error(), sudo_refused(server, &out.stderr)) {
                (Some(e), _) => e.to_owned(),
                (None, Some(sudo)) => sudo,
                (None, None) => out.stderr.trim().to_owned(),
            };
            return Err(WebError::Remote { server: server.name.to_string(), what: what.to_owned(), detail }.into());
        }
        Ok((report, out.stdout))
    }

    /// Stops a cancelled or timed-out script and whatever it runs, by its
    /// process group (the script prints its PID first), with `kill` on a
    /// new channel: the `signal` request sent when its command was dropped
    /// reaches nothing on a root login (sshd without privilege separation
    /// refuses it). The script's traps then undo what it left half-made.
    async fn stop_script(&self, server: &ServerRecord, target: &Target, pid: u32) {
        let kill = format!("kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid}");
        let command = if server.user.as_str() == "root" {
            kill
        } else {
            format!("sudo -n sh -c {}", quote(&kill).expect("digits and words"))
        };
        if let Err(e) = self.pool.exec(target, &command, &mut |_| {}).await {
            tracing::warn!(server = %server.name, error = %e, "could not stop a cancelled script");
        }
    }

    /// Runs `script` on the job's server with `input` on its stdin. Steps
    /// and other lines stream to the job's sink as they arrive; a non-zero
    /// exit is a `WebError::Remote` carrying the script's own error line.
    /// The report comes back either way: it says how far the script got.
    pub(super) async fn run_script(
        &self,
        server: &ServerRecord,
        script: &Script,
        input: Option<Input>,
        job: &WebJob,
        transcript: &mut Transcript,
        on_event: &mut (dyn FnMut(&RemoteEvent) + Send),
    ) -> (Report, Result<()>) {
        let target = match self.target(server, true).await {
            Ok(t) => t,
            Err(e) => return (Report::default(), Err(e)),
        };
        let mut report = script.report();
        let (jobref, name) = (Arc::clone(&job.job), job.server.clone());
        // The step running now and since when, for its own time limit.
        let current: Arc<Mutex<Option<(String, Instant)>>> = Arc::default();
        let stepping = Arc::clone(&current);
        let mut on_line = |l: OutputLine| {
            if l.stream == Stream::Stdout {
                if let Some(e) = report.push_line(&l.line) {
                    on_event(e);
                    let event = match e {
                        RemoteEvent::Step(step) => {
                            *stepping.lock().unwrap_or_else(|p| p.into_inner()) = Some((step.clone(), Instant::now()));
                            JobEvent::Step { server: name.clone(), step: step.clone() }
                        }
                        RemoteEvent::Changed(t) => output(&name, format!("changed: {t}")),
                        RemoteEvent::Unchanged(t) => output(&name, format!("unchanged: {t}")),
                        RemoteEvent::Error(t) => {
                            JobEvent::Output { server: name.clone(), stream: Stream::Stderr, line: t.clone() }
                        }
                        RemoteEvent::Value(..) | RemoteEvent::Beat => return,
                    };
                    jobref.emit(event);
                    return;
                }
            }
            jobref.output(&name, l.stream, l.line);
        };
        let command = as_root(server, script);
        let overdue = async {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some((step, since)) = now {
                    match self.step_limits.of(&step) {
                        Some(limit) if since.elapsed() > limit => return (step, limit),
                        _ => {}
                    }
                }
            }
        };
        let out = tokio::select! {
            r = self.pool.exec_with_input(&target, &command, Some(script.stdin(&job.holder, input)), self.pool.config().script_timeout, &mut on_line) => {
                r.map_err(Error::from)
            }
            () = job.cancel.cancelled() => Err(Error::Cancelled),
            (step, limit) = overdue => {
                let what = script.name().to_owned();
                Err(WebError::StepTimedOut { server: job.server.clone(), what, step, limit }.into())
            }
        };
        let stopped = |e: &Error| {
            matches!(
                e,
                Error::Cancelled
                    | Error::Ssh(SshError::CommandTimeout { .. })
                    | Error::Web(WebError::StepTimedOut { .. })
            )
        };
        if out.as_ref().err().is_some_and(stopped) {
            if let Some(pid) = report.value("pid").and_then(|p| p.parse::<u32>().ok()).filter(|p| *p > 1) {
                self.stop_script(server, &target, pid).await;
            }
        }
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let step = report.last_step().unwrap_or("start").to_owned();
                let what = stopped_by(&e);
                transcript.stderr.push_str(&format!("{what} during step {step}: {e}\n"));
                return (report, Err(e));
            }
        };
        transcript.stdout.push_str(&out.stdout);
        transcript.stderr.push_str(&out.stderr);
        if out.success() {
            return (report, Ok(()));
        }
        let detail = match (report.error(), sudo_refused(server, &out.stderr)) {
            (Some(e), _) => e.to_owned(),
            (None, Some(sudo)) => sudo,
            (None, None) => {
                let tail: Vec<&str> = out.stderr.lines().rev().take(3).collect();
                let status =
                    out.exit_status.map_or_else(|| format!("killed by {:?}", out.signal), |s| format!("exit {s}"));
                format!("{status}: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | "))
            }
        };
        let e = match report.value("tampered") {
            Some(path) => {
                let found = detail.strip_prefix("site tampered: ").unwrap_or(&detail);
                let found = found.strip_prefix(path).map_or(found, |f| f.trim_start());
                WebError::Tampered {
                    server: job.server.clone(),
                    what: script.name().to_owned(),
                    path: path.to_owned(),
                    detail: found.to_owned(),
                }
            }
            None => WebError::Remote { server: job.server.clone(), what: script.name().to_owned(), detail },
        };
        (report, Err(e.into()))
    }
}

fn output(server: &str, line: String) -> JobEvent {
    JobEvent::Output { server: server.to_owned(), stream: Stream::Stdout, line }
}
