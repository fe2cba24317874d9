//! One host, evaluated as ssh.c and readconf.c do: the files in order, the
//! first value obtained wins, Host and Match switch blocks on and off, and
//! a second "final" pass when a `Match final` was seen (or
//! CanonicalizeHostname is on), in which Host patterns are compared with
//! the resolved host name and `final`/`canonical` match.

use std::collections::HashSet;
use std::path::PathBuf;

use super::expand::{self, ExpandError};
use super::jump::JumpSpec;
use super::keywords::Role;
use super::parse::{Criterion, Entry, Kind, Test};
use super::{Ignored, JumpHost, ResolvedHost, SshConfig, SshConfigError, Warning};

/// A value and the line it came from, for errors that name the line.
#[derive(Clone)]
struct At<T> {
    value: T,
    file: usize,
    line: u32,
}

#[derive(Clone, Default)]
enum HostName {
    #[default]
    Unset,
    Raw(At<String>),
    /// After the first pass: expanded and lowercased, and set for good.
    Final(String),
}

#[derive(Default)]
struct Options {
    hostname: HostName,
    port: Option<u16>,
    user: Option<String>,
    /// With whether it came from a user file: OpenSSH drops a repeat only
    /// when both match, so the same key in the user and system files is
    /// listed twice.
    identity_files: Vec<(At<String>, bool)>,
    identities_only: Option<bool>,
    identity_agent: Option<At<String>>,
    jump: Option<At<JumpSpec>>,
    proxy_command: Option<String>,
    host_key_alias: Option<String>,
    ignore_unknown: Option<String>,
    canonicalize: Option<bool>,
}

struct Eval<'a> {
    cfg: &'a SshConfig,
    alias: &'a str,
    /// What Host lines compare with: the alias first, the host name after.
    host: String,
    final_pass: bool,
    want_final: bool,
    o: Options,
    ignored: Vec<Ignored>,
    seen: HashSet<(usize, u32)>,
    warnings: Vec<Warning>,
    warned: HashSet<(usize, u32)>,
}

pub(crate) fn resolve(cfg: &SshConfig, alias: &str) -> Result<ResolvedHost, SshConfigError> {
    let mut ev = Eval {
        cfg,
        alias,
        host: alias.to_string(),
        final_pass: false,
        want_final: false,
        o: Options::default(),
        ignored: Vec::new(),
        seen: HashSet::new(),
        warnings: Vec::new(),
        warned: HashSet::new(),
    };
    ev.pass()?;
    let mut host = match &ev.o.hostname {
        HostName::Raw(h) => ev.expand_hostname(h)?,
        _ => alias.to_string(),
    };
    // ssh.c lowercases names, not addresses.
    if host.parse::<std::net::IpAddr>().is_err() {
        host.make_ascii_lowercase();
    }
    if ev.want_final || ev.o.canonicalize == Some(true) {
        ev.o.hostname = HostName::Final(host.clone());
        ev.host = host.clone();
        ev.final_pass = true;
        ev.pass()?;
    }
    ev.finish(host)
}

