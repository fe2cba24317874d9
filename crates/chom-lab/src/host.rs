//! One lab host: its address, host key, sshd config and process.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::{io_err, LabError, USER};

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
        }
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::from((self.addr, self.port))
    }

    fn key_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.hostkey", self.name))
    }

    pub(crate) fn log_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.log", self.name))
    }

    fn write_config(&self, dir: &Path) -> Result<PathBuf, LabError> {
        let path = dir.join(format!("{}.sshd_config", self.name));
        let config = format!(
            "ListenAddress {addr}:{port}\n\
             HostKey {key}\n\
             PidFile {dir}/{name}.pid\n\
             AuthorizedKeysFile {dir}/authorized_keys{own_keys}\n\
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
            own_keys = if self.password_login { " .ssh/authorized_keys" } else { "" },
            password = if self.password_login { "yes" } else { "no" },
        );
        fs::write(&path, config).map_err(io_err(&path))?;
        Ok(path)
    }

    /// Starts sshd in its own UTS namespace with the host's name. `unshare`
    /// and `sh` exec into sshd, so the child's PID is sshd's.
    pub(crate) fn spawn(&self, dir: &Path) -> Result<Child, LabError> {
        let config = self.write_config(dir)?;
        let log = fs::File::create(self.log_path(dir)).map_err(io_err(&self.log_path(dir)))?;
        Command::new("unshare")
            .args(["--uts", "sh", "-c", "hostname \"$1\" && exec /usr/sbin/sshd -D -e -f \"$2\"", "sh"])
            .arg(&self.name)
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| LabError::Command { what: format!("starting sshd for {}", self.name), detail: e.to_string() })
    }
}

/// Generates a new ed25519 host key for each host (all at once) and records
/// its public line and fingerprint.
pub(crate) fn generate_host_keys(dir: &Path, hosts: &mut [LabHost]) -> Result<(), LabError> {
    for chunk in hosts.chunks_mut(64) {
        let mut running = Vec::new();
        for h in chunk.iter() {
            let key = h.key_path(dir);
            let _ = fs::remove_file(&key);
            let _ = fs::remove_file(key.with_extension("hostkey.pub"));
            let child = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", &h.name, "-f"])
                .arg(&key)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| LabError::Command { what: "ssh-keygen".into(), detail: e.to_string() })?;
            running.push(child);
        }
        for mut child in running {
            let status = child.wait().map_err(|e| LabError::Command { what: "ssh-keygen".into(), detail: e.to_string() })?;
            if !status.success() {
                return Err(LabError::Command { what: "ssh-keygen".into(), detail: status.to_string() });
            }
        }
    }
    for h in hosts.iter_mut() {
        let pub_path = PathBuf::from(format!("{}.pub", h.key_path(dir).display()));
        let line = fs::read_to_string(&pub_path).map_err(io_err(&pub_path))?;
        let mut fields = line.split_whitespace();
        h.host_key_public = format!("{} {}", fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        h.host_key_fingerprint = fingerprint(&pub_path)?;
    }
    Ok(())
}

fn fingerprint(pub_path: &Path) -> Result<String, LabError> {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_path)
        .output()
        .map_err(|e| LabError::Command { what: "ssh-keygen -lf".into(), detail: e.to_string() })?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .filter(|f| f.starts_with("SHA256:"))
        .map(str::to_owned)
        .ok_or_else(|| LabError::Command {
            what: format!("ssh-keygen -lf {}", pub_path.display()),
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
}
