//! A running job: its row, its log (through the journal), its progress
//! counter, its cancel, and the lease that keeps every other CHOM process
//! on this data directory off its site or server.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{JobEvent, Journal, ProgressSink};
use crate::db::{Db, JobState};
use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::ssh::{SshError, Stream};

/// How often a job holding a lease says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// How the caller watches and stops a job: the one way for the CLI and
/// the app alike.
#[derive(Clone)]
pub struct Control {
    pub sink: ProgressSink,
    pub cancel: CancellationToken,
}

impl Control {
    pub fn new(sink: ProgressSink) -> Control {
        Control { sink, cancel: CancellationToken::new() }
    }

    pub fn with_cancel(sink: ProgressSink, cancel: CancellationToken) -> Control {
        Control { sink, cancel }
    }

    /// No progress, never cancelled.
    pub fn quiet() -> Control {
        Control::new(super::no_progress())
    }
}

/// What a job works on, exclusively among the CHOM processes sharing a
/// data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Site(String),
    Server(String),
    /// A key being rotated away from.
    Key(String),
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Scope::Site(d) => format!("site:{d}"),
            Scope::Server(s) => format!("server:{s}"),
            Scope::Key(k) => format!("key:{k}"),
        }
    }

    pub fn target(&self) -> &str {
        match self {
            Scope::Site(d) | Scope::Server(d) | Scope::Key(d) => d,
        }
    }
}

/// What to start.
pub struct JobSpec<'a> {
    pub kind: &'a str,
    pub detail: &'a str,
    pub total: usize,
    pub scope: Option<Scope>,
    pub os_user: &'a str,
}

struct Lease {
    key: String,
    beat: tokio::task::JoinHandle<()>,
}

pub struct Job {
    pub id: JobId,
    pub kind: String,
    /// Who runs it, as another process that finds its site busy is told.
    pub holder: String,
    pub cancel: CancellationToken,
    total: u32,
    done: AtomicU32,
    sink: ProgressSink,
    journal: Journal,
    db: Arc<Db>,
    lease: Mutex<Option<Lease>>,
    finished: AtomicBool,
    started: Instant,
}

impl Job {
    /// Inserts the job's row and takes its lease; a scope another live
    /// job holds is `Error::Busy`, with no row left behind.
    pub(crate) fn start(db: &Arc<Db>, journal: &Journal, spec: JobSpec<'_>, ctl: &Control) -> Result<Arc<Job>> {
        let target = spec.scope.as_ref().map(Scope::target);
        let id = db.insert_job(spec.kind, spec.detail, spec.os_user, spec.total as u32, target)?;
        let holder = holder(id, spec.kind, spec.os_user);
        let mut lease = None;
        if let Some(scope) = &spec.scope {
            let key = scope.key();
            if let Err(held) = db.take_lease(&key, id, &holder)? {
                db.delete_job(id)?;
                return Err(Error::Busy { what: describe(scope), holder: held.holder });
            }
            let (db, beat_key) = (db.clone(), key.clone());
            let beat = tokio::spawn(async move {
                let mut tick = tokio::time::interval(HEARTBEAT);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let (db, key) = (db.clone(), beat_key.clone());
                    let beat = tokio::task::spawn_blocking(move || db.beat_lease(&key, id)).await;
                    if let Ok(Err(e)) = beat {
                        tracing::warn!(error = %e, job = %id, "could not renew a job's lease");
                    }
                }
            });
            lease = Some(Lease { key, beat });
        }
        journal.send(
            id,
            JobEvent::Started { job_id: id, job_kind: spec.kind.to_owned(), total: spec.total as u32 },
            &ctl.sink,
        );
        Ok(Arc::new(Job {
            id,
            kind: spec.kind.to_owned(),
            holder,
            cancel: ctl.cancel.clone(),
            total: spec.total as u32,
            done: AtomicU32::new(0),
            sink: ctl.sink.clone(),
            journal: journal.clone(),
            db: db.clone(),
            lease: Mutex::new(lease),
            finished: AtomicBool::new(false),
            started: Instant::now(),
        }))
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn sink(&self) -> &ProgressSink {
        &self.sink
    }

