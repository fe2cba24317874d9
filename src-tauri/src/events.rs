//! App-wide events: every open view hears of a job that starts or ends
//! (in this process), of a changed host key whichever job met it, and of
//! jobs a dead process left that were set against their servers at launch.

use std::sync::Arc;

use chom_core::jobs::JobEvent;
use chom_core::{Chom, JobId, Reconciled};

use serde::Serialize;
use tauri::AppHandle;
use tauri_specta::Event;

/// A job started or ended; views showing jobs, servers or sites reload.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct JobChanged {
    pub job_id: JobId,
    /// probe, run, deploy... (on start only)
    pub kind: Option<String>,
    /// running | succeeded | failed | cancelled
    pub state: String,
}

/// A server offered another host key than the pinned one (nothing ran
/// there): the window raises its blocking alert.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct HostKeyAlert {
    pub server: String,
    pub pinned: String,
    pub offered: String,
}

/// Interrupted jobs (left by a process that died) and what their servers
/// said: the window asks at launch (`job_reconcile`), every view hears.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct JobsReconciled {
    pub jobs: Vec<Reconciled>,
}

/// Forwards job starts and ends, and changed host keys, to every window.
pub fn start(app: &AppHandle, core: &Arc<Chom>) {
    let handle = app.clone();
    core.jobs().observe_jobs(Arc::new(move |job_id, event| {
        let sent = match event {
            JobEvent::Started { job_kind, .. } => {
                JobChanged { job_id, kind: Some(job_kind.clone()), state: "running".into() }.emit(&handle)
            }
            JobEvent::Finished { state, .. } => {
                JobChanged { job_id, kind: None, state: state.as_str().to_owned() }.emit(&handle)
            }
            JobEvent::HostKeyChanged { server, pinned, offered } => {
                let (server, pinned, offered) = (server.clone(), pinned.clone(), offered.clone());
                HostKeyAlert { server, pinned, offered }.emit(&handle)
            }
            _ => return,
        };
        if let Err(e) = sent {
            tracing::warn!(error = %e, "could not tell the windows of a job");
        }
    }));
}
