//! Small configs, each checked against expectations and, unless it uses
//! `Match exec` or something OpenSSH 9.2 refuses, against the real
//! `ssh -G` on this machine through [`openssh_view`] and [`differences`].

mod basics;
mod differential;
mod fleet_file;
mod include;
mod matching;
mod values;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::*;

/// A home directory of its own (where ssh, given `HOME`, looks for
/// relative includes), with the real local user so `ssh -G` agrees on
/// `%u`, `Match localuser` and the default user.
pub(super) struct Fixture {
    pub dir: tempfile::TempDir,
    pub ctx: Context,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
        let ctx = Context {
            home: dir.path().to_path_buf(),
            local_user: real_user().to_string(),
            local_host: "box.example.org".to_string(),
        };
        Fixture { dir, ctx }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` at `rel`, under the home directory.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.home().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The user's config, `~/.ssh/config`.
    pub fn config(&self, text: &str) -> PathBuf {
        self.write(".ssh/config", text)
    }

    pub fn load(&self) -> SshConfig {
        load(&self.home().join(".ssh/config"), None, &self.ctx).unwrap()
    }

    /// Resolves `alias` and insists OpenSSH agrees on every field compared.
    pub fn resolve(&self, alias: &str) -> ResolvedHost {
        let host = self.load().resolve(alias).unwrap();
        self.agree(alias, &host);
        host
    }

    /// Resolves without asking OpenSSH (for what 9.2 refuses).
    pub fn resolve_alone(&self, alias: &str) -> ResolvedHost {
        self.load().resolve(alias).unwrap()
    }

    pub fn agree(&self, alias: &str, host: &ResolvedHost) {
        let config = self.home().join(".ssh/config");
        match openssh_view(&config, alias, &self.ctx).unwrap() {
            Some(view) => {
                let diff = differences(host, &view, &self.ctx);
                assert!(diff.is_empty(), "{alias}: CHOM and ssh -G disagree: {diff:#?}\nCHOM {host:#?}\nssh {view:#?}");
            }
            None => eprintln!("ssh is not installed; {alias} checked against expectations only"),
        }
    }
}

pub(super) fn real_user() -> &'static str {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| {
        let out = std::process::Command::new("id").arg("-un").output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

pub(super) fn hop(user: Option<&str>, host: &str, port: Option<u16>) -> JumpHost {
    JumpHost { user: user.map(str::to_string), host: host.to_string(), port }
}

pub(super) fn directives(host: &ResolvedHost) -> Vec<&str> {
    host.ignored.iter().map(|i| i.directive.as_str()).collect()
}

pub(super) fn ssh_installed() -> bool {
    std::process::Command::new("ssh").arg("-V").output().is_ok()
}
