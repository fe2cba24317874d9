//! Reading the files into entries, once, whatever host is asked about
//! later: Include is resolved here because in OpenSSH it does not depend on
//! the host (its paths take no tokens, and inactive includes are still read
//! "parse only"), and so is every check OpenSSH makes regardless of which
//! block applies (bad values, unknown keywords).

use std::path::{Path, PathBuf};

use super::jump::{self, JumpSpec};
use super::keywords::{self, Role};
use super::lex::{self, Delim, Lexed};
use super::{Context, SshConfigError};

mod include;

use include::canonical;

/// readconf.c READCONF_MAX_DEPTH.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 16;

#[derive(Debug)]
pub(crate) struct Entry {
    /// Index into the loaded files.
    pub file: usize,
    pub line: u32,
    /// The keyword as documented; empty for an unknown one (its
    /// [`Kind::Unknown`] has it as written).
    pub name: &'static str,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Host(Vec<String>),
    /// `None` when OpenSSH refuses the condition: the block never applies.
    Match(Option<Vec<Criterion>>),
    Include(Vec<Included>),
    HostName(String),
    Port(u16),
    User(String),
    IdentityFile(String),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    ProxyJump(JumpSpec),
    ProxyCommand(String),
    HostKeyAlias(String),
    IgnoreUnknown(String),
    CanonicalizeHostname(bool),
    /// A keyword CHOM does not carry.
    Ignored(Role),
    Unknown(String),
    /// OpenSSH refuses the line; already warned about.
    Invalid,
}

#[derive(Debug)]
pub(crate) struct Included {
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub(crate) struct Criterion {
    pub negate: bool,
    pub test: Test,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    All,
    Canonical,
    Final,
    Host(String),
    OriginalHost(String),
    User(String),
    LocalUser(String),
    /// Never run.
    Exec,
    /// A criterion CHOM does not evaluate (localnetwork, tagged, ...).
    Other(String),
}

/// What loading found besides the entries.
pub(crate) struct Loader<'c> {
    ctx: &'c Context,
    pub files: Vec<PathBuf>,
    /// `(file, line, text)`.
    pub warnings: Vec<(usize, u32, String)>,
    pub hosts: Vec<String>,
    pub match_exec: bool,
    pub ignore_patterns: Vec<String>,
    unknown: Vec<(usize, u32, String)>,
    /// Where the system file's relative includes are anchored.
    system_dir: PathBuf,
}

impl<'c> Loader<'c> {
    pub(crate) fn new(ctx: &'c Context) -> Self {
        Loader {
            ctx,
            files: Vec::new(),
            warnings: Vec::new(),
            hosts: Vec::new(),
            match_exec: false,
            ignore_patterns: Vec::new(),
            unknown: Vec::new(),
            system_dir: PathBuf::from("/etc/ssh"),
        }
    }

