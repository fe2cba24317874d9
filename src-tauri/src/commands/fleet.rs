//! Probe and run: jobs that stream their progress to the UI over a channel
//! and can be cancelled by the ticket the UI chose.

use std::sync::Arc;

use chom_core::jobs::{Control, JobEvent};
use chom_core::{ProbeReport, RunReport, Selection};
use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use crate::{AppState, UiError};

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
    pub(crate) fn control(&self, channel: Channel<JobEvent>) -> Control {
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
pub(crate) fn progress_sink(channel: Channel<JobEvent>) -> chom_core::jobs::ProgressSink {
    Arc::new(move |e| {
        let _ = channel.send(e);
    })
}

/// Probes the named servers (all when `names` is empty).
#[tauri::command]
#[specta::specta]
pub async fn fleet_probe(
    state: State<'_, AppState>,
    names: Vec<String>,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<ProbeReport, UiError> {
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.fleet().probe(&selection(names), &ticket.control(on_event)).await?)
}

/// Runs a shell command on the named servers, streaming their output.
#[tauri::command]
#[specta::specta]
pub async fn fleet_run(
    state: State<'_, AppState>,
    names: Vec<String>,
    command: String,
    ticket: String,
    on_event: Channel<JobEvent>,
) -> Result<RunReport, UiError> {
    if names.is_empty() {
        return Err(UiError::new(chom_core::ErrorCode::InvalidInput, "select the servers to run the command on"));
    }
    let ticket = Ticket::new(&state, ticket);
    Ok(state.core()?.fleet().run(&selection(names), &command, &ticket.control(on_event)).await?)
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
