//! One file between the desktop and a server, both ways, as a job:
//! streamed (memory stays flat whatever the size), resumed from what
//! already arrived when the connection is lost (in the same job, and by a
//! later one after a crash), and checked by SHA-256.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use crate::db::ServerRecord;
use crate::error::{Error, Result};
use crate::ids::JobId;
use crate::jobs::{Control, Job, JobEvent, JobSpec};
use crate::ssh::quote::quote;
use crate::ssh::{Input, SshError, Target};
use crate::validate::RemotePath;
use crate::web::assets::TRANSFER;
use crate::web::script::Report;
use crate::web::{Script, WebError};

use super::remote::{Transcript, WebJob};
use super::{Ctx, Transfers};

/// Attempts per job: the first and its resumes after lost connections.
const ATTEMPTS: u32 = 5;
/// One attempt's time limit: a large file on a slow link.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(6 * 3600);
/// Progress events at most this often.
const TICK: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Serialize)]
pub struct TransferReport {
    pub job_id: JobId,
    pub bytes: u64,
    /// Bytes that were there already (a resumed transfer), at the start.
    pub resumed_from: u64,
    /// Connections used: 1, or more after lost ones.
    pub attempts: u32,
    pub sha256: String,
    pub seconds: f64,
}

/// What a half-made download belongs to, beside it: a resume continues
/// only the same file, unchanged on its server.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct PartOf {
    server: String,
    path: String,
    size: u64,
    mtime: i64,
}

/// Reports progress as bytes pass, at most every `TICK`.
struct Progress {
    job: Arc<Job>,
    server: String,
    total: u64,
    last: Instant,
}

impl Progress {
    fn at(&mut self, done: u64) {
        if self.last.elapsed() >= TICK || done == self.total {
            self.last = Instant::now();
            self.job.emit(JobEvent::Transfer { server: self.server.clone(), sent: done, total: self.total });
        }
    }
}

/// What an upload has read so far: the whole file's hash (its prefix on
/// the server included) and the bytes up to where it is.
#[derive(Clone)]
struct Sent {
    full: Sha256,
    at: u64,
}

/// A file's bytes on their way to an upload's stdin, hashed and counted
/// as they are read.
struct Sending {
    file: tokio::fs::File,
    sent: Arc<Mutex<Sent>>,
    progress: Progress,
}

impl AsyncRead for Sending {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.file).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            let fresh = &buf.filled()[before..];
            let at = {
                let mut s = self.sent.lock().unwrap_or_else(|p| p.into_inner());
                s.full.update(fresh);
                s.at += fresh.len() as u64;
                s.at
            };
            self.progress.at(at);
        }
        polled
    }
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn local_err(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::LocalFile { path: path.to_owned(), what: what.to_owned(), detail: e.to_string() }
}