impl Eval<'_> {
    fn pass(&mut self) -> Result<(), SshConfigError> {
        let cfg = self.cfg;
        self.walk(&cfg.user, &mut true, false, true)?;
        if let Some(system) = &cfg.system {
            self.walk(system, &mut true, false, false)?;
        }
        Ok(())
    }

    /// `never` is readconf.c SSHCONF_NEVERMATCH: a file included from a
    /// block that does not apply is read, but none of its blocks apply.
    fn walk(&mut self, entries: &[Entry], active: &mut bool, never: bool, user: bool) -> Result<(), SshConfigError> {
        for e in entries {
            match &e.kind {
                Kind::Host(patterns) => *active = !never && host_matches(&self.host, patterns),
                Kind::Match(crits) => {
                    let m = self.matches(e, crits.as_deref())?;
                    *active = !never && m;
                }
                Kind::Include(files) => {
                    let outer = *active;
                    for f in files {
                        self.walk(&f.entries, active, never || !outer, user)?;
                        // An included file's Host/Match lines do not leak out.
                        *active = outer;
                    }
                }
                Kind::Unknown(kw) => self.unknown(e, kw, *active),
                _ if *active => self.apply(e, user),
                _ => {}
            }
        }
        Ok(())
    }

    fn apply(&mut self, e: &Entry, user: bool) {
        let at = |value: String| At { value, file: e.file, line: e.line };
        let o = &mut self.o;
        match &e.kind {
            Kind::HostName(v) if matches!(o.hostname, HostName::Unset) => o.hostname = HostName::Raw(at(v.clone())),
            Kind::Port(p) => {
                o.port.get_or_insert(*p);
            }
            Kind::User(v) => {
                o.user.get_or_insert_with(|| v.clone());
            }
            Kind::IdentityFile(v) if !o.identity_files.iter().any(|(f, u)| f.value == *v && *u == user) => {
                o.identity_files.push((at(v.clone()), user));
            }
            Kind::IdentitiesOnly(b) => {
                o.identities_only.get_or_insert(*b);
            }
            Kind::IdentityAgent(v) => {
                o.identity_agent.get_or_insert_with(|| at(v.clone()));
            }
            Kind::ProxyJump(JumpSpec::None) if o.jump.is_none() => {
                o.jump = Some(At { value: JumpSpec::None, file: e.file, line: e.line });
            }
            // A chain wins only over nothing, and then shuts ProxyCommand out.
            Kind::ProxyJump(spec @ JumpSpec::Chain(_)) if o.jump.is_none() && o.proxy_command.is_none() => {
                o.jump = Some(At { value: spec.clone(), file: e.file, line: e.line });
                o.proxy_command = Some("none".to_string());
            }
            Kind::ProxyCommand(v) if o.proxy_command.is_none() => {
                o.proxy_command = Some(v.clone());
                // Reported only when it is the one ssh would run.
                if !v.eq_ignore_ascii_case("none") {
                    let reason = "not supported: ProxyCommand (CHOM cannot run a proxy command; use ProxyJump)";
                    self.ignore(e, "ProxyCommand", reason.to_string());
                }
            }
            Kind::HostKeyAlias(v) => {
                o.host_key_alias.get_or_insert_with(|| v.clone());
                self.ignore(e, e.name, format!("ignored: {}", e.name));
            }
            Kind::IgnoreUnknown(v) => {
                o.ignore_unknown.get_or_insert_with(|| v.clone());
            }
            Kind::CanonicalizeHostname(b) => {
                o.canonicalize.get_or_insert(*b);
                let reason =
                    "ignored: CanonicalizeHostname (CHOM does not look names up; OpenSSH may pick another name)";
                self.ignore(e, e.name, reason.to_string());
            }
            Kind::Ignored(role) => {
                let reason = match role {
                    Role::Deprecated => format!("ignored: {} (obsolete; OpenSSH ignores it too)", e.name),
                    Role::Unsupported => format!("ignored: {} (no longer supported by OpenSSH)", e.name),
                    _ => format!("ignored: {}", e.name),
                };
                self.ignore(e, e.name, reason);
            }
            _ => {}
        }
    }

    /// OpenSSH refuses an unknown keyword wherever it is, unless the
    /// IgnoreUnknown in effect at that point lists it.
    fn unknown(&mut self, e: &Entry, kw: &str, active: bool) {
        let lower = kw.to_ascii_lowercase();
        let covered = self.o.ignore_unknown.as_deref().is_some_and(|p| pattern_list(&lower, p, true) > 0);
        if active {
            let reason = if covered {
                format!("ignored: {kw} (unknown to OpenSSH, listed in IgnoreUnknown)")
            } else {
                format!("ignored: {kw} (unknown keyword; OpenSSH refuses the file)")
            };
            self.ignore(e, kw, reason);
        }
        // Load already warned about keywords no IgnoreUnknown covers at all.
        let covered_somewhere = self.cfg.ignore_patterns.iter().any(|p| pattern_list(&lower, p, true) > 0);
        if !covered && covered_somewhere {
            let text = format!("unknown keyword {kw}: the IgnoreUnknown that lists it does not apply to this host, so OpenSSH refuses the file");
            self.warn(e, text);
        }
    }

    /// readconf.c `match_cfg_line`, the evaluation half. `exec` never runs:
    /// it fails the block, and the host is told when it was what decided.
    fn matches(&mut self, e: &Entry, crits: Option<&[Criterion]>) -> Result<bool, SshConfigError> {
        let Some(crits) = crits else { return Ok(false) };
        let host = match &self.o.hostname {
            HostName::Final(h) => h.clone(),
            HostName::Raw(h) => self.expand_hostname(h)?,
            HostName::Unset => self.alias.to_string(),
        };
        let ruser = self.o.user.clone().unwrap_or_else(|| self.cfg.ctx.local_user.clone());
        let mut result = true;
        for c in crits {
            let hit = match &c.test {
                Test::All => {
                    if result {
                        result = !c.negate;
                    }
                    break;
                }
                Test::Final | Test::Canonical => {
                    if matches!(c.test, Test::Final) && !self.final_pass {
                        self.want_final = true;
                    }
                    self.final_pass
                }
                Test::Host(p) => pattern_list(&host.to_ascii_lowercase(), p, true) == 1,
                Test::OriginalHost(p) => pattern_list(&self.alias.to_ascii_lowercase(), p, true) == 1,
                Test::User(p) => pattern_list(&ruser, p, false) == 1,
                Test::LocalUser(p) => pattern_list(&self.cfg.ctx.local_user, p, false) == 1,
                Test::Exec | Test::Other(_) => {
                    if result {
                        let what = if matches!(c.test, Test::Exec) { "exec".to_string() } else { other_name(&c.test) };
                        self.warn(
                            e,
                            format!(
                                "Match block skipped: it depends on `{what}`, which CHOM does not evaluate \
                                 (it never runs commands from the config)"
                            ),
                        );
                    }
                    result = false;
                    continue;
                }
            };
            if hit == c.negate {
                result = false;
            }
        }
        Ok(result)
    }

    fn ignore(&mut self, e: &Entry, directive: &str, reason: String) {
        if self.seen.insert((e.file, e.line)) {
            let file = self.cfg.files[e.file].clone();
            self.ignored.push(Ignored { directive: directive.to_string(), file, line: e.line, reason });
        }
    }

    fn warn(&mut self, e: &Entry, text: String) {
        if self.warned.insert((e.file, e.line)) {
            self.warnings.push(Warning { file: self.cfg.files[e.file].clone(), line: e.line, text });
        }
    }

    /// HostName takes `%h` (the alias as typed) and `%%` only.
    fn expand_hostname(&self, h: &At<String>) -> Result<String, SshConfigError> {
        let keys = [('h', Some(self.alias))];
        expand::percent(&h.value, &keys).map_err(|err| self.token_error("HostName", h, err))
    }

    fn token_error(&self, directive: &'static str, at: &At<String>, err: ExpandError) -> SshConfigError {
        let (alias, value, file, line) =
            (self.alias.to_string(), at.value.clone(), self.cfg.files[at.file].clone(), at.line);
        match err {
            ExpandError::Unknown(token) => SshConfigError::UnknownToken { alias, directive, value, file, line, token },
            ExpandError::Unsupported(token) => {
                SshConfigError::UnsupportedToken { alias, directive, value, file, line, token }
            }
            ExpandError::Trailing => {
                SshConfigError::BadValue { alias, directive, value, file, line, detail: "it ends with a lone %".into() }
            }
            ExpandError::Env(var) => {
                let detail = format!("environment variable {var:?} is not set");
                SshConfigError::BadValue { alias, directive, value, file, line, detail }
            }
            ExpandError::TildeUser(user) => {
                let detail = format!("~{user} is another user's home; CHOM expands ~ only to yours");
                SshConfigError::BadValue { alias, directive, value, file, line, detail }
            }
        }
    }

    fn finish(mut self, host: String) -> Result<ResolvedHost, SshConfigError> {
        let ctx = &self.cfg.ctx;
        let port = self.o.port.unwrap_or(22);
        let port_s = port.to_string();
        let ruser = self.o.user.clone().unwrap_or_else(|| ctx.local_user.clone());
        let home = ctx.home.to_string_lossy().into_owned();
        let short = ctx.local_host.split('.').next().unwrap_or("").to_string();
        let key_alias =
            self.o.host_key_alias.as_ref().map_or_else(|| self.alias.to_string(), |k| k.to_ascii_lowercase());
        let keys = [
            ('C', None),
            ('L', Some(short.as_str())),
            ('i', None),
            ('k', Some(key_alias.as_str())),
            ('l', Some(ctx.local_host.as_str())),
            ('n', Some(self.alias)),
            ('p', Some(port_s.as_str())),
            ('d', Some(home.as_str())),
            ('h', Some(host.as_str())),
            ('r', Some(ruser.as_str())),
            ('u', Some(ctx.local_user.as_str())),
        ];
        let path_like = |directive: &'static str, at: &At<String>| {
            expand::tilde(&at.value, &home, &ctx.local_user)
                .and_then(|v| expand::percent_dollar(&v, &keys))
                .map_err(|err| self.token_error(directive, at, err))
        };
        let mut identity_files = Vec::new();
        for (at, _) in self.o.identity_files.iter().filter(|(f, _)| !f.value.eq_ignore_ascii_case("none")) {
            identity_files.push(PathBuf::from(path_like("IdentityFile", at)?));
        }
        let identity_agent = self.o.identity_agent.as_ref().map(|a| path_like("IdentityAgent", a)).transpose()?;
        let jump_keys = [
            ('h', Some(host.as_str())),
            ('n', Some(self.alias)),
            ('p', Some(port_s.as_str())),
            ('r', Some(ruser.as_str())),
        ];
        let mut proxy_jump = Vec::new();
        if let Some(at @ At { value: JumpSpec::Chain(hops), .. }) = &self.o.jump {
            let raw = At { value: String::new(), file: at.file, line: at.line };
            for hop in hops {
                let exp = |s: &str| {
                    expand::percent(s, &jump_keys)
                        .map_err(|err| self.token_error("ProxyJump", &At { value: s.to_string(), ..raw.clone() }, err))
                };
                let user = hop.user.as_deref().map(exp).transpose()?;
                proxy_jump.push(JumpHost { user, host: exp(&hop.host)?, port: hop.port });
            }
        }
        let proxy_command = self.o.proxy_command.take().filter(|p| !p.eq_ignore_ascii_case("none"));
        Ok(ResolvedHost {
            alias: self.alias.to_string(),
            hostname: host,
            port,
            user: self.o.user.take(),
            identity_files,
            identities_only: self.o.identities_only.unwrap_or(false),
            identity_agent,
            proxy_jump,
            proxy_command,
            ignored: self.ignored,
            warnings: self.warnings,
        })
    }
}

