//! The lab fleet: real OpenSSH servers (Debian's sshd) on loopback
//! addresses, each a separate host with its own address (127.S.x.y, port
//! 22), host key and hostname (its own UTS namespace), and a test user
//! `chomlab` whose authorized key the caller installs. Started concurrently,
//! ready when each answers with an SSH banner, stopped by PID.
//!
//! Only loopback addresses are ever used.

mod fake;
mod host;
mod proc;

pub use fake::{GarbageServer, SilentServer};
pub use host::LabHost;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("not root: the lab needs root to start sshd, create UTS namespaces and the test user")]
    NotRoot,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("lab file {path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error("host {name} ({addr}) did not answer with an SSH banner within {timeout:?}; its log says: {log}")]
    NotReady { name: String, addr: String, timeout: Duration, log: String },
    #[error("no lab host with index {0}")]
    NoSuchHost(usize),
    #[error("a lab holds at most 250*250 hosts")]
    TooMany,
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io { path: path.to_owned(), source }
}

/// The login user on every lab host.
pub const USER: &str = "chomlab";
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// What `lab.json` records, so a detached lab can be stopped by PID.
#[derive(Debug, Serialize, Deserialize)]
pub struct LabState {
    pub user: String,
    pub subnet: u8,
    pub hosts: Vec<LabHost>,
}

pub struct Lab {
    dir: PathBuf,
    subnet: u8,
    hosts: Vec<LabHost>,
    children: Vec<Option<std::process::Child>>,
    _temp: Option<tempfile::TempDir>,
    detached: bool,
}

impl Lab {
    /// Starts `hosts` hosts on 127.`subnet`.x.y in a new temporary directory.
    pub fn start(subnet: u8, hosts: usize) -> Result<Lab, LabError> {
        let temp = tempfile::Builder::new().prefix("chom-lab-").tempdir().map_err(io_err(Path::new("/tmp")))?;
        let mut lab = Self::start_in(temp.path(), subnet, hosts)?;
        lab._temp = Some(temp);
        Ok(lab)
    }

