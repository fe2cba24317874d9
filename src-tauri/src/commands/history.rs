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
            id: j.id as u32,
            kind: j.kind,
            detail: j.detail,
            state: j.state.as_str().to_owned(),
            os_user: j.os_user,
            total: j.total,
            succeeded: j.succeeded,
            failed: j.failed,
            started_at: j.started_at.to_rfc3339(),
            finished_at: j.finished_at.map(|t| t.to_rfc3339()),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn job_list(state: State<'_, AppState>, limit: u32) -> Result<Vec<JobRow>, UiError> {
    Ok(state.core()?.jobs(limit)?.into_iter().map(JobRow::from).collect())
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
    let rows = state.core()?.audit_log(&filter)?;
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
    let (_, results) = state.core()?.job(i64::from(id))?;
    Ok(results.into_iter().filter(|r| !r.ok).map(|r| r.server).collect())
}
