//! App-wide events: every open view hears of a job that starts or ends
//! (in this process), and of jobs a dead process left that were set
//! against their servers at launch.

use std::sync::Arc;

use chom_core::jobs::JobEvent;
use chom_core::{Chom, Reconciled};

use serde::{Deserialize, Serialize};
use tauri::AppHandle;
use tauri_specta::Event;

/// A job started or ended; views showing jobs, servers or sites reload.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct JobChanged {
    pub job_id: u32,
    /// probe, run, deploy... (on start only)
    pub kind: Option<String>,
    /// running | succeeded | failed | cancelled
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReconciledRow {
    pub job_id: u32,
    pub kind: String,
    pub target: String,
    pub found: String,
    /// False while the server still runs the change; asked again later.
    pub settled: bool,
}

impl From<Reconciled> for ReconciledRow {
    fn from(r: Reconciled) -> Self {
        ReconciledRow { job_id: r.job_id.0 as u32, kind: r.kind, target: r.target, found: r.found, settled: r.settled }
    }
}

/// Interrupted jobs (left by a process that died) and what their servers
/// said: the window asks at launch (`job_reconcile`), every view hears.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct JobsReconciled {
    pub jobs: Vec<ReconciledRow>,
}

/// Forwards job starts and ends to every window.
pub fn start(app: &AppHandle, core: &Arc<Chom>) {
    let handle = app.clone();
    core.jobs().observe_jobs(Arc::new(move |job_id, event| {
        let changed = match event {
            JobEvent::Started { job_kind, .. } => {
                JobChanged { job_id: job_id.0 as u32, kind: Some(job_kind.clone()), state: "running".into() }
            }
            JobEvent::Finished { state, .. } => {
                JobChanged { job_id: job_id.0 as u32, kind: None, state: state.as_str().to_owned() }
            }
            _ => return,
        };
        if let Err(e) = changed.emit(&handle) {
            tracing::warn!(error = %e, "could not tell the windows of a job");
        }
    }));
}
