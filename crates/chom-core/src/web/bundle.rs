//! A release as a gzip-compressed tar stream, built from a local folder (or
//! a tarball passed through) on a blocking thread while the SSH channel
//! sends it: the release is never written to disk on the desktop.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

use super::manifest::{self, Plan};

/// What goes into a release.
#[derive(Debug, Clone)]
pub enum Source {
    /// A folder on this machine; `.git` folders are left out.
    Folder(PathBuf),
    /// A `.tar.gz` on this machine, sent as it is.
    Tarball(PathBuf),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Folder(p) => format!("folder {}", p.display()),
            Source::Tarball(p) => format!("tarball {}", p.display()),
        }
    }
}

/// Size of what a source holds, for progress: (files, bytes).
pub fn measure(source: &Source) -> io::Result<(u64, u64)> {
    match source {
        Source::Tarball(p) => Ok((1, std::fs::metadata(p)?.len())),
        Source::Folder(root) => {
            if !root.is_dir() {
                return Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a folder", root.display())));
            }
            let mut acc = (0, 0);
            walk(root, Path::new(""), &mut |_, meta| {
                if meta.is_file() {
                    acc.0 += 1;
                    acc.1 += meta.len();
                }
                Ok(())
            })?;
            Ok(acc)
        }
    }
}

/// The regular files under `root` (relative path, size), in name order.
pub fn files(root: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    walk(root, Path::new(""), &mut |rel, meta| {
        if meta.is_file() {
            out.push((rel.to_owned(), meta.len()));
        }
        Ok(())
    })?;
    Ok(out)
}

/// Whether `root` holds nothing a release would carry: no file and no
/// link (`.git` and top-level `.chom-*` do not count).
pub fn holds_nothing(root: &Path) -> io::Result<bool> {
    let mut found = false;
    walk(root, Path::new(""), &mut |_, meta| {
        found |= !meta.is_dir();
        Ok(())
    })?;
    Ok(!found)
}

/// Calls `f` for every entry under `root` (relative path, metadata), in
/// name order, without following symlinks, skipping `.git` and top-level
/// `.chom-*` names.
fn walk(root: &Path, rel: &Path, f: &mut dyn FnMut(&Path, &std::fs::Metadata) -> io::Result<()>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        // `.git` is history, not the site; `.chom-*` at the top are CHOM's
        // own files in a release (manifest, reuse list, partial marker).
        let top_level_chom = rel.as_os_str().is_empty() && e.file_name().to_string_lossy().starts_with(".chom-");
        if e.file_name() == ".git" || top_level_chom {
            continue;
        }
        let path = rel.join(e.file_name());
        let meta = std::fs::symlink_metadata(root.join(&path))?;
        f(&path, &meta)?;
        if meta.is_dir() {
            walk(root, &path, f)?;
        }
    }
    Ok(())
}

/// Bytes of source content read so far (before compression).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Starts streaming `source`; the returned reader yields the `.tar.gz`.
/// A read error (a file vanished) ends the stream early, so the remote tar
/// fails on a truncated archive and the release is never switched live.
///
/// With a `plan`, a folder's files the plan reuses are left out, and the
/// plan's manifest and reuse list are added as `.chom-manifest` and
/// `.chom-reuse` for the server.
pub fn stream(source: Source, plan: Option<Arc<Plan>>, progress: Progress) -> impl AsyncRead + Send + Unpin + 'static {
    let (tx, rx) = mpsc::channel::<Vec<u8>>(16);
    std::thread::spawn(move || {
        let sink = ChunkSender { tx, buf: Vec::with_capacity(CHUNK) };
        let result = match &source {
            Source::Folder(root) => write_folder(root, plan.as_deref(), sink, &progress),
            Source::Tarball(path) => copy_file(path, sink, &progress),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, source = %source.describe(), "building the release stream failed");
        }
    });
    ChunkReader { rx, current: Vec::new(), pos: 0 }
}

const CHUNK: usize = 256 * 1024;

fn write_folder(root: &Path, plan: Option<&Plan>, sink: ChunkSender, progress: &Progress) -> io::Result<()> {
    // Mostly images and archives: gzip would burn CPU on both ends for
    // nothing. Otherwise fast compression: the link should be the limit.
    let level = match plan {
        Some(p) if !p.worth_compressing() => flate2::Compression::none(),
        _ => flate2::Compression::fast(),
    };
    let gz = flate2::write::GzEncoder::new(sink, level);
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut done = 0u64;
    walk(root, Path::new(""), &mut |rel, meta| {
        let full = root.join(rel);
        if meta.is_dir() {
            tar.append_dir(rel, &full)?;
        } else if meta.file_type().is_symlink() {
            tar.append_path_with_name(&full, rel)?;
        } else if meta.is_file() {
            let reused = plan.is_some_and(|p| manifest::listable(rel).is_some_and(|name| p.reused(&name)));
            if !reused {
                tar.append_path_with_name(&full, rel)?;
                done += meta.len();
                progress(done);
            }
        }
        Ok(())
    })?;
    if let Some(plan) = plan {
        let mut add = |name: &str, data: &[u8]| -> io::Result<()> {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, data)
        };
        add(manifest::FILE, manifest::render(&plan.manifest).as_bytes())?;
        add(manifest::REUSE, manifest::render(&plan.reused_entries()).as_bytes())?;
    }
    tar.into_inner()?.finish()?.flush()
}

fn copy_file(path: &Path, mut sink: ChunkSender, progress: &Progress) -> io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0; CHUNK];
    let mut done = 0u64;
    loop {
        let n = io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n])?;
        done += n as u64;
        progress(done);
    }
    sink.flush()
}

struct ChunkSender {
    tx: mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(chunk).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "upload stopped"))
    }
}

struct ChunkReader {
    rx: mpsc::Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl AsyncRead for ChunkReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        while self.pos >= self.current.len() {
            match self.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                // The builder thread ended: end of stream.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = out.remaining().min(self.current.len() - self.pos);
        let start = self.pos;
        out.put_slice(&self.current[start..start + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[test]
    fn a_folder_of_folders_and_git_holds_nothing_but_a_link_counts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("css/empty")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
        std::fs::write(dir.path().join(".chom-manifest"), "").unwrap();
        assert!(holds_nothing(dir.path()).unwrap());
        std::os::unix::fs::symlink("../shared/index.html", dir.path().join("css/index.html")).unwrap();
        assert!(!holds_nothing(dir.path()).unwrap());
    }

    /// The stream is a real .tar.gz: GNU tar lists the files, skips .git,
    /// and keeps a symlink as a symlink.
    #[tokio::test]
    async fn folder_streams_as_a_tar_gz_that_tar_reads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("css")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(dir.path().join("css/site.css"), "body{}").unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
        std::os::unix::fs::symlink("index.html", dir.path().join("home.html")).unwrap();
        assert_eq!(measure(&Source::Folder(dir.path().into())).unwrap(), (2, 17));
        let mut r = stream(Source::Folder(dir.path().into()), None, Arc::new(|_| {}));
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).await.unwrap();
        let out_file = dir.path().join("out.tgz");
        std::fs::write(&out_file, &bytes).unwrap();
        let out = std::process::Command::new("tar").arg("-tvzf").arg(&out_file).output().unwrap();
        let list = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{list}");
        assert!(list.contains("css/site.css") && list.contains("index.html"), "{list}");
        assert!(list.contains("home.html -> index.html"), "{list}");
        assert!(!list.contains(".git"), "{list}");
    }
}