fn other_name(t: &Test) -> String {
    match t {
        Test::Other(n) => n.clone(),
        _ => String::new(),
    }
}

/// A Host line: on if a pattern matches, off for good if a `!pattern` does.
/// Compared case-sensitively, as match_pattern does.
fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut on = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(neg) if pattern(host.as_bytes(), neg.as_bytes()) => return false,
            Some(_) => {}
            None => on |= pattern(host.as_bytes(), p.as_bytes()),
        }
    }
    on
}

/// match.c `match_pattern`: `*` and `?` over bytes.
pub(crate) fn pattern(s: &[u8], p: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| pattern(&s[i..], rest)),
        Some((b'?', rest)) => !s.is_empty() && pattern(&s[1..], rest),
        Some((c, rest)) => s.first() == Some(c) && pattern(&s[1..], rest),
    }
}

/// match.c `match_pattern_list`: 1 on a positive match, -1 when a
/// `!pattern` matches, 0 otherwise; `lower` lowercases the patterns.
pub(crate) fn pattern_list(s: &str, list: &str, lower: bool) -> i8 {
    // The C loop never sees an empty pattern after a final comma.
    let list = list.strip_suffix(',').unwrap_or(list);
    if list.is_empty() {
        return 0;
    }
    let mut positive = 0;
    for sub in list.split(',') {
        let (neg, sub) = match sub.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, sub),
        };
        let sub = if lower { sub.to_ascii_lowercase() } else { sub.to_string() };
        if pattern(s.as_bytes(), sub.as_bytes()) {
            if neg {
                return -1;
            }
            positive = 1;
        }
    }
    positive
}
