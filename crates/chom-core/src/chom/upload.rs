//! What a deploy sends: a folder as a .tar.gz of only the files that differ
//! from the live release (the server links the others from it, once it
//! has checked they are still what it was made with), a tarball as it is, or nothing (git and
//! downloads are fetched by the server).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::db::{ServerRecord, SiteRecord};
use crate::error::{Error, Result};
use crate::jobs::JobEvent;
use crate::ssh::Input;
use crate::web::bundle::{self, Source};
use crate::web::manifest::{self, Hashed, Manifest, Plan};
use crate::web::Script;

use super::remote::WebJob;
use super::source::DeploySource;
use super::Ctx;

/// The live release and its manifest; empty when there is none to reuse.
#[derive(Debug, Default)]
pub(super) struct LiveManifest {
    pub release: Option<String>,
    pub files: Manifest,
}

/// What a folder deploy knows before it starts: the live release's
/// manifest and the folder's hashes.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    pub live: LiveManifest,
    pub hashed: Option<Hashed>,
}

pub(super) struct Upload {
    pub script: Script,
    pub input: Option<Input>,
    pub sent_files: usize,
    pub reused_files: usize,
}

impl Ctx {
    /// The live release's manifest. Any failure only means a full upload.
    pub(super) async fn live_manifest(&self, site: &SiteRecord, server: &ServerRecord) -> LiveManifest {
        let read = async {
            let script = self.deploy_script("manifest", site)?;
            self.read_script(server, &script, "reading the live manifest").await
        };
        match read.await {
            Ok((report, stdout)) => {
                let release = report.value("base").filter(|b| !b.is_empty()).map(str::to_owned);
                LiveManifest {
                    files: if release.is_some() { manifest::parse(&stdout) } else { Manifest::new() },
                    release,
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "no live manifest; the deploy sends every file");
                LiveManifest::default()
            }
        }
    }

    /// The input stream and script variables of a source.
    pub(super) async fn upload(
        &self,
        source: &DeploySource,
        never_reused: &[&str],
        script: Script,
        job: &WebJob,
        prepared: &Prepared,
    ) -> Result<Upload> {
        let live = &prepared.live;
        match source {
            DeploySource::Folder(folder) => {
                let hashed = match &prepared.hashed {
                    Some(h) => h,
                    None => &hash_folder(folder.clone()).await?,
                };
                let plan = Arc::new(manifest::plan(hashed, &live.files, never_reused));
                let (sent_files, reused_files) = (hashed.len() - plan.reuse.len(), plan.reuse.len());
                let input = stream(Source::Folder(folder.clone()), Some(plan.clone()), plan.send_bytes, job);
                let script = script
                    .var("SOURCE", "tgz")?
                    .var("STRIP", "0")?
                    .var("BASE_RELEASE", live.release.as_deref().unwrap_or(""))?;
                Ok(Upload { script, input: Some(input), sent_files, reused_files })
            }
            DeploySource::Tarball { path, strip } => {
                let src = Source::Tarball(path.clone());
                let (_, total) =
                    bundle::measure(&src).map_err(|e| Error::Usage(format!("cannot read {}: {e}", src.describe())))?;
                let input = stream(src, None, total, job);
                let script = script.var("SOURCE", "tgz")?.var("STRIP", &strip.to_string())?.var("BASE_RELEASE", "")?;
                Ok(Upload { script, input: Some(input), sent_files: 1, reused_files: 0 })
            }
            DeploySource::Git { url, git_ref } => {
                let script =
                    script.var("SOURCE", "git")?.var("GIT_URL", url.as_str())?.var("GIT_REF", git_ref.as_str())?;
                Ok(Upload { script, input: None, sent_files: 0, reused_files: 0 })
            }
            DeploySource::Download { url, sha1, strip } => {
                let script = script
                    .var("SOURCE", "download")?
                    .var("DOWNLOAD_URL", url)?
                    .var("DOWNLOAD_SHA1", sha1.as_deref().unwrap_or("@fetch"))?
                    .var("STRIP", &strip.to_string())?;
                Ok(Upload { script, input: None, sent_files: 0, reused_files: 0 })
            }
        }
    }
}

/// The release stream, reporting sent bytes to the job's sink about once
/// per MiB (and at the end).
fn stream(src: Source, plan: Option<Arc<Plan>>, total: u64, job: &WebJob) -> Input {
    let (sink, server) = (job.job.clone(), job.server.clone());
    let last = Arc::new(AtomicU64::new(0));
    let progress: bundle::Progress = Arc::new(move |sent| {
        let prev = last.load(Ordering::Relaxed);
        if sent >= total || sent - prev >= 1 << 20 {
            last.store(sent, Ordering::Relaxed);
            sink.emit(JobEvent::Transfer { server: server.clone(), sent, total });
        }
    });
    Box::new(bundle::stream(src, plan, progress))
}

/// Hashes a folder's files on the blocking pool.
pub(super) async fn hash_folder(folder: std::path::PathBuf) -> Result<Hashed> {
    let shown = folder.display().to_string();
    tokio::task::spawn_blocking(move || -> std::io::Result<Hashed> {
        if !folder.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"));
        }
        let files = bundle::files(&folder)?;
        manifest::hash_files(&folder, files)
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing the release: {e}")))?
    .map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))
}
