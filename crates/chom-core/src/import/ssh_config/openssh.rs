//! OpenSSH's own answer, `ssh -G`, for the import to compare with CHOM's.
//! ssh is started with its arguments as separate argv entries (no shell),
//! a refused alias never reaches it, and a config with `Match exec` is not
//! shown to it at all: `ssh -G` would run those commands.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::expand;
use super::jump::{self, JumpSpec};
use super::{load, Context, JumpHost, ResolvedHost, SshConfigError};

/// `ssh -G` reads files and may resolve names (CanonicalizeHostname).
const SSH_G_TIMEOUT: Duration = Duration::from_secs(10);

/// The key names ssh tries when no IdentityFile is configured (9.2's
/// fill_default_options); `-G` lists them, CHOM leaves the list empty.
const DEFAULT_IDENTITY_FILES: &[&str] = &[
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];

/// The part of `ssh -G` output the import compares, as printed: identity
/// files still carry their `~` and tokens (ssh expands them later), the
/// identity agent is already expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpensshView {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<String>,
    pub identities_only: bool,
    pub identity_agent: Option<String>,
    /// As printed: the chain, `user@` and `:port` included.
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    /// What `%k` stands for in the identity files.
    pub host_key_alias: Option<String>,
}

/// Runs `ssh -G -F config alias` with `HOME` set to `ctx.home` (where ssh
/// looks for relative includes). `Ok(None)` when ssh is not installed.
pub fn openssh_view(config: &Path, alias: &str, ctx: &Context) -> Result<Option<OpensshView>, SshConfigError> {
    check_alias(alias)?;
    if load(config, None, ctx)?.uses_match_exec() {
        return Err(SshConfigError::MatchExecRefused { path: config.to_path_buf() });
    }
    let spawned = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .arg(alias)
        .env("HOME", &ctx.home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SshConfigError::Spawn { source }),
    };
    // Read both pipes while waiting, so a chatty ssh cannot block on a full one.
    let readers = [child.stdout.take().map(drain), child.stderr.take().map(drain)];
    let deadline = Instant::now() + SSH_G_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                // Only the child this call started is stopped.
                let _ = child.kill();
                let _ = child.wait();
                return Err(SshConfigError::OpensshTimeout { alias: alias.to_string(), timeout: SSH_G_TIMEOUT });
            }
            Err(source) => return Err(SshConfigError::Spawn { source }),
        }
    };
    let [out, err] = readers.map(|r| r.and_then(|h| h.join().ok()).unwrap_or_default());
    if !status.success() {
        let stderr: Vec<&str> =
            err.lines().filter(|l| !l.starts_with("Pseudo-terminal will not be allocated")).take(5).collect();
        return Err(SshConfigError::OpensshRefused {
            path: config.to_path_buf(),
            alias: alias.to_string(),
            stderr: stderr.join("; "),
        });
    }
    parse_view(&out).map(Some)
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// ssh would read these as options, a user, or a URI rather than an alias.
fn check_alias(alias: &str) -> Result<(), SshConfigError> {
    let reason = if alias.is_empty() {
        "it is empty"
    } else if alias.starts_with('-') {
        "it starts with '-', which ssh would read as an option"
    } else if alias.contains('@') {
        "it contains '@', which ssh would read as user@host"
    } else if alias.contains("://") {
        "it looks like a URI"
    } else if alias.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains whitespace or control characters"
    } else {
        return Ok(());
    };
    Err(SshConfigError::BadAlias { alias: alias.to_string(), reason })
}

fn parse_view(out: &str) -> Result<OpensshView, SshConfigError> {
    let mut hostname = None;
    let mut port = None;
    let mut user = None;
    let mut view = OpensshView {
        hostname: String::new(),
        port: 0,
        user: String::new(),
        identity_files: Vec::new(),
        identities_only: false,
        identity_agent: None,
        proxy_jump: None,
        proxy_command: None,
        host_key_alias: None,
    };
    for line in out.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        let value = value.to_string();
        match key {
            "hostname" => hostname = Some(value),
            "user" => user = Some(value),
            "port" => port = value.parse::<u16>().ok(),
            "identityfile" => view.identity_files.push(value),
            "identitiesonly" => view.identities_only = value == "yes",
            "identityagent" => view.identity_agent = Some(value),
            "proxyjump" => view.proxy_jump = Some(value),
            "proxycommand" => view.proxy_command = Some(value),
            "hostkeyalias" => view.host_key_alias = Some(value),
            _ => {}
        }
    }
    let missing = |what: &str| SshConfigError::OpensshOutput { detail: format!("no {what} line") };
    view.hostname = hostname.ok_or_else(|| missing("hostname"))?;
    view.user = user.ok_or_else(|| missing("user"))?;
    view.port = port.ok_or_else(|| missing("port"))?;
    Ok(view)
}

