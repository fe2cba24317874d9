//! Jobs and the audit log, from the cache.

use chom_core::db::{AuditEntry, JobRecord, LogLine};
use chom_core::{JobId, Reconciled, Resumed};
use tauri::State;

use super::blocking;
use crate::{AppState, UiError};

#[tauri::command]
#[specta::specta]
pub async fn job_list(state: State<'_, AppState>, limit: u32) -> Result<Vec<JobRecord>, UiError> {
    blocking(state.core()?, move |c| c.jobs().list(limit)).await
}

/// Job `id`'s log after line `after` (0: from the start), at most `limit`
/// lines; `grep` keeps lines containing it. A running job's log grows:
/// ask again with the last line's `n`.
#[tauri::command]
#[specta::specta]
pub async fn job_log(
    state: State<'_, AppState>,
    id: JobId,
    after: f64,
    grep: Option<String>,
    limit: u32,
) -> Result<Vec<LogLine>, UiError> {
    let grep = grep.filter(|g| !g.trim().is_empty());
    blocking(state.core()?, move |c| c.jobs().job_log(id, grep.as_deref(), after as i64, limit)).await
}

/// Sets jobs a dead process left against their servers now (the window
/// asks at launch); what each server said, told to every view too.
#[tauri::command]
#[specta::specta]
pub async fn job_reconcile(app: tauri::AppHandle, state: State<'_, AppState>) -> Result<Vec<Reconciled>, UiError> {
    use tauri_specta::Event;
    let rows = state.core()?.jobs().reconcile_interrupted().await?;
    if !rows.is_empty() {
        if let Err(e) = (crate::events::JobsReconciled { jobs: rows.clone() }).emit(&app) {
            tracing::warn!(error = %e, "could not tell the windows of reconciled jobs");
        }
    }
    Ok(rows)
}

/// Runs interrupted deploy or setup `id` again; `job_cancel(ticket)` stops it.
#[tauri::command]
#[specta::specta]
pub async fn job_resume(
    state: State<'_, AppState>,
    id: JobId,
    ticket: String,
    on_event: tauri::ipc::Channel<chom_core::jobs::JobEvent>,
) -> Result<Resumed, UiError> {
    let ticket = super::fleet::Ticket::new(&state, ticket);
    Ok(state.core()?.jobs().resume_job(id, &ticket.control(on_event)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn audit_list(
    state: State<'_, AppState>,
    action: Option<String>,
    server: Option<String>,
    limit: u32,
) -> Result<Vec<AuditEntry>, UiError> {
    let filter = chom_core::db::AuditFilter { action, server, limit };
    blocking(state.core()?, move |c| c.jobs().audit_log(&filter)).await
}

/// The servers a job failed on, for "Retry failed".
#[tauri::command]
#[specta::specta]
pub async fn job_failed_servers(state: State<'_, AppState>, id: JobId) -> Result<Vec<String>, UiError> {
    let (_, results) = blocking(state.core()?, move |c| c.jobs().job(id)).await?;
    Ok(results.into_iter().filter(|r| !r.ok).map(|r| r.server).collect())
}
