//! Jobs: every action is a row with per-server results and a stored log,
//! reports its progress as typed events to a sink the caller passes (the app
//! forwards them over a Tauri channel, the CLI draws a progress line), and
//! holds a lease on the site or server it changes.

mod job;
mod journal;

pub use job::{Control, Job, JobSpec, Scope};
pub use journal::{Journal, Observer, MAX_LINES_PER_JOB, MAX_LINE_BYTES};

use std::sync::Arc;

use serde::Serialize;

use crate::db::JobState;
use crate::ids::JobId;
use crate::ssh::Stream;

/// A job's progress, as the CLI's progress line and the app's views (over
/// their channel, as it is) receive it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobEvent {
    Started {
        job_id: JobId,
        job_kind: String,
        total: u32,
    },
    Output {
        server: String,
        stream: Stream,
        line: String,
    },
    /// A step of a remote operation began (upload, build, health, switch...).
    Step {
        server: String,
        step: String,
    },
    /// Something the job itself says (a retry, a reconciliation).
    Note {
        server: Option<String>,
        line: String,
    },
    /// Bytes of a release or a file read and sent so far, of `total`.
    Transfer {
        server: String,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        sent: u64,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        total: u64,
    },
    /// A server offered another host key than the one pinned: nothing was
    /// sent or run there. Every open view of the app raises its alert.
    HostKeyChanged {
        server: String,
        pinned: String,
        offered: String,
    },
    ServerDone {
        server: String,
        ok: bool,
        error: Option<String>,
        done: u32,
        total: u32,
    },
    Finished {
        job_id: JobId,
        state: JobState,
        succeeded: u32,
        failed: u32,
    },
}

/// Where progress goes. Must be cheap and never block.
pub type ProgressSink = Arc<dyn Fn(JobEvent) + Send + Sync>;

/// A sink that drops everything.
pub fn no_progress() -> ProgressSink {
    Arc::new(|_| {})
}

/// The name of the OS account running CHOM, for jobs and the audit log:
/// the login name from the environment, else the account of this process's
/// user id (Linux), else "unknown".
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .or_else(account_of_uid)
        .unwrap_or_else(|| "unknown".into())
}

fn account_of_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_owned())
    })
}