/// Where CHOM and OpenSSH disagree, one line each, e.g.
/// `port: CHOM 2222, OpenSSH 22`. OpenSSH's identity files and jump hosts
/// are expanded with the host's own values first, as ssh does at connect.
pub fn differences(resolved: &ResolvedHost, view: &OpensshView, ctx: &Context) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, chom: String, openssh: String| {
        if chom != openssh {
            out.push(format!("{what}: CHOM {chom}, OpenSSH {openssh}"));
        }
    };
    differ("hostname", resolved.hostname.clone(), view.hostname.clone());
    differ("port", resolved.port.to_string(), view.port.to_string());
    let user = resolved.user.clone().unwrap_or_else(|| ctx.local_user.clone());
    differ("user", user.clone(), view.user.clone());
    let theirs: Vec<&str> =
        view.identity_files.iter().map(String::as_str).filter(|f| !f.eq_ignore_ascii_case("none")).collect();
    let theirs =
        if resolved.identity_files.is_empty() && theirs == DEFAULT_IDENTITY_FILES { Vec::new() } else { theirs };
    let ours: Vec<PathBuf> = resolved.identity_files.clone();
    let theirs: Vec<PathBuf> =
        theirs.iter().map(|f| PathBuf::from(expand_like_ssh(f, resolved, view, &user, ctx))).collect();
    differ("identityfile", show_paths(&ours), show_paths(&theirs));
    differ("identitiesonly", yes_no(resolved.identities_only), yes_no(view.identities_only));
    differ("identityagent", opt(&resolved.identity_agent), opt(&view.identity_agent));
    let their_jump = match view.proxy_jump.as_deref().map(jump::parse) {
        None | Some(Ok(JumpSpec::None)) => Ok(Vec::new()),
        Some(Ok(JumpSpec::Chain(hops))) => Ok(hops),
        Some(Err(e)) => Err(e),
    };
    let their_jump = match their_jump {
        Ok(hops) => show_jumps(&expand_jumps(hops, resolved, &user)),
        Err(e) => format!("unreadable ({e})"),
    };
    differ("proxyjump", show_jumps(&resolved.proxy_jump), their_jump);
    differ("proxycommand", opt(&resolved.proxy_command), opt(&view.proxy_command));
    out
}

fn expand_like_ssh(raw: &str, r: &ResolvedHost, view: &OpensshView, user: &str, ctx: &Context) -> String {
    let home = ctx.home.to_string_lossy().into_owned();
    let key_alias = view.host_key_alias.as_deref().unwrap_or(&r.alias);
    let port = r.port.to_string();
    let short = ctx.local_host.split('.').next().unwrap_or("");
    let keys = [
        ('L', Some(short)),
        ('k', Some(key_alias)),
        ('l', Some(ctx.local_host.as_str())),
        ('n', Some(r.alias.as_str())),
        ('p', Some(port.as_str())),
        ('d', Some(home.as_str())),
        ('h', Some(r.hostname.as_str())),
        ('r', Some(user)),
        ('u', Some(ctx.local_user.as_str())),
    ];
    expand::tilde(raw, &home, &ctx.local_user)
        .and_then(|v| expand::percent_dollar(&v, &keys))
        .unwrap_or_else(|_| raw.to_string())
}

fn expand_jumps(hops: Vec<JumpHost>, r: &ResolvedHost, user: &str) -> Vec<JumpHost> {
    let port = r.port.to_string();
    let keys = [
        ('h', Some(r.hostname.as_str())),
        ('n', Some(r.alias.as_str())),
        ('p', Some(port.as_str())),
        ('r', Some(user)),
    ];
    let exp = |s: &str| expand::percent(s, &keys).unwrap_or_else(|_| s.to_string());
    hops.into_iter().map(|h| JumpHost { user: h.user.as_deref().map(exp), host: exp(&h.host), port: h.port }).collect()
}

fn show_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "none".to_string();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn show_jumps(hops: &[JumpHost]) -> String {
    if hops.is_empty() {
        return "none".to_string();
    }
    let hop = |h: &JumpHost| {
        let user = h.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
        let host = if h.host.contains(':') { format!("[{}]", h.host) } else { h.host.clone() };
        let port = h.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{user}{host}{port}")
    };
    hops.iter().map(hop).collect::<Vec<_>>().join(",")
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".to_string())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}