    /// A top-level file. The user's must exist (the caller named it); a
    /// missing system file is skipped, as ssh skips it.
    pub(crate) fn root(&mut self, path: &Path, user_conf: bool) -> Result<Vec<Entry>, SshConfigError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if !user_conf && e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(SshConfigError::Read { path: path.to_path_buf(), source }),
        };
        let file = self.add_file(path);
        if !user_conf {
            // OpenSSH anchors at its compiled-in /etc/ssh, which is where the
            // system file lives; its own directory keeps that true elsewhere.
            if let Some(dir) = path.parent() {
                self.system_dir = dir.to_path_buf();
            }
        }
        // ssh checks the user's own file only when it is the default one;
        // CHOM reads that one, so it checks too.
        if user_conf {
            self.check_permissions(path, file, 0);
        }
        let mut stack = vec![canonical(path)];
        self.parse(&bytes, file, user_conf, 0, &mut stack)
    }

    /// Unknown keywords OpenSSH refuses: those no IgnoreUnknown anywhere
    /// covers (whether one is in effect depends on the host; resolve says).
    pub(crate) fn finish(&mut self) {
        for (file, line, kw) in std::mem::take(&mut self.unknown) {
            if !self.ignore_patterns.iter().any(|p| super::eval::pattern_list(&kw.to_ascii_lowercase(), p, true) > 0) {
                self.warnings.push((
                    file,
                    line,
                    format!("unknown keyword {kw}: OpenSSH refuses the whole file unless IgnoreUnknown lists it; CHOM ignores it"),
                ));
            }
        }
        self.warnings.sort_by_key(|(f, l, _)| (*f, *l));
    }

    fn add_file(&mut self, path: &Path) -> usize {
        self.files.push(path.to_path_buf());
        self.files.len() - 1
    }

    fn warn(&mut self, file: usize, line: u32, text: impl Into<String>) {
        self.warnings.push((file, line, text.into()));
    }

    fn parse(
        &mut self,
        bytes: &[u8],
        file: usize,
        user_conf: bool,
        depth: usize,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<Entry>, SshConfigError> {
        let mut entries = Vec::new();
        for (line, text) in lex::lines(bytes) {
            let (keyword, rest) = match lex::lex_line(&text) {
                Lexed::Blank => continue,
                Lexed::NoArgument { keyword } => {
                    self.warn(file, line, format!("OpenSSH refuses this line: no argument after {keyword}"));
                    if let Some((name, Role::Host | Role::Match)) = keywords::lookup(&keyword) {
                        // ssh leaves the block state alone, then refuses the file;
                        // CHOM rather applies nothing until the next block.
                        entries.push(Entry { file, line, name, kind: Kind::Match(None) });
                    }
                    continue;
                }
                Lexed::Directive { keyword, rest } => (keyword, rest),
            };
            let Some((name, role)) = keywords::lookup(&keyword) else {
                self.unknown.push((file, line, keyword.clone()));
                entries.push(Entry { file, line, name: "", kind: Kind::Unknown(keyword) });
                continue;
            };
            let kind = match lex::argv_split(&rest) {
                Err(()) => {
                    self.warn(file, line, format!("OpenSSH refuses this line: unbalanced quotes in {name}"));
                    if matches!(role, Role::Host | Role::Match) {
                        Kind::Match(None)
                    } else {
                        Kind::Invalid
                    }
                }
                Ok(args) => self.directive(file, line, name, role, &rest, args, user_conf, depth, stack)?,
            };
            entries.push(Entry { file, line, name, kind });
        }
        Ok(entries)
    }

    #[allow(clippy::too_many_arguments)]
    fn directive(
        &mut self,
        file: usize,
        line: u32,
        name: &'static str,
        role: Role,
        rest: &str,
        args: Vec<String>,
        user_conf: bool,
        depth: usize,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Kind, SshConfigError> {
        let refuse = |this: &mut Self, why: String| {
            this.warn(file, line, format!("OpenSSH refuses this line ({name}): {why}; CHOM skips it"));
            Kind::Invalid
        };
        let single = |args: &[String]| match args {
            [one] if !one.is_empty() => Ok(one.clone()),
            [] | [_] => Err("missing argument".to_string()),
            _ => Err("extra arguments at end of line".to_string()),
        };
        Ok(match role {
            Role::Host => self.host_line(file, line, args),
            Role::Match => Kind::Match(self.match_line(file, line, rest)),
            Role::Include => match self.include(file, line, args, user_conf, depth, stack)? {
                Ok(included) => Kind::Include(included),
                Err(why) => refuse(self, why),
            },
            Role::ProxyJump => match jump::parse(rest) {
                Ok(spec) => Kind::ProxyJump(spec),
                Err(why) => refuse(self, why),
            },
            Role::ProxyCommand => Kind::ProxyCommand(rest.trim_start_matches([' ', '\t', '\r', '\n', '=']).to_string()),
            Role::Other | Role::Deprecated | Role::Unsupported => Kind::Ignored(role),
            _ => match single(&args) {
                Err(why) => refuse(self, why),
                Ok(v) => match role {
                    Role::HostName => Kind::HostName(v),
                    Role::User => Kind::User(v),
                    Role::IdentityFile => Kind::IdentityFile(v),
                    Role::IdentityAgent => Kind::IdentityAgent(v),
                    Role::HostKeyAlias => Kind::HostKeyAlias(v),
                    Role::IgnoreUnknown => {
                        self.ignore_patterns.push(v.clone());
                        Kind::IgnoreUnknown(v)
                    }
                    Role::Port => match v.parse::<u16>() {
                        Ok(p) if p > 0 => Kind::Port(p),
                        _ => refuse(self, format!("bad port {v:?} (CHOM reads numbers only)")),
                    },
                    Role::IdentitiesOnly => match flag(&v, false) {
                        Some(b) => Kind::IdentitiesOnly(b),
                        None => refuse(self, format!("unsupported value {v:?}")),
                    },
                    Role::CanonicalizeHostname => match flag(&v, true) {
                        Some(b) => Kind::CanonicalizeHostname(b),
                        None => refuse(self, format!("unsupported value {v:?}")),
                    },
                    _ => Kind::Invalid,
                },
            },
        })
    }

    fn host_line(&mut self, file: usize, line: u32, patterns: Vec<String>) -> Kind {
        if patterns.iter().any(String::is_empty) {
            self.warn(
                file,
                line,
                "OpenSSH refuses this line: empty Host pattern; CHOM treats the block as never applying",
            );
            return Kind::Host(Vec::new());
        }
        for p in &patterns {
            if p.contains(['*', '?', '!']) {
                continue;
            }
            if p.contains(',') {
                self.warn(
                    file,
                    line,
                    format!("Host {p}: patterns are separated by spaces; OpenSSH reads {p:?} as one name, not a list"),
                );
            } else if !self.hosts.contains(p) {
                self.hosts.push(p.clone());
            }
        }
        Kind::Host(patterns)
    }

    /// readconf.c `match_cfg_line`, the syntax half: criteria are split
    /// with `strdelim`, a `#` token ends the line.
    fn match_line(&mut self, file: usize, line: u32, rest: &str) -> Option<Vec<Criterion>> {
        let mut cur = Delim::over(rest);
        let mut crits = Vec::new();
        let mut attributes = 0;
        let bad = |this: &mut Self, why: String| {
            this.warn(
                file,
                line,
                format!("OpenSSH refuses this Match: {why}; CHOM treats the block as never applying"),
            );
            None
        };
        while let Some(attrib) = cur.next(true).filter(|a| !a.is_empty() && !a.starts_with('#')) {
            let (negate, name) = match attrib.strip_prefix('!') {
                Some(n) => (true, n.to_string()),
                None => (false, attrib.clone()),
            };
            let lname = name.to_ascii_lowercase();
            if lname == "all" {
                let next = cur.next(true).filter(|a| !a.is_empty() && !a.starts_with('#'));
                if attributes > 1 || next.is_some() {
                    return bad(self, format!("'{attrib}' cannot be combined with other Match attributes"));
                }
                crits.push(Criterion { negate, test: Test::All });
                return Some(crits);
            }
            attributes += 1;
            let test = match lname.as_str() {
                "canonical" => Test::Canonical,
                "final" => Test::Final,
                _ => {
                    let Some(arg) = cur.next(true).filter(|a| !a.is_empty() && !a.starts_with('#')) else {
                        return bad(self, format!("missing Match criteria for {name}"));
                    };
                    match lname.as_str() {
                        "host" => Test::Host(arg),
                        "originalhost" => Test::OriginalHost(arg),
                        "user" => Test::User(arg),
                        "localuser" => Test::LocalUser(arg),
                        "exec" => {
                            self.match_exec = true;
                            self.warn(
                                file,
                                line,
                                "Match exec: CHOM never runs commands from the SSH config; this block is treated as not matching",
                            );
                            Test::Exec
                        }
                        _ => {
                            self.warn(
                                file,
                                line,
                                format!("Match {name}: CHOM does not evaluate this criterion; the block is treated as not matching"),
                            );
                            Test::Other(name.clone())
                        }
                    }
                }
            };
            crits.push(Criterion { negate, test });
        }
        if attributes == 0 {
            return bad(self, "one or more attributes required".to_string());
        }
        Some(crits)
    }
}

/// `yes`/`no`/`true`/`false`, and `always` where CanonicalizeHostname takes it.
fn flag(v: &str, always: bool) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "always" if always => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}