    /// Logs `event`, then shows it.
    pub fn emit(&self, event: JobEvent) {
        self.journal.send(self.id, event, &self.sink);
    }

    pub fn output(&self, server: &str, stream: Stream, line: String) {
        self.emit(JobEvent::Output { server: server.to_owned(), stream, line });
    }

    pub fn step(&self, server: &str, step: &str) {
        self.emit(JobEvent::Step { server: server.to_owned(), step: step.to_owned() });
    }

    pub fn note(&self, server: Option<&str>, line: String) {
        self.emit(JobEvent::Note { server: server.map(str::to_owned), line });
    }

    /// What an error means beyond its server's result: a changed host key
    /// is an alert for every view, whichever job met it.
    pub fn saw(&self, e: &Error) {
        if let Error::Ssh(SshError::HostKeyChanged { server, pinned, offered }) = e {
            let (server, pinned, offered) = (server.clone(), pinned.clone(), offered.clone());
            self.emit(JobEvent::HostKeyChanged { server, pinned, offered });
        }
    }

    pub fn server_done(&self, server: &str, error: Option<String>) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let ok = error.is_none();
        self.emit(JobEvent::ServerDone { server: server.to_owned(), ok, error, done, total: self.total });
    }

    /// Ends the job: its row, the last event, the log written through, the
    /// lease given back.
    pub async fn finish(&self, state: JobState, succeeded: u32, failed: u32) -> Result<()> {
        self.finished.store(true, Ordering::Relaxed);
        let stored = self.db.finish_job(self.id, state, succeeded, failed);
        self.emit(JobEvent::Finished { job_id: self.id, state, succeeded, failed });
        self.journal.flush().await;
        self.release();
        Ok(stored?)
    }

    fn release(&self) {
        let lease = self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(lease) = lease {
            lease.beat.abort();
            if let Err(e) = self.db.release_lease(&lease.key, self.id) {
                tracing::warn!(error = %e, job = %self.id, "could not give back a job's lease");
            }
        }
    }
}

impl Drop for Job {
    /// A job dropped without `finish` (an error the caller returned early)
    /// still ends as failed, not `running` until the next launch.
    fn drop(&mut self) {
        if !self.finished.load(Ordering::Relaxed) {
            let failed = self.total.max(self.done.load(Ordering::Relaxed));
            if let Err(e) = self.db.finish_job(self.id, JobState::Failed, 0, failed) {
                tracing::warn!(error = %e, job = %self.id, "could not end a job");
            }
            self.emit(JobEvent::Finished { job_id: self.id, state: JobState::Failed, succeeded: 0, failed });
        }
        self.release();
    }
}

fn describe(scope: &Scope) -> String {
    match scope {
        Scope::Site(d) => format!("site {d}"),
        Scope::Server(s) => format!("server {s}"),
        Scope::Key(k) => format!("key {k}"),
    }
}

