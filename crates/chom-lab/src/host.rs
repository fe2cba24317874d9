//! One lab host: its address, host key, sshd config and process.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use std::time::{Duration, Instant};

use crate::{io_err, proc, LabError, USER};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabHost {
    pub index: usize,
    /// "lab-07": also the host's hostname.
    pub name: String,
    pub addr: Ipv4Addr,
    pub port: u16,
    /// "SHA256:..." as `ssh-keygen -lf` prints it.
    pub host_key_fingerprint: String,
    /// "ssh-ed25519 AAAA..." (no comment).
    pub host_key_public: String,
    /// sshd's PID while the host runs.
    pub pid: Option<u32>,
    /// Password logins allowed, and the user's own ~/.ssh/authorized_keys
    /// read too (for ssh-copy-id style key installs).
    #[serde(default)]
    pub password_login: bool,
    /// The lab user's home is this host's own folder (bind-mounted over
    /// it in the host's mount namespace), and only its
    /// ~/.ssh/authorized_keys authorizes logins: a host whose keys can be
    /// changed apart from the others'.
    #[serde(default)]
    pub own_home: bool,
}

impl LabHost {
    pub(crate) fn new(index: usize, subnet: u8, width: usize) -> LabHost {
        LabHost {
            index,
            name: format!("lab-{:0width$}", index + 1),
            addr: Ipv4Addr::new(127, subnet, (index / 250) as u8, (index % 250 + 1) as u8),
            port: 22,
            host_key_fingerprint: String::new(),
            host_key_public: String::new(),
            pid: None,
            password_login: false,
            own_home: false,
        }
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::from((self.addr, self.port))
    }

    fn key_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.hostkey", self.name))
    }

    /// The host's own home for the lab user, when it has one.
    pub fn home_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.home", self.name))
    }

    pub(crate) fn log_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.log", self.name))
    }

    /// Every file the lab writes for this host.
    pub(crate) fn files(&self, dir: &Path) -> Vec<PathBuf> {
        ["hostkey", "hostkey.pub", "sshd_config", "pid", "log"]
            .iter()
            .map(|ext| dir.join(format!("{}.{ext}", self.name)))
            .collect()
    }

    fn write_config(&self, dir: &Path) -> Result<PathBuf, LabError> {
        let path = dir.join(format!("{}.sshd_config", self.name));
        let authorized = if self.own_home {
            ".ssh/authorized_keys".to_owned()
        } else {
            format!(
                "{}/authorized_keys{}",
                dir.display(),
                if self.password_login { " .ssh/authorized_keys" } else { "" }
            )
        };
        let config = format!(
            "ListenAddress {addr}:{port}\n\
             HostKey {key}\n\
             PidFile {dir}/{name}.pid\n\
             AuthorizedKeysFile {authorized}\n\
             AllowUsers {USER}\n\
             UsePAM no\n\
             StrictModes no\n\
             PasswordAuthentication {password}\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin no\n\
             MaxStartups 1000\n\
             MaxSessions 100\n\
             LogLevel ERROR\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n",
            addr = self.addr,
            port = self.port,
            key = self.key_path(dir).display(),
            dir = dir.display(),
            name = self.name,
            password = if self.password_login { "yes" } else { "no" },
        );
        fs::write(&path, config).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Starts sshd in its own UTS namespace with the host's name (and, for
    /// a host with a home of its own, its own mount namespace with that
    /// home over the lab user's). `unshare` and `sh` exec into sshd, so the
    /// child's PID is sshd's.
    pub(crate) fn spawn(&self, dir: &Path) -> Result<Child, LabError> {
        let config = self.write_config(dir)?;
        let log = fs::File::create(self.log_path(dir)).map_err(io_err(&self.log_path(dir)))?;
        let (namespaces, mount) = if self.own_home {
            (&["--uts", "--mount", "--propagation", "private"][..], "mount --bind \"$3\" \"$4\" && ")
        } else {
            (&["--uts"][..], "")
        };
        let script = format!("{mount}hostname \"$1\" && exec /usr/sbin/sshd -D -e -f \"$2\"");
        Command::new("unshare")
            .args(namespaces)
            .args(["sh", "-c", &script, "sh"])
            .arg(&self.name)
            .arg(&config)
            .arg(self.home_path(dir))
            .arg(proc::home_of(USER)?)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| LabError::Command { what: format!("starting sshd for {}", self.name), detail: e.to_string() })
    }
}

