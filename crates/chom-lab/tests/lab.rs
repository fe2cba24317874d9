//! The lab itself: separate hosts that answer SSH, stop by PID, and change
//! host keys on demand. Needs root (scripts/test.sh).

use std::net::TcpStream;
use std::process::Command;

use chom_lab::Lab;

fn sshd_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sshd")
}

#[test]
fn hosts_are_separate_and_stop_cleanly() {
    let mut lab = Lab::start(31, 3).unwrap();
    let hosts = lab.hosts().to_vec();
    let mut fingerprints: Vec<&str> = hosts.iter().map(|h| h.host_key_fingerprint.as_str()).collect();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 3, "each host has its own key");

    // A throwaway client key, and each host reports its own hostname.
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("id");
    assert!(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key).status().unwrap().success());
    lab.authorize_key(&std::fs::read_to_string(key.with_extension("pub")).unwrap()).unwrap();
    for h in &hosts {
        let out = Command::new("ssh")
            .args(["-i", key.to_str().unwrap(), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"])
            .args(["-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"])
            .arg(format!("{}@{}", lab.user(), h.addr))
            .arg("cat /proc/sys/kernel/hostname")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), h.name, "{}", String::from_utf8_lossy(&out.stderr));
    }

    let old = hosts[1].host_key_fingerprint.clone();
    lab.restart_with_new_host_key(1).unwrap();
    assert_ne!(lab.hosts()[1].host_key_fingerprint, old);

    lab.stop_host(2).unwrap();
    assert!(TcpStream::connect(hosts[2].socket_addr()).is_err(), "a stopped host refuses connections");

    let pids: Vec<u32> = lab.hosts().iter().filter_map(|h| h.pid).collect();
    assert_eq!(pids.len(), 2);
    drop(lab);
    assert!(pids.iter().all(|p| !sshd_alive(*p)), "Drop stops every sshd");
}
