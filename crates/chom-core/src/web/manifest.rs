//! Release manifests: the SHA-256 of every regular file of a release, in
//! `sha256sum` format, kept in the release as `.chom-manifest`. A deploy
//! compares the folder with the live release's manifest and sends only
//! what changed; the server hard-links the rest from the live release,
//! once it has checked that those files are still what that release was
//! made with (the inode, size and mtime it recorded in `.chom-files`).

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Path (relative, `/`-separated) -> lowercase hex SHA-256.
pub type Manifest = HashMap<String, String>;

pub const FILE: &str = ".chom-manifest";
pub const REUSE: &str = ".chom-reuse";

/// A path the manifest format can carry: valid UTF-8 without newlines or
/// backslashes (sha256sum escapes those), and not one of ours.
pub fn listable(rel: &Path) -> Option<String> {
    let s = rel.to_str()?;
    let ok = !s.contains(['\n', '\r', '\\']) && s != FILE && s != REUSE;
    ok.then(|| s.to_owned())
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Parses `sha256sum` lines ("HEX  PATH"); anything else is skipped.
pub fn parse(text: &str) -> Manifest {
    text.lines()
        .filter_map(|l| {
            let (hash, path) = l.split_once("  ")?;
            (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| (path.to_owned(), hash.to_owned()))
        })
        .collect()
}

/// `sha256sum` lines for `entries`, sorted by path.
pub fn render(entries: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort();
    sorted.iter().map(|(path, hash)| format!("{hash}  {path}\n")).collect()
}

/// What a deploy of a folder sends, given the live release's manifest.
#[derive(Debug, Default)]
pub struct Plan {
    /// The folder's manifest (every listable regular file).
    pub manifest: Vec<(String, String)>,
    /// Files the server links from the live release (same path, same hash).
    pub reuse: Vec<String>,
    /// Bytes of the files that are sent.
    pub send_bytes: u64,
    /// Of those, bytes in formats that are compressed already.
    pub packed_bytes: u64,
}

/// Formats whose bytes gzip can not shrink.
const PACKED: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "avif", "ico", "mp4", "webm", "mov", "mp3", "ogg", "m4a", "woff", "woff2",
    "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "pdf", "br",
];

fn packed(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| PACKED.contains(&e.to_ascii_lowercase().as_str()))
}

impl Plan {
    fn send(&mut self, rel: &Path, size: u64) {
        self.send_bytes += size;
        if packed(rel) {
            self.packed_bytes += size;
        }
    }

    pub fn reused(&self, path: &str) -> bool {
        self.reuse.binary_search_by(|p| p.as_str().cmp(path)).is_ok()
    }

    /// Whether gzip pays: less than half of what is sent is in formats
    /// that are compressed already.
    pub fn worth_compressing(&self) -> bool {
        self.packed_bytes * 2 < self.send_bytes
    }

    /// The manifest lines of the reused files: the server links these from
    /// the live release once it finds them listed in its manifest.
    pub fn reused_entries(&self) -> Vec<(String, String)> {
        self.manifest.iter().filter(|(path, _)| self.reused(path)).cloned().collect()
    }
}

/// A folder's regular files with their sizes and hashes (`None` for a
/// name the manifest can not carry: such a file is always sent).
pub type Hashed = Vec<(PathBuf, u64, Option<(String, String)>)>;

/// Hashes `files` (relative to `root`).
pub fn hash_files(root: &Path, files: Vec<(PathBuf, u64)>) -> io::Result<Hashed> {
    files
        .into_iter()
        .map(|(rel, size)| {
            let entry = match listable(&rel) {
                Some(name) => Some((name, sha256_file(&root.join(&rel))?)),
                None => None,
            };
            Ok((rel, size, entry))
        })
        .collect()
}

/// Splits hashed files into sent and reused. Files under `always_send`
/// (the site's shared paths: on the server they are links into shared/,
/// not the release's own files) are always sent.
pub fn plan(files: &Hashed, base: &Manifest, always_send: &[&str]) -> Plan {
    let mut plan = Plan::default();
    for (rel, size, entry) in files {
        let Some((name, hash)) = entry else {
            plan.send(rel, *size);
            continue;
        };
        let shared = always_send.iter().any(|p| name == p || name.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
        if !shared && base.get(name) == Some(hash) {
            plan.reuse.push(name.clone());
        } else {
            plan.send(rel, *size);
        }
        plan.manifest.push((name.clone(), hash.clone()));
    }
    plan.reuse.sort();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_matches_sha256sum() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a b.html"), "hello\n").unwrap();
        let hash = sha256_file(&dir.path().join("a b.html")).unwrap();
        let out = std::process::Command::new("sha256sum").arg("a b.html").current_dir(dir.path()).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), render(&[("a b.html".into(), hash.clone())]));
        let m = parse(&render(&[("a b.html".into(), hash.clone())]));
        assert_eq!(m.get("a b.html"), Some(&hash));
        assert!(listable(Path::new("x\ny")).is_none() && listable(Path::new(FILE)).is_none());
    }

    #[test]
    fn images_turn_compression_off() {
        let mut p = Plan::default();
        p.send(Path::new("a/photo.JPG"), 600);
        p.send(Path::new("a/page.html"), 500);
        assert!(!p.worth_compressing());
        p.send(Path::new("a/app.js"), 200);
        assert!(p.worth_compressing());
    }
}