impl LabHost {
    /// Waits until sshd `pid` answers with an SSH banner; fails at once if
    /// it exits (bind error, bad config), or at `deadline`, with its log.
    pub(crate) fn wait_ready(
        &self,
        dir: &Path,
        pid: u32,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), LabError> {
        loop {
            let alive = proc::alive(pid);
            if alive && proc::has_ssh_banner(self.socket_addr()) {
                return Ok(());
            }
            let (name, addr, log) = (self.name.clone(), self.socket_addr(), proc::log_tail(&self.log_path(dir)));
            if !alive {
                return Err(LabError::Exited { name, addr, log });
            }
            if Instant::now() > deadline {
                return Err(LabError::NotReady { name, addr, timeout, log });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Refuses to start where something already listens: its banner would
    /// pass for this host's.
    pub(crate) fn check_address_free(&self) -> Result<(), LabError> {
        match std::net::TcpStream::connect_timeout(&self.socket_addr(), Duration::from_millis(200)) {
            Ok(_) => Err(LabError::AddressInUse { addr: self.socket_addr() }),
            Err(_) => Ok(()),
        }
    }
}

/// Generates a new ed25519 host key for each host (in parallel) and records
/// its public line and `SHA256:` fingerprint (one `ssh-keygen -lf` over all
/// the public keys: it prints one line per key, in order).
pub(crate) fn generate_host_keys(dir: &Path, hosts: &mut [LabHost]) -> Result<(), LabError> {
    let results = proc::parallel(hosts.len(), 16, |i| {
        let (h, key) = (&hosts[i], hosts[i].key_path(dir));
        let _ = fs::remove_file(&key);
        let _ = fs::remove_file(pub_path(&key));
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", &h.name, "-f"])
            .arg(&key)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LabError::Command {
                what: "ssh-keygen".into(),
                detail: format!("{e} (install openssh-client)"),
            })?;
        if !out.status.success() {
            let detail = format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
            return Err(LabError::Command { what: format!("ssh-keygen -f {}", key.display()), detail });
        }
        fs::read_to_string(pub_path(&key)).map_err(io_err(&pub_path(&key)))
    });
    let lines = results.into_iter().collect::<Result<Vec<String>, LabError>>()?;
    let all = dir.join("hostkeys.pub");
    fs::write(&all, lines.concat()).map_err(io_err(&all))?;
    let fingerprints = fingerprints(&all);
    let _ = fs::remove_file(&all);
    let fingerprints = fingerprints?;
    if fingerprints.len() != hosts.len() {
        return Err(LabError::Command {
            what: format!("ssh-keygen -lf {}", all.display()),
            detail: format!("{} fingerprints for {} keys", fingerprints.len(), hosts.len()),
        });
    }
    for ((h, line), fp) in hosts.iter_mut().zip(lines).zip(fingerprints) {
        let mut fields = line.split_whitespace();
        h.host_key_public = format!("{} {}", fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        h.host_key_fingerprint = fp;
    }
    Ok(())
}

fn pub_path(key: &Path) -> PathBuf {
    PathBuf::from(format!("{}.pub", key.display()))
}

/// The second field of each line `ssh-keygen -lf` prints ("SHA256:...").
fn fingerprints(pub_path: &Path) -> Result<Vec<String>, LabError> {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_path)
        .output()
        .map_err(|e| LabError::Command { what: "ssh-keygen -lf".into(), detail: e.to_string() })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .map(|l| l.split_whitespace().nth(1).filter(|f| f.starts_with("SHA256:")).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .filter(|_| out.status.success())
        .ok_or_else(|| LabError::Command {
            what: format!("ssh-keygen -lf {}", pub_path.display()),
            detail: format!("{}{}", stdout.trim(), String::from_utf8_lossy(&out.stderr).trim()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_names() {
        let at = |i, width| {
            let h = LabHost::new(i, 40, width);
            (h.name, h.addr.to_string())
        };
        assert_eq!(at(0, 2), ("lab-01".into(), "127.40.0.1".into()));
        assert_eq!(at(249, 3), ("lab-250".into(), "127.40.0.250".into()));
        assert_eq!(at(250, 3), ("lab-251".into(), "127.40.1.1".into()));
        assert_eq!(at(62_499, 5), ("lab-62500".into(), "127.40.249.250".into()));
    }
}
