//! The journal: every job event passes through one thread that stores it in
//! the job's log and only then hands it to the job's sink. A line the
//! operator saw is a line the log kept, even if the process is killed the
//! next instant; and the async workers never wait on SQLite for it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{mpsc, Arc, RwLock};

use chrono::Utc;

use super::{JobEvent, ProgressSink};
use crate::db::{DbResult, LogWriter, NewLogLine};
use crate::ids::JobId;
use crate::ssh::Stream;

/// Lines kept per job; the rest are counted (`jobs.log_dropped`).
pub const MAX_LINES_PER_JOB: u64 = 100_000;
/// Longer lines are cut here (on a character boundary).
pub const MAX_LINE_BYTES: usize = 4096;
/// Events written per transaction at most.
const BATCH: usize = 4096;

enum Msg {
    Event { job_id: JobId, event: JobEvent, sink: ProgressSink },
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Sees every job's events after its own sink did: app-wide views (a
/// Jobs list that updates live) watch all jobs through it.
pub type Observer = Arc<dyn Fn(JobId, &JobEvent) + Send + Sync>;

/// A handle on the journal thread; cheap to clone. The thread ends when
/// the last handle is dropped, after writing what it was sent.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Msg>,
    observer: Arc<RwLock<Option<Observer>>>,
}

impl Journal {
    pub fn start(db_path: &Path) -> DbResult<Journal> {
        let mut writer = LogWriter::open(db_path)?;
        let (tx, rx) = mpsc::channel();
        let observer: Arc<RwLock<Option<Observer>>> = Arc::default();
        let watching = observer.clone();
        std::thread::Builder::new()
            .name("chom-journal".into())
            .spawn(move || run(&mut writer, &rx, &watching))
            .map_err(|e| crate::db::DbError::Corrupt(format!("cannot start the job journal: {e}")))?;
        Ok(Journal { tx, observer })
    }

    /// Sets the one observer of every job's events (replacing any before).
    pub fn observe(&self, observer: Observer) {
        *self.observer.write().unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }

    /// Stores `event` in job `job_id`'s log, then gives it to `sink`.
    pub fn send(&self, job_id: JobId, event: JobEvent, sink: &ProgressSink) {
        // The thread only ends with the last handle, so this cannot fail
        // while `self` lives.
        let _ = self.tx.send(Msg::Event { job_id, event, sink: sink.clone() });
    }

    /// Waits until everything sent before is stored and delivered.
    pub async fn flush(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

fn run(writer: &mut LogWriter, rx: &mpsc::Receiver<Msg>, observer: &RwLock<Option<Observer>>) {
    let mut counts: HashMap<JobId, u64> = HashMap::new();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut lines = Vec::with_capacity(batch.len());
        let mut dropped = Vec::new();
        for m in &batch {
            let Msg::Event { job_id, event, .. } = m else { continue };
            if let Some(line) = log_line(*job_id, event) {
                let n = counts.entry(*job_id).or_default();
                *n += 1;
                if *n <= MAX_LINES_PER_JOB {
                    lines.push(line);
                }
            }
            if matches!(event, JobEvent::Finished { .. }) {
                let n = counts.remove(job_id).unwrap_or(0);
                if n > MAX_LINES_PER_JOB {
                    dropped.push((*job_id, n - MAX_LINES_PER_JOB));
                }
            }
        }
        if let Err(e) = writer.write(&lines) {
            tracing::error!(error = %e, lines = lines.len(), "could not store job log lines");
        }
        for (job, n) in dropped {
            if let Err(e) = writer.dropped(job, n) {
                tracing::error!(error = %e, %job, "could not record a job's dropped log lines");
            }
        }
        let observer = observer.read().unwrap_or_else(|p| p.into_inner()).clone();
        for m in batch {
            match m {
                Msg::Event { job_id, event, sink } => {
                    if let Some(watch) = &observer {
                        watch(job_id, &event);
                    }
                    sink(event);
                }
                Msg::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}

/// The log line an event is kept as; progress counters are not kept.
fn log_line(job_id: JobId, event: &JobEvent) -> Option<NewLogLine> {
    let (server, kind, line) = match event {
        JobEvent::Output { server, stream, line } => {
            (Some(server.clone()), if *stream == Stream::Stderr { "err" } else { "out" }, cut(line))
        }
        JobEvent::Step { server, step } => (Some(server.clone()), "step", cut(step)),
        JobEvent::Note { server, line } => (server.clone(), "note", cut(line)),
        JobEvent::ServerDone { server, ok, error, .. } => {
            let line = match (ok, error) {
                (true, _) => "ok".to_owned(),
                (false, Some(e)) => cut(e),
                (false, None) => "failed".to_owned(),
            };
            (Some(server.clone()), "done", line)
        }
        JobEvent::Finished { state, succeeded, failed, .. } => {
            (None, "note", format!("{}: {succeeded} succeeded, {failed} failed", state.as_str()))
        }
        // The server's failure, logged as its `done` line, names the keys.
        JobEvent::Started { .. } | JobEvent::Transfer { .. } | JobEvent::HostKeyChanged { .. } => return None,
    };
    Some(NewLogLine { job_id, at: Utc::now(), server, kind, line })
}

fn cut(line: &str) -> String {
    if line.len() <= MAX_LINE_BYTES {
        return line.to_owned();
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}
