//! Jobs and the audit log, from the cache.

use serde::Serialize;
use tauri::State;

use crate::{AppState, UiError};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct JobRow {
    pub id: u32,
    pub kind: String,
    pub detail: String,
    /// running | succeeded | failed | cancelled | interrupted
    pub state: String,
    pub os_user: String,
    pub total: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The site or server a single-target job works on.
    pub target: Option<String>,
    /// The last step it reached.
    pub step: Option<String>,
    /// Interrupted: what its server said it was left with.
    pub reconciled: Option<String>,
    /// Log lines over the job's bound, not kept.
    pub log_dropped: u32,
}

/// One line of a job's log; `n` orders them (ask for lines after it).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LogRow {
    pub n: f64,
    pub at: String,
    pub server: Option<String>,
    /// out | err | step | done | note
    pub kind: String,
    pub line: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    pub id: u32,
    pub at: String,
    pub os_user: String,
    pub action: String,
    pub server: Option<String>,
    pub target: Option<String>,
    pub result: String,
    pub detail: String,
}

impl From<chom_core::db::JobRecord> for JobRow {
    fn from(j: chom_core::db::JobRecord) -> Self {
        JobRow {
            id: j.id.0 as u32,
            kind: j.kind,
            detail: j.detail,
            state: j.state.as_str().to_owned(),
            os_user: j.os_user,
            total: j.total,
            succeeded: j.succeeded,
            failed: j.failed,
            started_at: j.started_at.to_rfc3339(),
            finished_at: j.finished_at.map(|t| t.to_rfc3339()),
            target: j.target,
            step: j.step,
            reconciled: j.reconciled,
            log_dropped: j.log_dropped.min(u64::from(u32::MAX)) as u32,
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn job_list(state: State<'_, AppState>, limit: u32) -> Result<Vec<JobRow>, UiError> {
    Ok(state.core()?.jobs().list(limit)?.into_iter().map(JobRow::from).collect())
}

/// Job `id`'s log after line `after` (0: from the start), at most `limit`
/// lines; `grep` keeps lines containing it. A running job's log grows:
/// ask again with the last line's `n`.
#[tauri::command]
#[specta::specta]
pub async fn job_log(
    state: State<'_, AppState>,
    id: u32,
    after: f64,
    grep: Option<String>,
    limit: u32,
) -> Result<Vec<LogRow>, UiError> {
    let grep = grep.filter(|g| !g.trim().is_empty());
    let lines = state.core()?.jobs().job_log(chom_core::JobId(i64::from(id)), grep.as_deref(), after as i64, limit)?;
    Ok(lines
        .into_iter()
        .map(|(n, l)| LogRow { n: n as f64, at: l.at.to_rfc3339(), server: l.server, kind: l.kind, line: l.line })
        .collect())
}

/// Sets jobs a dead process left against their servers now (the window
/// asks at launch); what each server said, told to every view too.
#[tauri::command]
#[specta::specta]
pub async fn job_reconcile(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<Vec<crate::events::ReconciledRow>, UiError> {
    use tauri_specta::Event;
    let rows: Vec<crate::events::ReconciledRow> =
        state.core()?.jobs().reconcile_interrupted().await?.into_iter().map(Into::into).collect();
    if !rows.is_empty() {
        if let Err(e) = (crate::events::JobsReconciled { jobs: rows.clone() }).emit(&app) {
            tracing::warn!(error = %e, "could not tell the windows of reconciled jobs");
        }
    }
    Ok(rows)
}

/// The job that ran an interrupted one again.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ResumedRow {
    pub job_id: u32,
    pub kind: String,
    pub target: String,
    pub outcome: String,
}

/// Runs interrupted deploy or setup `id` again; `job_cancel(ticket)` stops it.
#[tauri::command]
#[specta::specta]
pub async fn job_resume(
    state: State<'_, AppState>,
    id: u32,
    ticket: String,
    on_event: tauri::ipc::Channel<super::fleet::JobProgress>,
) -> Result<ResumedRow, UiError> {
    let ticket = super::fleet::Ticket::new(&state, ticket);
    let r = state.core()?.jobs().resume_job(chom_core::JobId(i64::from(id)), &ticket.control(on_event)).await?;
    Ok(ResumedRow { job_id: r.job_id.0 as u32, kind: r.kind, target: r.target, outcome: r.outcome })
}

#[tauri::command]
#[specta::specta]
pub async fn audit_list(
    state: State<'_, AppState>,
    action: Option<String>,
    server: Option<String>,
    limit: u32,
) -> Result<Vec<AuditRow>, UiError> {
    let filter = chom_core::db::AuditFilter { action, server, limit };
    let rows = state.core()?.jobs().audit_log(&filter)?;
    Ok(rows
        .into_iter()
        .map(|a| AuditRow {
            id: a.id as u32,
            at: a.at.to_rfc3339(),
            os_user: a.os_user,
            action: a.action,
            server: a.server,
            target: a.target,
            result: a.result,
            detail: a.detail,
        })
        .collect())
}

/// The servers a job failed on, for "Retry failed".
#[tauri::command]
#[specta::specta]
pub async fn job_failed_servers(state: State<'_, AppState>, id: u32) -> Result<Vec<String>, UiError> {
    let (_, results) = state.core()?.jobs().job(chom_core::JobId(i64::from(id)))?;
    Ok(results.into_iter().filter(|r| !r.ok).map(|r| r.server).collect())
}
