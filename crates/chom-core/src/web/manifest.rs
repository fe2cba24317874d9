//! Release manifests: the SHA-256 of every regular file of a release, in
//! `sha256sum` format, kept in the release as `.chom-manifest`. A deploy
//! compares the folder with the live release's manifest and sends only
//! what changed; the server copies the rest from the live release and
//! checks the whole result with `sha256sum -c` before going on.

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
    /// Files to copy on the server from the live release (same path, same hash).
    pub reuse: Vec<String>,
    /// Bytes of the files that are sent.
    pub send_bytes: u64,
}

impl Plan {
    pub fn reused(&self, path: &str) -> bool {
        self.reuse.binary_search_by(|p| p.as_str().cmp(path)).is_ok()
    }
}

/// Hashes the folder's files and splits them into sent and reused. Files
/// under `always_send` (the site's shared paths: on the server they are
/// links into shared/, not the release's own files) are always sent.
pub fn plan(root: &Path, files: &[(PathBuf, u64)], base: &Manifest, always_send: &[&str]) -> io::Result<Plan> {
    let mut plan = Plan::default();
    for (rel, size) in files {
        let Some(name) = listable(rel) else {
            plan.send_bytes += size;
            continue;
        };
        let hash = sha256_file(&root.join(rel))?;
        let shared = always_send.iter().any(|p| name == *p || name.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
        if !shared && base.get(&name) == Some(&hash) {
            plan.reuse.push(name.clone());
        } else {
            plan.send_bytes += size;
        }
        plan.manifest.push((name, hash));
    }
    plan.reuse.sort();
    Ok(plan)
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
}
