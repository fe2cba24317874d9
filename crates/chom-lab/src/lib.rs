//! The lab fleet: real OpenSSH servers (Debian's sshd) on loopback
//! addresses, each a separate host with its own address (127.S.x.y, port
//! 22), host key and hostname (its own UTS namespace), and a test user
//! `chomlab` whose authorized key the caller installs. Started concurrently,
//! ready when each answers with an SSH banner, stopped by PID.
//!
//! Only loopback addresses are ever used.

mod claim;
mod fake;
mod host;
mod proc;
mod web;

pub use claim::{claim, Claim};
pub use fake::{GarbageServer, SilentServer};
pub use host::LabHost;
pub use web::{Pebble, WebHost, WebLab, PEBBLE_DIRECTORY};

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("not root: the lab needs root to start sshd, create UTS namespaces and the test user; run as root (scripts/test.sh)")]
    NotRoot,
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("lab file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{addr} already answers before the lab started: another lab or server uses this subnet; pick another subnet or stop it (`chom-lab down --dir DIR`)")]
    AddressInUse { addr: SocketAddr },
    #[error("sshd for host {name} ({addr}) exited while starting; its log says: {log}")]
    Exited { name: String, addr: SocketAddr, log: String },
    #[error("host {name} ({addr}) did not answer with an SSH banner within {timeout:?} (machine overloaded? start fewer hosts); its log says: {log}")]
    NotReady { name: String, addr: SocketAddr, timeout: Duration, log: String },
    #[error("no lab host with index {index}: the lab has {count} hosts (0-based)")]
    NoSuchHost { index: usize, count: usize },
    #[error("a lab holds at most {MAX_HOSTS} hosts (250 per third address byte); asked for {0}")]
    TooMany(usize),
    #[error(
        "no {count} free {kind} block(s) in {range}: other labs hold them all; stop some (`chom-lab down`) or wait"
    )]
    NoFreeBlock { kind: String, range: String, count: usize },
    #[error("reading lab state {path}: {detail}; is this a directory made by `chom-lab up`?")]
    State { path: PathBuf, detail: String },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io { path: path.to_owned(), source }
}

/// The login user on every lab host.
pub const USER: &str = "chomlab";
/// How long every host of a start together may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Threads starting hosts at once (more only adds contention on 2 cores).
const WORKERS: usize = 8;
pub const MAX_HOSTS: usize = 250 * 250;

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
    temp: Option<tempfile::TempDir>,
    detached: bool,
    /// The subnet, held against other labs (dropped after the hosts stop).
    claim: Option<Claim>,
}

impl Lab {
    /// Starts `hosts` hosts on a subnet (20-59) no other lab on this
    /// machine holds, for as long as the lab lives.
    pub fn start_any(hosts: usize) -> Result<Lab, LabError> {
        let answers = |s: u8| {
            let addr = SocketAddr::from(([127, s, 0, 1], 22));
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
        };
        let claim = claim::claim("fleet", 20..=59, 1, answers)?;
        let mut lab = Self::start(claim.first, hosts)?;
        lab.claim = Some(claim);
        Ok(lab)
    }

    /// The second byte of the lab's addresses (127.S.x.y).
    pub fn subnet(&self) -> u8 {
        self.subnet
    }

    /// Starts `hosts` hosts on 127.`subnet`.x.y in a new temporary directory.
    pub fn start(subnet: u8, hosts: usize) -> Result<Lab, LabError> {
        let temp =
            tempfile::Builder::new().prefix("chom-lab-").tempdir_in("/tmp").map_err(io_err(Path::new("/tmp")))?;
        let mut lab = Self::start_in(temp.path(), subnet, hosts)?;
        lab.temp = Some(temp);
        Ok(lab)
    }

