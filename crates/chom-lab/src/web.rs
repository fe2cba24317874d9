//! Lab web hosts: Debian's sshd, nginx, PHP-FPM and MariaDB in a network,
//! mount, UTS and PID namespace per host, reachable at 198.18.I.2 (the
//! 198.18.0.0/15 benchmarking range, routed only to a veth pair on this
//! machine), logged into as root by key. And `pebble`, a local ACME server
//! at 198.18.255.1:14000, so certbot gets real certificates offline.
//!
//! The namespace work is in `webhost.sh` (ip, nsenter, unshare, Debian's
//! init scripts); this module runs it, records PIDs in `web.json` and stops
//! what it started.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::{Deserialize, Serialize};

use crate::{io_err, proc, LabError};

const SCRIPT: &str = include_str!("webhost.sh");
/// Where pebble listens (on the root namespace's loopback).
pub const PEBBLE_DIRECTORY: &str = "https://198.18.255.1:14000/dir";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebHost {
    /// Hostname and network namespace name: `chomw<index>`.
    pub name: String,
    pub index: u8,
    pub addr: Ipv4Addr,
    /// PID (root namespace) of the host's init; killing it stops the host.
    pub init: u32,
    /// The directory holding the host's own /etc, /var/www, ...
    pub root: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pebble {
    pub pids: Vec<u32>,
    /// The CA certificate of pebble's HTTPS listener (not the issuing root).
    pub ca_bundle: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct WebState {
    hosts: Vec<WebHost>,
    pebble: Option<Pebble>,
}

pub struct WebLab {
    dir: PathBuf,
    state: WebState,
    temp: Option<tempfile::TempDir>,
    detached: bool,
    /// The indexes, held against other labs (dropped after the hosts stop).
    claim: Option<crate::Claim>,
}

fn script(args: &[&str]) -> Result<Output, LabError> {
    let out = Command::new("bash")
        .arg("-c")
        .arg(SCRIPT)
        .arg("webhost.sh")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command { what: format!("webhost.sh {}", args[0]), detail: e.to_string() })?;
    if !out.status.success() {
        return Err(LabError::Command {
            what: format!("webhost.sh {}", args.join(" ")),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out)
}

impl WebHost {
    /// This machine's end of the host's link: where a service the host
    /// should reach (a git daemon, a mirror) listens.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, self.index, 1)
    }
}

impl WebLab {
    /// Starts `count` web hosts on indexes (100-199) no other lab on this
    /// machine holds, for as long as the lab lives.
    pub fn start_any(count: usize, root_key: &str) -> Result<WebLab, LabError> {
        let left_running = |i: u8| Path::new(&format!("/run/netns/chomw{i}")).exists();
        let claim = crate::claim("web", 100..=199, count, left_running)?;
        let mut lab = Self::start(claim.first, count, root_key)?;
        lab.claim = Some(claim);
        Ok(lab)
    }

    /// Starts `count` web hosts with indexes `first..first+count` (their
    /// addresses 198.18.I.2), in a new temporary directory, each accepting
    /// `root_key` (one OpenSSH public key line) for root.
    pub fn start(first: u8, count: usize, root_key: &str) -> Result<WebLab, LabError> {
        let temp =
            tempfile::Builder::new().prefix("chom-web-").tempdir_in("/tmp").map_err(io_err(Path::new("/tmp")))?;
        let mut lab = Self::start_in(temp.path(), first, count, root_key)?;
        lab.temp = Some(temp);
        Ok(lab)
    }

    pub fn start_in(dir: &Path, first: u8, count: usize, root_key: &str) -> Result<WebLab, LabError> {
        if !proc::is_root() {
            return Err(LabError::NotRoot);
        }
        if first as usize + count > 255 {
            return Err(LabError::TooMany(count));
        }
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let key_file = dir.join("root_key.pub");
        fs::write(&key_file, format!("{}\n", root_key.trim())).map_err(io_err(&key_file))?;
        let mut lab = WebLab {
            dir: dir.to_owned(),
            state: WebState { hosts: vec![], pebble: None },
            temp: None,
            detached: false,
            claim: None,
        };
        let indexes: Vec<u8> = (0..count).map(|i| first + i as u8).collect();
        // Hosts start in parallel: most of a start is MariaDB's init script waiting.
        let started = proc::parallel(count, 4, |k| {
            let index = indexes[k];
            let name = format!("chomw{index}");
            let root = dir.join(&name);
            let out = script(&["start", &name, &index.to_string(), path_str(&root)?, path_str(&key_file)?])?;
            let init = String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().map_err(|_| LabError::Command {
                what: format!("starting web host {name}"),
                detail: "the script printed no init PID".into(),
            })?;
            Ok(WebHost { name, index, addr: Ipv4Addr::new(198, 18, index, 2), init, root })
        });
        let mut first_err = None;
        for r in started {
            match r {
                Ok(h) => lab.state.hosts.push(h),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        lab.write_state()?;
        first_err.map_or(Ok(lab), Err)
    }

    /// Takes over web hosts started by `chom-lab web up`; dropping it
    /// leaves them running.
    pub fn attach(dir: &Path) -> Result<WebLab, LabError> {
        let path = dir.join("web.json");
        let text = fs::read(&path).map_err(|e| LabError::State { path: path.clone(), detail: e.to_string() })?;
        let state = serde_json::from_slice(&text).map_err(|e| LabError::State { path, detail: e.to_string() })?;
        Ok(WebLab { dir: dir.to_owned(), state, temp: None, detached: true, claim: None })
    }

    pub fn hosts(&self) -> &[WebHost] {
        &self.state.hosts
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn host(&self, i: usize) -> Result<&WebHost, LabError> {
        self.state.hosts.get(i).ok_or(LabError::NoSuchHost { index: i, count: self.state.hosts.len() })
    }

    /// Runs `sh -c command` as root inside host `i` (all its namespaces),
    /// for tests to look at a host without going through CHOM.
    pub fn exec(&self, i: usize, command: &str) -> Result<Output, LabError> {
        let h = self.host(i)?;
        Command::new("nsenter")
            .args(["-t", &h.init.to_string(), "-a", "sh", "-c", command])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LabError::Command { what: format!("nsenter into {}", h.name), detail: e.to_string() })
    }

    /// Kills host `i`'s SSH sessions (every sshd but the listener): the
    /// connection drops mid-command, as when a network link fails.
    pub fn kill_ssh_sessions(&self, i: usize) -> Result<(), LabError> {
        // Children of the listener are the per-connection processes; the
        // listener's own title also starts with "sshd: " on Debian 12.
        self.exec(i, "pkill -KILL -P \"$(cat /run/sshd.pid)\" || true").map(drop)
    }

    /// Starts pebble and its DNS (pebble-challtestsrv). One per machine:
    /// its address is fixed.
    pub fn start_pebble(&mut self) -> Result<&Pebble, LabError> {
        let dir = self.dir.join("pebble");
        let out = script(&["pebble-start", path_str(&dir)?])?;
        let pids = String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect();
        self.state.pebble = Some(Pebble { pids, ca_bundle: dir.join("pebble.pem") });
        self.write_state()?;
        Ok(self.state.pebble.as_ref().expect("just set"))
    }

    pub fn pebble(&self) -> Option<&Pebble> {
        self.state.pebble.as_ref()
    }

    /// Makes pebble's DNS answer `domain` with host `i`'s address, so
    /// HTTP-01 validation reaches that host's nginx.
    pub fn pebble_point(&self, domain: &str, i: usize) -> Result<(), LabError> {
        let addr = self.host(i)?.addr.to_string();
        script(&["pebble-add-a", domain, &addr]).map(drop)
    }

    pub fn detach(mut self) -> PathBuf {
        self.detached = true;
        let _ = self.write_state();
        match self.temp.take() {
            Some(t) => t.keep(),
            None => self.dir.clone(),
        }
    }

    fn write_state(&self) -> Result<(), LabError> {
        let path = self.dir.join("web.json");
        fs::write(&path, serde_json::to_vec_pretty(&self.state).expect("state serializes")).map_err(io_err(&path))
    }

    /// Stops every host and pebble, and removes their files.
    pub fn stop(mut self) {
        self.stop_all();
        self.detached = true;
    }

    fn stop_all(&mut self) {
        for h in self.state.hosts.drain(..) {
            if let Ok(root) = path_str(&h.root) {
                let _ = script(&["stop", &h.name, &h.init.to_string(), root]);
            }
        }
        if let Some(p) = self.state.pebble.take() {
            let pids: Vec<String> = p.pids.iter().map(u32::to_string).collect();
            let mut args = vec!["pebble-stop"];
            args.extend(pids.iter().map(String::as_str));
            let _ = script(&args);
        }
        for name in ["web.json", "root_key.pub"] {
            let _ = fs::remove_file(self.dir.join(name));
        }
        let _ = fs::remove_dir_all(self.dir.join("pebble"));
        let _ = fs::remove_dir(&self.dir);
    }
}

impl Drop for WebLab {
    fn drop(&mut self) {
        if !self.detached {
            self.stop_all();
        }
    }
}

fn path_str(p: &Path) -> Result<&str, LabError> {
    p.to_str()
        .ok_or_else(|| LabError::Command { what: "lab path".into(), detail: format!("{} is not UTF-8", p.display()) })
}
