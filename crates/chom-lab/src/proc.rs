//! Processes: root check, the test user, signals by PID, readiness.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::LabError;

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Creates the lab login user if missing. Its password field is '*' (no
/// password, not locked) so sshd with UsePAM=no lets it log in by key.
/// Safe when several labs start at once, in this process or another:
/// "already exists" is success and a locked /etc/passwd is retried.
pub(crate) fn ensure_user(user: &str) -> Result<(), LabError> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let exists = |u: &str| Command::new("id").arg("-u").arg(u).output().is_ok_and(|o| o.status.success());
    if !exists(user) {
        // Status 9: another lab, started at the same moment, created it.
        retry("useradd", || {
            let home = format!("/home/{user}");
            let out = run(
                "useradd",
                Command::new("useradd").args(["--system", "--home-dir", &home]).args([
                    "--create-home",
                    "--shell",
                    "/bin/sh",
                    user,
                ]),
            )?;
            let ok = out.status.success() || out.status.code() == Some(9) || exists(user);
            Ok((ok, out))
        })?;
    }
    // Only a locked account ('!') is unlocked: a password set by
    // `set_password` for another lab's test must survive this lab's start.
    let shadow = std::fs::read_to_string("/etc/shadow").unwrap_or_default();
    if shadow.lines().any(|l| l.starts_with(&format!("{user}:!"))) {
        retry("usermod -p '*'", || {
            let out = run("usermod", Command::new("usermod").args(["-p", "*", user]))?;
            Ok((out.status.success(), out))
        })?;
    }
    Ok(())
}

fn run(what: &str, cmd: &mut Command) -> Result<std::process::Output, LabError> {
    cmd.output()
        .map_err(|e| LabError::Command { what: what.into(), detail: format!("{e} (is the passwd package installed?)") })
}

/// Runs `attempt` until it reports success, for up to 5 s: useradd and
/// usermod fail while another process holds the /etc/passwd lock.
fn retry(
    what: &str,
    mut attempt: impl FnMut() -> Result<(bool, std::process::Output), LabError>,
) -> Result<(), LabError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (ok, out) = attempt()?;
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(LabError::Command {
                what: what.into(),
                detail: String::from_utf8_lossy(&out.stderr).trim().into(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sets the lab user's password (chpasswd reads it on stdin).
pub(crate) fn set_password(user: &str, password: &str) -> Result<(), LabError> {
    use std::io::Write;
    let mut child = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| LabError::Command { what: "chpasswd".into(), detail: e.to_string() })?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    writeln!(stdin, "{user}:{password}")
        .map_err(|e| LabError::Command { what: "chpasswd".into(), detail: e.to_string() })?;
    drop(stdin);
    let status = child.wait().map_err(|e| LabError::Command { what: "chpasswd".into(), detail: e.to_string() })?;
    if !status.success() {
        return Err(LabError::Command { what: "chpasswd".into(), detail: status.to_string() });
    }
    Ok(())
}

/// Gives `path` and everything under it to `user` (sshd reads and the
/// login user writes the files there).
pub(crate) fn chown_to(user: &str, path: &Path) -> Result<(), LabError> {
    let out = run("chown", Command::new("chown").arg("-R").arg(format!("{user}:")).arg(path))?;
    if !out.status.success() {
        return Err(LabError::Command {
            what: format!("chown {}", path.display()),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// `user`'s home directory, as /etc/passwd says.
pub(crate) fn home_of(user: &str) -> Result<PathBuf, LabError> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(crate::io_err(Path::new("/etc/passwd")))?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 5 && f[0] == user).then(|| PathBuf::from(f[5]))
        })
        .ok_or_else(|| LabError::Command {
            what: format!("finding {user}'s home"),
            detail: "not in /etc/passwd".into(),
        })
}

/// The lab directory must be readable by the login user (sshd reads
/// authorized_keys as that user), and so must every folder above it.
pub(crate) fn make_readable(dir: &Path) -> Result<(), LabError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).map_err(crate::io_err(dir))?;
    for parent in dir.canonicalize().map_err(crate::io_err(dir))?.ancestors().skip(1) {
        let mode = std::fs::metadata(parent).map_err(crate::io_err(parent))?.permissions().mode();
        if mode & 0o001 == 0 {
            return Err(LabError::Command {
                what: format!("preparing {}", dir.display()),
                detail: format!(
                    "{} is not searchable by other users; `chmod o+x` it or use another directory",
                    parent.display()
                ),
            });
        }
    }
    Ok(())
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a PID we started; a vanished PID only gives ESRCH.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

pub(crate) fn alive(pid: u32) -> bool {
    // A zombie still has /proc/PID; its state is 'Z'.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| !r.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

pub(crate) fn is_sshd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sshd")
}

/// PIDs of the direct children of `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(parent)
        })
        .collect()
}

/// Kills the per-connection sshd processes under a listener (the privileged
/// monitor and its unprivileged session child) and waits until they are
/// gone, so the TCP connections are closed; returns how many connections.
pub(crate) fn kill_children(listener: u32) -> usize {
    let monitors: Vec<u32> = children(listener).into_iter().filter(|p| is_sshd(*p)).collect();
    let mut all = Vec::new();
    let mut stack = monitors.clone();
    while let Some(pid) = stack.pop() {
        all.push(pid);
        stack.extend(children(pid));
    }
    for pid in &all {
        signal(*pid, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while all.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    monitors.len()
}

/// SIGTERM, then SIGKILL if still there after a second.
pub(crate) fn terminate(pid: u32) {
    stop_all(&[pid]);
}

/// Stops listeners (only processes that are still sshd: PIDs get reused)
/// and their connections.
pub(crate) fn stop_all(pids: &[u32]) {
    let pids: Vec<u32> = pids.iter().copied().filter(|p| is_sshd(*p)).collect();
    for &pid in &pids {
        kill_children(pid);
        signal(pid, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for &pid in pids.iter().filter(|p| alive(**p)) {
        signal(pid, libc::SIGKILL);
    }
}

/// Whether `addr` answers with an SSH version banner.
pub(crate) fn has_ssh_banner(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 8];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"SSH-2.0")
}

/// Runs `f(0..n)` on up to `workers` threads; results in index order.
pub(crate) fn parallel<T: Send>(n: usize, workers: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, n.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = f(i);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("every index ran")).collect()
}

/// The last lines of a log file, on one line, for error messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
    if tail.is_empty() {
        format!("(nothing in {})", path.display())
    } else {
        tail
    }
}
