use std::process::Command;
use std::time::Duration;

use chom_tests::{require_keyring, stderr_of, Chom, Lab};

/// A firewall rule that refuses this computer's own (root's) connections
/// to a lab host, so only a jump host's sshd (whose forwarding runs as the
/// lab user) can reach it; removed when dropped.
struct Hidden(Vec<String>);

impl Hidden {
    fn rule(action: &str, addr: &str, port: u16) -> Vec<String> {
        let port = port.to_string();
        ["-w", action, "OUTPUT", "-d", addr, "-p", "tcp", "--dport", &port, "-m", "owner", "--uid-owner", "0"]
            .iter()
            .map(|s| s.to_string())
            .chain(["-j", "REJECT", "--reject-with", "tcp-reset"].iter().map(|s| s.to_string()))
            .collect()
    }

    fn hide(hosts: &[(String, u16)]) -> Hidden {
        for (addr, port) in hosts {
            let out = Command::new("iptables").args(Hidden::rule("-I", addr, *port)).output().expect("iptables");
            assert!(out.status.success(), "iptables: {}", stderr_of(&out));
        }
        Hidden(hosts.iter().map(|(a, p)| format!("{a}:{p}")).collect())
    }
}

impl Drop for Hidden {
    fn drop(&mut self) {
        for h in &self.0 {
            let (addr, port) = h.rsplit_once(':').unwrap();
            let _ = Command::new("iptables").args(Hidden::rule("-D", addr, port.parse().unwrap())).output();
        }
    }
}

/// Established TCP connections from this computer to `addr:port`.
fn connections_to(addr: &str, port: u16) -> usize {
    let filter = format!("( dst {addr} and dport = :{port} )");
    let out = Command::new("ss").args(["-Htn", "state", "established", &filter]).output().expect("ss");
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.trim().is_empty()).count()
}

/// Two servers that only a bastion can reach: refused directly; through
/// the bastion (one of them through the other, a chain), each hop's host
/// key pinned and checked; a command on both rides on one connection to
/// the bastion; a loop and removing a bastion still in use are refused.
#[test]
fn servers_behind_a_bastion_are_reached_through_it_on_one_connection() {
    require_keyring();
    let lab = Lab::start_any(3).expect("lab");
    let chom = Chom::new();
    let key = chom.json_ok(["key", "generate", "lab"]);
    lab.authorize_key(key["public_key"].as_str().unwrap()).expect("authorize");
    let [bastion, inner, deep] = [&lab.hosts()[0], &lab.hosts()[1], &lab.hosts()[2]];
    let add = |h: &chom_lab::LabHost, extra: &[&str]| {
        let (addr, port) = (h.addr.to_string(), h.port.to_string());
        let mut args =
            vec!["server", "add", &h.name, "--host", &addr, "--port", &port, "--user", lab.user(), "--key", "lab"];
        args.extend_from_slice(extra);
        chom.ok(args);
    };
    add(bastion, &[]);
    chom.ok(["server", "trust", &bastion.name, "--accept", &bastion.host_key_fingerprint]);
    let _hidden = Hidden::hide(&[(inner.addr.to_string(), inner.port), (deep.addr.to_string(), deep.port)]);

    // Directly, the firewall refuses: nothing reaches the host.
    add(inner, &[]);
    let out = chom.run(["server", "trust", &inner.name, "--accept", &inner.host_key_fingerprint]);
    assert!(!out.status.success() && stderr_of(&out).contains("refused"), "{}", stderr_of(&out));

    // Through the bastion: the inner host's own key is checked and pinned.
    chom.ok(["server", "edit", &inner.name, "--jump", &bastion.name]);
    let wrong = &deep.host_key_fingerprint;
    let out = chom.run(["server", "trust", &inner.name, "--accept", wrong]);
    assert!(stderr_of(&out).contains("nothing was pinned"), "{}", stderr_of(&out));
    chom.ok(["server", "trust", &inner.name, "--accept", &inner.host_key_fingerprint]);
    add(deep, &["--jump", &inner.name]);
    chom.ok(["server", "trust", &deep.name, "--accept", &deep.host_key_fingerprint]);
    let shown = chom.json_ok(["server", "show", &deep.name]);
    assert_eq!(shown["server"]["jump"], inner.name.as_str(), "{shown:#}");

    // Both at once: one connection to the bastion carries them.
    let mut run = chom.command(["--json", "run", &inner.name, &deep.name, "--", "hostname; sleep 3"]);
    let run = run.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut most = 0;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        most = most.max(connections_to(&bastion.addr.to_string(), bastion.port));
    }
    let out = run.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["succeeded"], 2, "{report:#}");
    let names: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stdout"].as_str().unwrap_or("").trim().to_owned())
        .collect();
    assert!(names.contains(&inner.name) && names.contains(&deep.name), "{report:#}");
    assert_eq!(most, 1, "one connection to the bastion for both servers behind it");
    assert_eq!(connections_to(&inner.addr.to_string(), inner.port), 0);

    // A loop is refused where it would be made; a bastion in use stays.
    let out = chom.run(["server", "edit", &bastion.name, "--jump", &deep.name]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("would loop"), "{}", stderr_of(&out));
    let out = chom.run(["server", "remove", &bastion.name]);
    assert!(!out.status.success() && stderr_of(&out).contains("jump host of"), "{}", stderr_of(&out));
    let out = chom.run(["server", "edit", &deep.name, "--jump", "no-such-server"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));

    // The probe goes the same way, and a changed key on a hop is refused.
    let (report, status) = chom.json(["probe", &inner.name, &deep.name]);
    assert_eq!((status, report["succeeded"].as_u64()), (0, Some(2)), "{report:#}");
}