fn holder(id: JobId, kind: &str, os_user: &str) -> String {
    let me = crate::process::current();
    let host = sysinfo::System::host_name().filter(|h| !h.is_empty());
    format!("job {id} ({kind}) by {os_user} on {}, process {}", host.as_deref().unwrap_or("a desktop"), me.pid)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use super::*;

    fn open() -> (tempfile::TempDir, Arc<Db>, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let db = Arc::new(Db::open(&dir.path().join("c.sqlite3")).unwrap());
        let journal = Journal::start(db.path()).unwrap();
        (dir, db, journal)
    }

    fn spec(scope: Option<Scope>) -> JobSpec<'static> {
        JobSpec { kind: "deploy", detail: "a.test", total: 1, scope, os_user: "op" }
    }

    /// The sink sees a line only once the log holds it: what the operator
    /// saw survives a kill of the process at any moment after.
    #[tokio::test]
    async fn a_line_is_stored_before_it_is_shown() {
        let (_dir, db, journal) = open();
        let path = db.path().to_owned();
        let seen: Arc<StdMutex<Vec<(String, i64)>>> = Arc::default();
        let sink: ProgressSink = {
            let seen = seen.clone();
            Arc::new(move |e| {
                if let JobEvent::Output { line, .. } = e {
                    let conn = rusqlite::Connection::open(&path).unwrap();
                    let stored: i64 =
                        conn.query_row("SELECT count(*) FROM job_log WHERE line = ?1", [&line], |r| r.get(0)).unwrap();
                    seen.lock().unwrap().push((line, stored));
                }
            })
        };
        let job = Job::start(&db, &journal, spec(None), &Control::new(sink)).unwrap();
        for i in 0..50 {
            job.output("web1", Stream::Stdout, format!("line {i}"));
        }
        job.step("web1", "switch");
        job.finish(JobState::Succeeded, 1, 0).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 50);
        assert!(seen.iter().all(|(_, stored)| *stored == 1), "{seen:?}");
        let log = db.job_log(job.id, None, 0, 1000).unwrap();
        assert_eq!(log.len(), 52, "50 lines, the step, the end");
        assert_eq!(log[0].line, "line 0");
        assert_eq!(log[50].kind, "step");
        assert_eq!(db.job(job.id).unwrap().unwrap().step.as_deref(), Some("switch"));
        assert_eq!(db.job_log(job.id, Some("LINE 4"), 0, 1000).unwrap().len(), 11, "line 4, 40..49");
    }

    /// Two jobs on one site: the second is refused, names the first, and
    /// leaves no row; once the first ends the site is free again.
    #[tokio::test]
    async fn a_site_runs_one_job_at_a_time() {
        let (_dir, db, journal) = open();
        let site = || Some(Scope::Site("a.test".into()));
        let first = Job::start(&db, &journal, spec(site()), &Control::quiet()).unwrap();
        let refused = Job::start(&db, &journal, spec(site()), &Control::quiet()).err().expect("busy");
        match &refused {
            Error::Busy { what, holder } => {
                assert_eq!(what, "site a.test");
                assert!(holder.starts_with(&format!("job {} (deploy) by op on ", first.id)), "{holder}");
            }
            e => panic!("{e}"),
        }
        assert_eq!(db.list_jobs(10).unwrap().len(), 1, "the refused job left no row");
        let other = Job::start(&db, &journal, spec(Some(Scope::Site("b.test".into()))), &Control::quiet()).unwrap();
        first.finish(JobState::Succeeded, 1, 0).await.unwrap();
        let again = Job::start(&db, &journal, spec(site()), &Control::quiet()).unwrap();
        drop(again);
        other.finish(JobState::Succeeded, 1, 0).await.unwrap();
        let jobs = db.list_jobs(10).unwrap();
        assert_eq!(jobs[0].state, JobState::Failed, "a job dropped without finishing ends failed");
        assert!(Job::start(&db, &journal, spec(site()), &Control::quiet()).is_ok(), "dropping gave the lease back");
    }

    #[tokio::test]
    async fn a_job_log_is_bounded() {
        let (_dir, db, journal) = open();
        let job = Job::start(&db, &journal, spec(None), &Control::quiet()).unwrap();
        let n = super::super::MAX_LINES_PER_JOB + 25;
        for i in 0..n {
            job.output("web1", Stream::Stdout, format!("{i}"));
        }
        job.output("web1", Stream::Stdout, "x".repeat(super::super::MAX_LINE_BYTES * 2));
        job.finish(JobState::Succeeded, 1, 0).await.unwrap();
        let rec = db.job(job.id).unwrap().unwrap();
        assert_eq!(rec.log_dropped, 27, "25 lines, the long one and the end over the bound");
        let kept = db.job_log(job.id, None, 0, u32::MAX).unwrap();
        assert_eq!(kept.len() as u64, super::super::MAX_LINES_PER_JOB);
    }
}
