//! Probe and run: jobs that stream their progress to the UI over a channel
//! and can be cancelled by the ticket the UI chose.

use std::sync::Arc;

use chom_core::jobs::{Control, JobEvent};
use chom_core::Selection;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use crate::{AppState, UiError};

/// Progress of a job, as the UI receives it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum JobProgress {
    Started {
        job_id: u32,
        total: u32,
    },
    Output {
        server: String,
        stream: String,
        line: String,
    },
    /// A step of a site operation began (upload, build, health, switch...).
    Step {
        server: String,
        step: String,
    },
    /// Something the job itself says (a retry, a reconciliation).
    Note {
        server: Option<String>,
        line: String,
    },
    /// Bytes of a release sent so far (numbers: JS has no u64).
    Transfer {
        server: String,
        sent: f64,
        total: f64,
    },
    ServerDone {
        server: String,
        ok: bool,
        error: Option<String>,
        done: u32,
        total: u32,
    },
    Finished {
        job_id: u32,
        state: String,
        succeeded: u32,
        failed: u32,
    },
}

impl From<JobEvent> for JobProgress {
    fn from(e: JobEvent) -> Self {
        match e {
            JobEvent::Started { job_id, total, .. } => JobProgress::Started { job_id: job_id.0 as u32, total },
            JobEvent::Output { server, stream, line } => {
                JobProgress::Output { server, stream: stream.as_str().to_owned(), line }
            }
            JobEvent::ServerDone { server, ok, error, done, total } => {
                JobProgress::ServerDone { server, ok, error, done, total }
            }
            JobEvent::Step { server, step } => JobProgress::Step { server, step },
            JobEvent::Note { server, line } => JobProgress::Note { server, line },
            // Every window raises the alert (events::HostKeyAlert); the
            // operation's own log says it too.
            JobEvent::HostKeyChanged { server, pinned, offered } => JobProgress::Note {
                line: format!("{server}: host key changed (pinned {pinned}, now offered {offered}); nothing ran there"),
                server: Some(server),
            },
            JobEvent::Transfer { server, sent, total } => {
                JobProgress::Transfer { server, sent: sent as f64, total: total as f64 }
            }
            JobEvent::Finished { job_id, state, succeeded, failed } => {
                JobProgress::Finished { job_id: job_id.0 as u32, state: state.as_str().to_owned(), succeeded, failed }
            }
        }
    }
}

/// One server's outcome of a probe or run.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerOutcome {
    pub server: String,
    pub ok: bool,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub exit_status: Option<u32>,
    pub stdout: String,
    pub stderr: String,
    pub duration_ms: u32,
}

impl ServerOutcome {
    fn new(server: String, ok: bool, code: Option<chom_core::ErrorCode>, error: Option<String>, ms: u64) -> Self {
        ServerOutcome {
            server,
            ok,
            error_code: code.map(|c| c.as_str().to_owned()),
            error,
            exit_status: None,
            stdout: String::new(),
            stderr: String::new(),
            duration_ms: ms as u32,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct JobOutcome {
    pub job_id: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub results: Vec<ServerOutcome>,
}

/// Registers a cancel handle under the UI's ticket for the job's lifetime.
pub(crate) struct Ticket<'a> {
    state: &'a AppState,
    ticket: String,
    pub(crate) token: CancellationToken,
}

impl<'a> Ticket<'a> {
    pub(crate) fn new(state: &'a AppState, ticket: String) -> Self {
        let token = CancellationToken::new();
        state.running.lock().unwrap_or_else(|p| p.into_inner()).insert(ticket.clone(), token.clone());
        Ticket { state, ticket, token }
    }

    /// How the job started under this ticket is watched (the UI's
    /// channel) and stopped (`job_cancel` with the ticket).
    pub(crate) fn control(&self, channel: Channel<JobProgress>) -> Control {
        Control::with_cancel(progress_sink(channel), self.token.clone())
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.state.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.ticket);
    }
}

fn selection(names: Vec<String>) -> Selection {
    Selection { all: names.is_empty(), names, ..Default::default() }
}

/// Forwards a job's events to the UI's channel.
pub(crate) fn progress_sink(channel: Channel<JobProgress>) -> chom_core::jobs::ProgressSink {
    Arc::new(move |e| {
        let _ = channel.send(JobProgress::from(e));
    })
}

/// Probes the named servers (all when `names` is empty).
#[tauri::command]
#[specta::specta]
pub async fn fleet_probe(
    state: State<'_, AppState>,
    names: Vec<String>,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<JobOutcome, UiError> {
    let core = state.core()?;
    let ticket = Ticket::new(&state, ticket);
    let r = core.fleet().probe(&selection(names), &ticket.control(on_event)).await?;
    let results =
        r.results.into_iter().map(|o| ServerOutcome::new(o.server, o.ok, o.error_code, o.error, o.duration_ms));
    Ok(JobOutcome { job_id: r.job_id.0 as u32, succeeded: r.succeeded, failed: r.failed, results: results.collect() })
}

/// Runs a shell command on the named servers, streaming their output.
#[tauri::command]
#[specta::specta]
pub async fn fleet_run(
    state: State<'_, AppState>,
    names: Vec<String>,
    command: String,
    ticket: String,
    on_event: Channel<JobProgress>,
) -> Result<JobOutcome, UiError> {
    if names.is_empty() {
        return Err(UiError::new(chom_core::ErrorCode::InvalidInput, "select the servers to run the command on"));
    }
    let core = state.core()?;
    let ticket = Ticket::new(&state, ticket);
    let r = core.fleet().run(&selection(names), &command, &ticket.control(on_event)).await?;
    let results = r.results.into_iter().map(|o| ServerOutcome {
        exit_status: o.exit_status,
        stdout: o.stdout,
        stderr: o.stderr,
        ..ServerOutcome::new(o.server, o.ok, o.error_code, o.error, o.duration_ms)
    });
    Ok(JobOutcome { job_id: r.job_id.0 as u32, succeeded: r.succeeded, failed: r.failed, results: results.collect() })
}

/// Cancels the job started with this ticket; unknown tickets are ignored
/// (the job may have finished).
#[tauri::command]
#[specta::specta]
pub async fn job_cancel(state: State<'_, AppState>, ticket: String) -> Result<(), UiError> {
    if let Some(token) = state.running.lock().unwrap_or_else(|p| p.into_inner()).get(&ticket) {
        token.cancel();
    }
    Ok(())
}