    /// Starts the lab with its files in `dir` (created if needed).
    pub fn start_in(dir: &Path, subnet: u8, hosts: usize) -> Result<Lab, LabError> {
        if !proc::is_root() {
            return Err(LabError::NotRoot);
        }
        if hosts > 250 * 250 {
            return Err(LabError::TooMany);
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        proc::ensure_user(USER)?;
        fs::create_dir_all("/run/sshd").map_err(io_err(Path::new("/run/sshd")))?;
        let keys = dir.join("authorized_keys");
        if !keys.exists() {
            fs::write(&keys, "").map_err(io_err(&keys))?;
        }
        proc::make_readable(dir)?;
        let width = hosts.to_string().len().max(2);
        let mut list: Vec<LabHost> = (0..hosts).map(|i| LabHost::new(i, subnet, width)).collect();
        host::generate_host_keys(dir, &mut list)?;
        let mut lab = Lab { dir: dir.to_owned(), subnet, hosts: list, children: Vec::new(), _temp: None, detached: false };
        for i in 0..hosts {
            let child = lab.hosts[i].spawn(dir)?;
            lab.hosts[i].pid = Some(child.id());
            lab.children.push(Some(child));
        }
        lab.wait_ready(0..hosts)?;
        lab.write_state()?;
        Ok(lab)
    }

    /// Takes over a detached lab from its `lab.json` (to restart or re-key a
    /// host); it stays detached: dropping it leaves the hosts running.
    pub fn attach(dir: &Path) -> Result<Lab, LabError> {
        let path = dir.join("lab.json");
        let text = fs::read(&path).map_err(io_err(&path))?;
        let state: LabState = serde_json::from_slice(&text)
            .map_err(|e| LabError::Command { what: format!("reading {}", path.display()), detail: e.to_string() })?;
        let children = state.hosts.iter().map(|_| None).collect();
        Ok(Lab { dir: dir.to_owned(), subnet: state.subnet, hosts: state.hosts, children, _temp: None, detached: true })
    }

    pub fn hosts(&self) -> &[LabHost] {
        &self.hosts
    }

    pub fn user(&self) -> &str {
        USER
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a public key line to the authorized_keys every host reads.
    pub fn authorize_key(&self, openssh_public_line: &str) -> Result<(), LabError> {
        authorize(&self.dir, openssh_public_line)
    }

    fn host(&self, i: usize) -> Result<&LabHost, LabError> {
        self.hosts.get(i).ok_or(LabError::NoSuchHost(i))
    }

    /// Stops host `i` (its listener and every open connection).
    pub fn stop_host(&mut self, i: usize) -> Result<(), LabError> {
        let pid = self.host(i)?.pid;
        if let Some(pid) = pid {
            proc::kill_children(pid);
            proc::terminate(pid);
        }
        if let Some(Some(mut child)) = self.children.get_mut(i).map(Option::take) {
            let _ = child.wait();
        }
        self.hosts[i].pid = None;
        self.write_state()
    }

    /// Starts a stopped host again, with the same host key.
    pub fn start_host(&mut self, i: usize) -> Result<(), LabError> {
        self.host(i)?;
        let child = self.hosts[i].spawn(&self.dir)?;
        self.hosts[i].pid = Some(child.id());
        self.children[i] = Some(child);
        self.wait_ready(i..i + 1)?;
        self.write_state()
    }

    /// Restarts host `i` with a freshly generated host key.
    pub fn restart_with_new_host_key(&mut self, i: usize) -> Result<(), LabError> {
        self.stop_host(i)?;
        host::generate_host_keys(&self.dir, &mut self.hosts[i..i + 1])?;
        self.start_host(i)
    }

    /// Lets host `i` accept password logins for the lab user, with this
    /// password, and read the user's own ~/.ssh/authorized_keys; restarts it
    /// (same host key). For tests of key installs over a password login.
    pub fn enable_password_login(&mut self, i: usize, password: &str) -> Result<(), LabError> {
        self.host(i)?;
        proc::set_password(USER, password)?;
        self.stop_host(i)?;
        self.hosts[i].password_login = true;
        self.start_host(i)
    }

    /// Kills the per-connection sshd processes of host `i`; its listener
    /// stays up. Returns how many were killed.
    pub fn kill_connections(&self, i: usize) -> Result<usize, LabError> {
        Ok(self.host(i)?.pid.map_or(0, proc::kill_children))
    }

    /// Leaves the hosts running and returns the lab directory; `lab.json`
    /// there lets `chom-lab down` stop them by PID.
    pub fn detach(mut self) -> PathBuf {
        self.detached = true;
        if let Some(t) = self._temp.take() {
            return t.keep();
        }
        self.dir.clone()
    }

    fn wait_ready(&self, range: std::ops::Range<usize>) -> Result<(), LabError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        for i in range {
            let h = &self.hosts[i];
            while !proc::has_ssh_banner(h.socket_addr()) {
                if Instant::now() > deadline {
                    let log = fs::read_to_string(h.log_path(&self.dir)).unwrap_or_default();
                    return Err(LabError::NotReady {
                        name: h.name.clone(),
                        addr: h.addr.to_string(),
                        timeout: READY_TIMEOUT,
                        log: log.lines().rev().take(5).collect::<Vec<_>>().join(" | "),
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }

    fn write_state(&self) -> Result<(), LabError> {
        let state = LabState { user: USER.into(), subnet: self.subnet, hosts: self.hosts.clone() };
        let path = self.dir.join("lab.json");
        fs::write(&path, serde_json::to_vec_pretty(&state).expect("state serializes")).map_err(io_err(&path))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        let pids: Vec<u32> = self.hosts.iter().filter_map(|h| h.pid).collect();
        proc::stop_all(&pids);
        for child in self.children.iter_mut().flatten() {
            let _ = child.wait();
        }
    }
}

/// Appends a key to a lab directory's authorized_keys.
pub fn authorize(dir: &Path, openssh_public_line: &str) -> Result<(), LabError> {
    use std::io::Write;
    let path = dir.join("authorized_keys");
    let mut f = fs::OpenOptions::new().append(true).open(&path).map_err(io_err(&path))?;
    writeln!(f, "{}", openssh_public_line.trim()).map_err(io_err(&path))
}

/// Stops a detached lab by the PIDs in its `lab.json` and removes the directory.
pub fn stop_detached(dir: &Path) -> Result<usize, LabError> {
    let path = dir.join("lab.json");
    let text = fs::read(&path).map_err(io_err(&path))?;
    let state: LabState = serde_json::from_slice(&text)
        .map_err(|e| LabError::Command { what: format!("reading {}", path.display()), detail: e.to_string() })?;
    let pids: Vec<u32> = state.hosts.iter().filter_map(|h| h.pid).collect();
    proc::stop_all(&pids);
    fs::remove_dir_all(dir).map_err(io_err(dir))?;
    Ok(pids.len())
}
