//! Where a release comes from: a folder or a tarball on this machine, or
//! a git repository or a download the server fetches; and what can be
//! checked of it here, before anything is made on a server.

use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::validate::{GitRef, GitUrl, HttpsUrl, ValidationError};
use crate::web::bundle;
use crate::web::SiteKind;

/// Where a release comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploySource {
    /// A folder on this machine, streamed as a .tar.gz.
    Folder(PathBuf),
    /// A .tar.gz on this machine; `strip` leading folders dropped (1 for
    /// WordPress's `wordpress/`).
    Tarball { path: PathBuf, strip: u32 },
    /// Fetched by the server itself.
    Git { url: GitUrl, git_ref: GitRef },
    /// Downloaded by the server; `sha1` checked (or fetched from `URL.sha1`
    /// when `None`).
    Download { url: String, sha1: Option<String>, strip: u32 },
}

impl DeploySource {
    pub(super) fn describe(&self) -> String {
        match self {
            DeploySource::Folder(p) => format!("folder {}", p.display()),
            DeploySource::Tarball { path, .. } => format!("tarball {}", path.display()),
            DeploySource::Git { url, git_ref } => format!("git {url} {git_ref}"),
            DeploySource::Download { url, .. } => format!("download {url}"),
        }
    }
}

/// The sources an operator can name (CLI flags, the app's form), each
/// optional: at most one may be given (a git URL with its ref).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SourceChoice {
    pub folder: Option<PathBuf>,
    pub tarball: Option<PathBuf>,
    pub git_url: Option<String>,
    pub git_ref: Option<String>,
    /// Leading folders dropped from a tarball (default: 1 for WordPress's
    /// `wordpress/`, else 0).
    pub strip: Option<u32>,
}

impl SourceChoice {
    /// The one source given, or none; a git URL and ref are validated.
    pub fn resolve(&self, kind: SiteKind) -> Result<Option<DeploySource>> {
        let strip = self.strip.unwrap_or(u32::from(kind == SiteKind::Wordpress));
        Ok(match (&self.folder, &self.tarball, &self.git_url, &self.git_ref) {
            (Some(p), None, None, None) => Some(DeploySource::Folder(p.clone())),
            (None, Some(p), None, None) => Some(DeploySource::Tarball { path: p.clone(), strip }),
            (None, None, Some(url), r) => Some(DeploySource::Git {
                url: GitUrl::parse(url)?,
                git_ref: GitRef::parse(r.as_deref().unwrap_or(super::defaults::DEFAULT_GIT_REF))?,
            }),
            (None, None, None, None) => None,
            _ => return Err(Error::Usage("give one source: a folder, a .tar.gz, or a git URL (and its ref)".into())),
        })
    }
}

/// What can be checked of a source on this machine, before a site or a
/// release is made: a folder holds files, a tarball is gzip, a download's
/// URL and checksum are well formed.
pub(super) fn check_source(source: &DeploySource) -> Result<()> {
    match source {
        DeploySource::Folder(folder) => {
            let shown = folder.display();
            if !folder.is_dir() {
                return Err(Error::Usage(format!("cannot read {shown}: not a folder")));
            }
            if bundle::holds_nothing(folder).map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))? {
                return Err(Error::Usage(format!("{shown} holds no files (.git is never sent): nothing to deploy")));
            }
        }
        DeploySource::Tarball { path, .. } => {
            let mut head = [0u8; 2];
            let n = std::fs::File::open(path)
                .and_then(|mut f| f.read(&mut head))
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
            if n < 2 || head != [0x1f, 0x8b] {
                return Err(Error::Usage(format!("{} is not a .tar.gz: it does not start as gzip", path.display())));
            }
        }
        DeploySource::Git { .. } => {}
        DeploySource::Download { url, sha1, .. } => {
            HttpsUrl::parse_as("download URL", url)?;
            if let Some(s) = sha1 {
                if s.len() != 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ValidationError::new("sha1", s, "40 hexadecimal digits").into());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(folder: Option<&str>, tarball: Option<&str>, git: Option<(&str, &str)>) -> SourceChoice {
        SourceChoice {
            folder: folder.map(PathBuf::from),
            tarball: tarball.map(PathBuf::from),
            git_url: git.map(|g| g.0.to_owned()),
            git_ref: git.map(|g| g.1.to_owned()),
            strip: None,
        }
    }

    #[test]
    fn one_source_or_none() {
        assert!(choice(None, None, None).resolve(SiteKind::Static).unwrap().is_none());
        assert!(matches!(
            choice(Some("site"), None, None).resolve(SiteKind::Static),
            Ok(Some(DeploySource::Folder(_)))
        ));
        // WordPress's tarball holds `wordpress/`: dropped unless told otherwise.
        assert!(matches!(
            choice(None, Some("wp.tar.gz"), None).resolve(SiteKind::Wordpress),
            Ok(Some(DeploySource::Tarball { strip: 1, .. }))
        ));
        assert!(matches!(
            choice(None, None, Some(("https://git.example.com/a.git", "v1.2"))).resolve(SiteKind::Laravel),
            Ok(Some(DeploySource::Git { .. }))
        ));
        for two in
            [choice(Some("a"), Some("b.tar.gz"), None), choice(Some("a"), None, Some(("https://x.test/a", "main")))]
        {
            assert!(matches!(two.resolve(SiteKind::Static), Err(Error::Usage(_))), "{two:?}");
        }
        let no_ref = SourceChoice { git_url: Some("https://x.test/a".into()), ..Default::default() };
        // No ref: the core's default branch.
        assert!(matches!(no_ref.resolve(SiteKind::Static), Ok(Some(DeploySource::Git { git_ref, .. }))
            if git_ref.as_str() == super::super::defaults::DEFAULT_GIT_REF));
        let ref_alone = SourceChoice { git_ref: Some("main".into()), ..Default::default() };
        assert!(matches!(ref_alone.resolve(SiteKind::Static), Err(Error::Usage(_))));
        let hostile = choice(None, None, Some(("--upload-pack=touch /tmp/pwned", "main")));
        assert!(matches!(hostile.resolve(SiteKind::Static), Err(Error::Invalid(_))));
    }
}