    /// Starts the lab with its files in `dir` (created if needed). Drop
    /// removes the lab's files and then `dir` if it is left empty.
    pub fn start_in(dir: &Path, subnet: u8, hosts: usize) -> Result<Lab, LabError> {
        if !proc::is_root() {
            return Err(LabError::NotRoot);
        }
        if hosts > MAX_HOSTS {
            return Err(LabError::TooMany(hosts));
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let width = hosts.to_string().len().max(2);
        let list: Vec<LabHost> = (0..hosts).map(|i| LabHost::new(i, subnet, width)).collect();
        let children = (0..hosts).map(|_| None).collect();
        // From here on, a failure drops `lab`, which stops what started and
        // removes the files written so far.
        let mut lab =
            Lab { dir: dir.to_owned(), subnet, hosts: list, children, temp: None, detached: false, claim: None };
        proc::ensure_user(USER)?;
        fs::create_dir_all("/run/sshd").map_err(io_err(Path::new("/run/sshd")))?;
        let keys = dir.join("authorized_keys");
        if !keys.exists() {
            fs::write(&keys, "").map_err(io_err(&keys))?;
        }
        proc::make_readable(dir)?;
        host::generate_host_keys(dir, &mut lab.hosts)?;
        lab.start_hosts(&(0..hosts).collect::<Vec<_>>())?;
        Ok(lab)
    }

    /// Starts the given hosts concurrently and waits for their banners; on
    /// an error the hosts that did start stay recorded, for Drop to stop.
    fn start_hosts(&mut self, which: &[usize]) -> Result<(), LabError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let (dir, hosts) = (&self.dir, &self.hosts);
        let started = proc::parallel(which.len(), WORKERS, |k| {
            let h = &hosts[which[k]];
            h.check_address_free()?;
            let child = h.spawn(dir)?;
            let ready = h.wait_ready(dir, child.id(), deadline, READY_TIMEOUT);
            Ok((child, ready))
        });
        let mut first_err = None;
        for (&i, result) in which.iter().zip(started) {
            match result {
                Ok((child, ready)) => {
                    self.hosts[i].pid = Some(child.id());
                    self.children[i] = Some(child);
                    if let Err(e) = ready {
                        first_err.get_or_insert(e);
                    }
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        self.write_state()?;
        first_err.map_or(Ok(()), Err)
    }

    /// Takes over a detached lab from its `lab.json` (to restart or re-key a
    /// host); it stays detached: dropping it leaves the hosts running.
    pub fn attach(dir: &Path) -> Result<Lab, LabError> {
        let state = read_state(dir)?;
        let children = state.hosts.iter().map(|_| None).collect();
        Ok(Lab {
            dir: dir.to_owned(),
            subnet: state.subnet,
            hosts: state.hosts,
            children,
            temp: None,
            detached: true,
            claim: None,
        })
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
        self.hosts.get(i).ok_or(LabError::NoSuchHost { index: i, count: self.hosts.len() })
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

    /// Starts a stopped host again, with the same host key (nothing to do
    /// if it runs).
    pub fn start_host(&mut self, i: usize) -> Result<(), LabError> {
        if self.host(i)?.pid.is_some_and(proc::is_sshd) {
            return Ok(());
        }
        self.start_hosts(&[i])
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

    /// Gives host `i` a home of its own for the lab user, whose
    /// ~/.ssh/authorized_keys (holding `authorized`, one key per line) is
    /// then the only one it reads; restarts it (same host key). For tests
    /// that change one host's keys apart from the others'.
    pub fn give_own_home(&mut self, i: usize, authorized: &str) -> Result<(), LabError> {
        let home = self.host(i)?.home_path(&self.dir);
        let ssh = home.join(".ssh");
        fs::create_dir_all(&ssh).map_err(io_err(&ssh))?;
        let keys = ssh.join("authorized_keys");
        fs::write(&keys, authorized).map_err(io_err(&keys))?;
        proc::chown_to(USER, &home)?;
        self.stop_host(i)?;
        self.hosts[i].own_home = true;
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
        let _ = self.write_state();
        match self.temp.take() {
            Some(t) => t.keep(),
            None => self.dir.clone(),
        }
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
        // A temporary dir goes with `temp`; a caller's dir loses only our files.
        if self.temp.is_none() {
            remove_lab_files(&self.dir, &self.hosts);
        }
    }
}

/// Appends a key to a lab directory's authorized_keys.
pub fn authorize(dir: &Path, openssh_public_line: &str) -> Result<(), LabError> {
    use std::io::Write;
    let line = openssh_public_line.trim();
    if line.is_empty() || line.contains('\n') {
        return Err(LabError::Command {
            what: "authorizing a key".into(),
            detail: "expected one OpenSSH public key line (\"ssh-ed25519 AAAA... comment\")".into(),
        });
    }
    let path = dir.join("authorized_keys");
    let mut f = fs::OpenOptions::new().append(true).open(&path).map_err(io_err(&path))?;
    writeln!(f, "{line}").map_err(io_err(&path))
}

fn read_state(dir: &Path) -> Result<LabState, LabError> {
    let path = dir.join("lab.json");
    let text = fs::read(&path).map_err(|e| LabError::State { path: path.clone(), detail: e.to_string() })?;
    serde_json::from_slice(&text).map_err(|e| LabError::State { path, detail: e.to_string() })
}

/// Stops a detached lab by the PIDs in its `lab.json` and removes its
/// files (and the directory, once empty); returns how many hosts ran.
pub fn stop_detached(dir: &Path) -> Result<usize, LabError> {
    let state = read_state(dir)?;
    let pids: Vec<u32> = state.hosts.iter().filter_map(|h| h.pid).collect();
    proc::stop_all(&pids);
    remove_lab_files(dir, &state.hosts);
    Ok(pids.len())
}

/// Removes the files a lab wrote, then its directory if nothing else is
/// left there: never anything the lab did not make.
fn remove_lab_files(dir: &Path, hosts: &[LabHost]) {
    for h in hosts {
        for path in h.files(dir) {
            let _ = fs::remove_file(path);
        }
        if h.own_home {
            let _ = fs::remove_dir_all(h.home_path(dir));
        }
    }
    for name in ["authorized_keys", "lab.json", "hostkeys.pub"] {
        let _ = fs::remove_file(dir.join(name));
    }
    let _ = fs::remove_dir(dir);
}
