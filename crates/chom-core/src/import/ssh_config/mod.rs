//! OpenSSH client configuration, evaluated per host as `ssh -G` does.
//!
//! The spec is ssh_config(5) and OpenSSH's readconf.c/ssh.c (9.2, the
//! oracle the tests run, with the keyword list of later releases so newer
//! configs are "ignored", not "unknown"). [`load`] reads the user's file and
//! optionally the system one after it, resolving every `Include` once;
//! [`SshConfig::resolve`] evaluates one alias: first value wins, Host and
//! Match blocks, the second "final" pass, tokens. CHOM carries HostName,
//! Port, User, IdentityFile, IdentitiesOnly, IdentityAgent and ProxyJump;
//! every other directive that applies is listed per host as ignored.
//!
//! Values are data: nothing from the config is ever run. `Match exec` is
//! treated as not matching (with a warning), and [`openssh_view`] runs only
//! `ssh -G`, refusing configs that use `Match exec`.

mod error;
mod eval;
mod expand;
mod glob;
mod jump;
mod keywords;
mod lex;
mod openssh;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use error::SshConfigError;
pub use openssh::{differences, openssh_view, OpensshView};

/// Who is asking: what `%u`, `%d`, `%l`, `~` and `Match localuser` mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub home: PathBuf,
    pub local_user: String,
    /// With its domain (`%l`); `%L` is the part before the first dot.
    pub local_host: String,
}

/// Something OpenSSH would object to, or CHOM could not follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub file: PathBuf,
    /// 1-based; 0 when it is about the whole file.
    pub line: u32,
    pub text: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.text),
            n => write!(f, "{}:{n}: {}", self.file.display(), self.text),
        }
    }
}

/// A directive that applies to the host but that CHOM does not carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// As documented (`LocalForward`), or as written when unknown.
    pub directive: String,
    pub file: PathBuf,
    pub line: u32,
    /// `ignored: LocalForward`, with why when there is more to say.
    pub reason: String,
}

/// One hop of a ProxyJump chain, in the order ssh goes through them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// One alias as OpenSSH would connect to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedHost {
    pub alias: String,
    /// HostName with `%h` expanded, or the alias; lowercased unless an address.
    pub hostname: String,
    pub port: u16,
    /// `None`: ssh uses the local user name.
    pub user: Option<String>,
    /// In order, tokens and `~` expanded; empty when none is configured
    /// (ssh then tries its default key names).
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub identity_agent: Option<String>,
    /// Empty for none, including `ProxyJump none`.
    pub proxy_jump: Vec<JumpHost>,
    /// Recorded, not supported: CHOM does not run proxy commands.
    pub proxy_command: Option<String>,
    pub ignored: Vec<Ignored>,
    /// What this host's evaluation ran into (a skipped `Match exec` block...).
    pub warnings: Vec<Warning>,
}

/// The files as read, ready to answer for any alias.
#[derive(Debug)]
pub struct SshConfig {
    ctx: Context,
    files: Vec<PathBuf>,
    user: Vec<parse::Entry>,
    system: Option<Vec<parse::Entry>>,
    warnings: Vec<Warning>,
    hosts: Vec<String>,
    match_exec: bool,
    ignore_patterns: Vec<String>,
}

/// Reads `user_config` (which must exist) and then `system_config` if given
/// (skipped when missing), as ssh reads `~/.ssh/config` and
/// `/etc/ssh/ssh_config` without `-F`. Fails only on what stops every host:
/// an unreadable user file, an Include loop or nesting deeper than OpenSSH's 16.
pub fn load(user_config: &Path, system_config: Option<&Path>, ctx: &Context) -> Result<SshConfig, SshConfigError> {
    let mut loader = parse::Loader::new(ctx);
    let user = loader.root(user_config, true)?;
    let system = system_config.map(|p| loader.root(p, false)).transpose()?;
    loader.finish();
    let warnings = loader
        .warnings
        .iter()
        .map(|(f, line, text)| Warning { file: loader.files[*f].clone(), line: *line, text: text.clone() })
        .collect();
    Ok(SshConfig {
        ctx: ctx.clone(),
        files: loader.files,
        user,
        system,
        warnings,
        hosts: loader.hosts,
        match_exec: loader.match_exec,
        ignore_patterns: loader.ignore_patterns,
    })
}

impl SshConfig {
    /// The concrete aliases (Host patterns without `*`, `?` or `!`), in
    /// file order, once each. Wildcard blocks are defaults, not servers.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.clone()
    }

    /// The options ssh would use for `alias`. An error is about this host
    /// only (a token its directives do not accept, an unset `${VAR}`).
    pub fn resolve(&self, alias: &str) -> Result<ResolvedHost, SshConfigError> {
        if alias.is_empty() {
            return Err(SshConfigError::BadAlias { alias: String::new(), reason: "it is empty" });
        }
        eval::resolve(self, alias)
    }

    /// Whether some block depends on `Match exec` (never run by CHOM).
    pub fn uses_match_exec(&self) -> bool {
        self.match_exec
    }

    /// Problems found while reading, whatever the host.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Every file read, the user's first, then its includes as met.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}