/// Hashes the first `len` bytes of `path` into `hash`.
fn hash_prefix(path: &Path, len: u64, hash: &mut Sha256) -> Result<()> {
    if len == 0 {
        return Ok(());
    }
    let mut f = std::fs::File::open(path).map_err(|e| local_err(path, "reading", e))?;
    let mut left = len;
    let mut buf = vec![0u8; 256 * 1024];
    while left > 0 {
        let want = left.min(buf.len() as u64) as usize;
        let n = f.read(&mut buf[..want]).map_err(|e| local_err(path, "reading", e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(())
}

impl Transfers<'_> {
    /// Downloads `remote` from `server` into `local` (replaced only once
    /// the whole file arrived and its SHA-256 matches the server's).
    pub async fn download_file(
        &self,
        server: &str,
        remote: &str,
        local: &Path,
        ctl: &Control,
    ) -> Result<TransferReport> {
        let path = RemotePath::parse(remote)?;
        let record = self.server_record(server)?;
        let job = self.transfer_job("download", &format!("{server}:{path} to {}", local.display()), &record, ctl)?;
        let result = self.download_in(&job.job, &record, &path, local).await;
        self.end_web_job(&job, &Transcript::default(), result.as_ref().err()).await?;
        result
    }

    /// Uploads `local` to `remote` on `server` (as root, into a folder only
    /// root can write); the file there is replaced only once all of it
    /// arrived and matched.
    pub async fn upload_file(&self, server: &str, local: &Path, remote: &str, ctl: &Control) -> Result<TransferReport> {
        let path = RemotePath::parse(remote)?;
        let record = self.server_record(server)?;
        let job = self.transfer_job("upload", &format!("{} to {server}:{path}", local.display()), &record, ctl)?;
        let result = self.upload_in(&job.job, &record, local, &path).await;
        self.end_web_job(&job, &Transcript::default(), result.as_ref().err()).await?;
        result
    }
}

impl Ctx {
    /// A transfer's job: one server, no lease (another transfer or change
    /// of the server may run meanwhile).
    fn transfer_job(&self, kind: &str, detail: &str, server: &ServerRecord, ctl: &Control) -> Result<WebJob> {
        let spec = JobSpec { kind, detail, total: 1, scope: None, os_user: &self.os_user };
        Ok(WebJob {
            job: Job::start(&self.db, &self.journal, spec, ctl)?,
            server: server.name.to_string(),
            server_id: server.id,
        })
    }

    /// Runs transfer.sh's `script` with `input` on its stdin; what it reported.
    async fn transfer_script(
        &self,
        server: &ServerRecord,
        target: &Target,
        script: Script,
        input: Option<Input>,
        holder: &str,
    ) -> Result<Report> {
        let what = script.name().to_owned();
        Ok(self.script_on(server, target, &script, (holder, input), ATTEMPT_LIMIT, &what).await?.0)
    }

    fn transfer(action: &str, file: &RemotePath) -> Result<Script> {
        Ok(Script::new("transfer", TRANSFER).var("ACTION", action)?.var("FILE", file.as_str())?)
    }

    async fn download_in(
        &self,
        job: &Arc<Job>,
        server: &ServerRecord,
        path: &RemotePath,
        local: &Path,
    ) -> Result<TransferReport> {
        let started = Instant::now();
        let target = self.target(server, true).await?;
        let info = self.transfer_script(server, &target, Self::transfer("stat", path)?, None, &job.holder).await?;
        let size = info.number("size");
        let mtime: i64 = info.value("mtime").and_then(|s| s.parse().ok()).unwrap_or(0);
        let part = PathBuf::from(format!("{}.chom-part", local.display()));
        let meta = PathBuf::from(format!("{}.chom-part.json", local.display()));
        let this = PartOf { server: server.name.to_string(), path: path.to_string(), size, mtime };
        let same =
            std::fs::read(&meta).ok().and_then(|m| serde_json::from_slice::<PartOf>(&m).ok()).as_ref() == Some(&this);
        let have = if same { std::fs::metadata(&part).map_or(0, |m| m.len()).min(size) } else { 0 };
        std::fs::write(&meta, serde_json::to_vec(&this).expect("plain data"))
            .map_err(|e| local_err(&meta, "writing", e))?;
        let mut hash = Sha256::new();
        hash_prefix(&part, have, &mut hash)?;
        if have > 0 {
            job.note(Some(server.name.as_str()), format!("resuming the download at {have} of {size} bytes"));
        }
        // The server hashes its file while it is sent.
        let remote_sha = self.transfer_script(server, &target, Self::transfer("sha", path)?, None, &job.holder);
        let receive = self.receive(job, server, &target, path, &part, have, size, &mut hash);
        let (remote_sha, received) = tokio::join!(remote_sha, receive);
        let attempts = received?;
        let remote_sha = match remote_sha {
            Ok(r) => r,
            // Lost with the connection the data resumed after: ask again.
            Err(Error::Ssh(e)) if e.is_retryable() => {
                self.transfer_script(server, &target, Self::transfer("sha", path)?, None, &job.holder).await?
            }
            Err(e) => return Err(e),
        };
        let remote_sha = remote_sha.value("sha256").unwrap_or_default().to_owned();
        let sha = hex(hash.finalize());
        if sha != remote_sha {
            let _ = std::fs::remove_file(&part);
            let _ = std::fs::remove_file(&meta);
            return Err(WebError::Remote {
                server: server.name.to_string(),
                what: "download".into(),
                detail: format!(
                    "{path} does not match the server's SHA-256 ({sha} here, {remote_sha} there; the file may have changed while it was sent): nothing was kept, download it again"
                ),
            }
            .into());
        }
        std::fs::rename(&part, local).map_err(|e| local_err(local, "moving the download into place at", e))?;
        let _ = std::fs::remove_file(&meta);
        Ok(TransferReport {
            job_id: job.id,
            bytes: size,
            resumed_from: have,
            attempts,
            sha256: sha,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Streams the file from `have` into `part` until it holds `size`
    /// bytes, resuming after lost connections; returns the attempts used.
    #[allow(clippy::too_many_arguments)]
    async fn receive(
        &self,
        job: &Arc<Job>,
        server: &ServerRecord,
        target: &Target,
        path: &RemotePath,
        part: &Path,
        mut have: u64,
        size: u64,
        hash: &mut Sha256,
    ) -> Result<u32> {
        let mut progress =
            Progress { job: job.clone(), server: server.name.to_string(), total: size, last: Instant::now() };
        let mut attempt = 0;
        while have < size || attempt == 0 {
            attempt += 1;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(part)
                .map_err(|e| local_err(part, "writing", e))?;
            // Whatever lies past what was hashed is cut: it is sent again.
            file.set_len(have)
                .and_then(|()| file.seek(SeekFrom::Start(have)).map(drop))
                .map_err(|e| local_err(part, "writing", e))?;
            let tail = format!("tail -c +{} -- {}", have + 1, quote(path.as_str()).expect("validated: no NUL"));
            let command = if server.user.as_str() == "root" { tail } else { format!("sudo -n {tail}") };
            let mut sink = |data: &[u8]| -> std::io::Result<()> {
                file.write_all(data)?;
                hash.update(data);
                have += data.len() as u64;
                progress.at(have);
                Ok(())
            };
            let mut no_lines = |_| {};
            let run = self.pool.exec_streaming(target, &command, None, ATTEMPT_LIMIT, &mut no_lines, Some(&mut sink));
            let out = tokio::select! {
                r = run => r,
                () = job.cancel.cancelled() => return Err(Error::Cancelled),
            };
            match out {
                Ok(out) if out.success() && have == size => return Ok(attempt),
                Ok(out) if out.success() => {
                    return Err(WebError::Remote {
                        server: server.name.to_string(),
                        what: "download".into(),
                        detail: format!(
                            "{path} changed size while it was sent ({have} bytes arrived, {size} expected): download it again"
                        ),
                    }
                    .into())
                }
                Ok(out) => {
                    return Err(WebError::Remote {
                        server: server.name.to_string(),
                        what: "download".into(),
                        detail: out.stderr.trim().to_owned(),
                    }
                    .into())
                }
                Err(e) if e.is_retryable() && attempt < ATTEMPTS => {
                    let wait = Duration::from_secs(1 << (attempt - 1));
                    job.note(
                        Some(server.name.as_str()),
                        format!("connection lost at {have} of {size} bytes ({e}); resuming in {wait:?}"),
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(SshError::LocalWrite { detail, .. }) => {
                    return Err(Error::LocalFile { path: part.to_owned(), what: "writing".into(), detail })
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(attempt)
    }

    async fn upload_in(
        &self,
        job: &Arc<Job>,
        server: &ServerRecord,
        local: &Path,
        path: &RemotePath,
    ) -> Result<TransferReport> {
        let started = Instant::now();
        let size = std::fs::metadata(local).map_err(|e| local_err(local, "reading", e))?.len();
        let target = self.target(server, true).await?;
        let (mut first, mut attempt) = (None, 0);
        let full = loop {
            attempt += 1;
            let at = self.transfer_script(server, &target, Self::transfer("offset", path)?, None, &job.holder).await?;
            let mut offset = at.number("offset");
            let mut full = Sha256::new();
            if offset > 0 {
                hash_prefix(local, offset.min(size), &mut full)?;
                let same = offset <= size && at.value("part_sha256") == Some(hex(full.clone().finalize()).as_str());
                if same {
                    job.note(Some(server.name.as_str()), format!("resuming the upload at {offset} of {size} bytes"));
                } else {
                    job.note(
                        Some(server.name.as_str()),
                        "a half-made upload of another file was there: starting over".into(),
                    );
                    offset = 0;
                    full = Sha256::new();
                }
            }
            first.get_or_insert(offset);
            let mut file = tokio::fs::File::open(local).await.map_err(|e| local_err(local, "reading", e))?;
            tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(offset))
                .await
                .map_err(|e| local_err(local, "reading", e))?;
            let sent = Arc::new(Mutex::new(Sent { full, at: offset }));
            let progress =
                Progress { job: job.clone(), server: server.name.to_string(), total: size, last: Instant::now() };
            let sending = Sending { file, sent: sent.clone(), progress };
            let script = Self::transfer("put", path)?.var("RESET", if offset == 0 { "1" } else { "" })?;
            let put = self.transfer_script(server, &target, script, Some(Box::new(sending)), &job.holder);
            let put = tokio::select! {
                r = put => r,
                () = job.cancel.cancelled() => return Err(Error::Cancelled),
            };
            let Sent { full, .. } = sent.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match put {
                Ok(report) => {
                    let arrived = report.number("size");
                    if report.value("sha256") != Some(hex(full.clone().finalize()).as_str()) || arrived != size {
                        return Err(WebError::Remote {
                            server: server.name.to_string(),
                            what: "upload".into(),
                            detail: format!(
                                "{path} did not arrive whole ({arrived} of {size} bytes, or not what was sent): upload it again"
                            ),
                        }
                        .into());
                    }
                    break full;
                }
                Err(Error::Ssh(e)) if e.is_retryable() && attempt < ATTEMPTS => {
                    let wait = Duration::from_secs(1 << (attempt - 1));
                    job.note(
                        Some(server.name.as_str()),
                        format!("connection lost during the upload ({e}); resuming in {wait:?}"),
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        };
        let sha = hex(full.finalize());
        let finish = Self::transfer("finish", path)?.var("SIZE", &size.to_string())?;
        self.transfer_script(server, &target, finish, None, &job.holder).await?;
        Ok(TransferReport {
            job_id: job.id,
            bytes: size,
            resumed_from: first.unwrap_or(0),
            attempts: attempt,
            sha256: sha,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
