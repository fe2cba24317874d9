use std::process::Command;
use std::time::Duration;

use chom_core::jobs::Control;
use chom_core::Selection;
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

/// Three servers that only a bastion can reach: refused directly; through
/// the bastion (one of them through another, a chain of two hops), each
/// hop's host key pinned and checked; a command on them rides on one
/// connection to the bastion; a loop and removing a bastion still in use
/// are refused; in a long-lived process, the bastion's connection killed
/// is replaced for the servers behind it; a changed key on the bastion
/// stops everything behind it.
#[test]
fn servers_behind_a_bastion_are_reached_through_it_on_one_connection() {
    require_keyring();
    let mut lab = Lab::start_any(4).expect("lab");
    let chom = Chom::new();
    let key = chom.json_ok(["key", "generate", "lab"]);
    lab.authorize_key(key["public_key"].as_str().unwrap()).expect("authorize");
    let hosts = lab.hosts().to_vec();
    let [bastion, inner, deep, third] = [&hosts[0], &hosts[1], &hosts[2], &hosts[3]];
    let add = |h: &chom_lab::LabHost, extra: &[&str]| {
        let (addr, port) = (h.addr.to_string(), h.port.to_string());
        let mut args =
            vec!["server", "add", &h.name, "--host", &addr, "--port", &port, "--user", lab.user(), "--key", "lab"];
        args.extend_from_slice(extra);
        chom.ok(args);
    };
    add(bastion, &[]);
    chom.ok(["server", "trust", &bastion.name, "--accept", &bastion.host_key_fingerprint]);
    let hidden: Vec<(String, u16)> = [inner, deep, third].iter().map(|h| (h.addr.to_string(), h.port)).collect();
    let _hidden = Hidden::hide(&hidden);

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
    add(third, &["--jump", &bastion.name]);
    chom.ok(["server", "trust", &third.name, "--accept", &third.host_key_fingerprint]);
    let shown = chom.json_ok(["server", "show", &deep.name]);
    assert_eq!(shown["server"]["jump"], inner.name.as_str(), "{shown:#}");

    // Both at once: one connection to the bastion carries them.
    let mut run = chom.command(["--json", "run", &inner.name, &deep.name, &third.name, "--", "hostname; sleep 3"]);
    let run = run.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut most = 0;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        most = most.max(connections_to(&bastion.addr.to_string(), bastion.port));
    }
    let out = run.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["succeeded"], 3, "{report:#}");
    let names: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stdout"].as_str().unwrap_or("").trim().to_owned())
        .collect();
    assert!(names.contains(&inner.name) && names.contains(&deep.name) && names.contains(&third.name), "{report:#}");
    assert_eq!(most, 1, "one connection to the bastion for the servers behind it");
    assert_eq!(connections_to(&inner.addr.to_string(), inner.port), 0);

    // A loop is refused where it would be made; a bastion in use stays.
    let out = chom.run(["server", "edit", &bastion.name, "--jump", &deep.name]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("would loop"), "{}", stderr_of(&out));
    let out = chom.run(["server", "remove", &bastion.name]);
    assert!(!out.status.success() && stderr_of(&out).contains("jump host of"), "{}", stderr_of(&out));
    let out = chom.run(["server", "edit", &deep.name, "--jump", "no-such-server"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));

    // The probe goes the same way.
    let (report, status) = chom.json(["probe", &inner.name, &deep.name, &third.name]);
    assert_eq!((status, report["succeeded"].as_u64()), (0, Some(3)), "{report:#}");

    // A long-lived process (the app's): the bastion's connection dies under
    // the servers behind it; their next command reconnects through a new one.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let core = chom_core::Chom::open(chom.data_dir()).unwrap();
        let sel = Selection { names: vec![deep.name.clone(), third.name.clone()], ..Default::default() };
        let before = core.fleet().run(&sel, "true", &Control::quiet()).await.unwrap();
        assert_eq!(before.succeeded, 2, "{before:?}");
        let open = core.pool().open_connections().await;
        assert!(lab.kill_connections(0).unwrap() >= 1, "the bastion's sshd served a connection");
        let after = core.fleet().run(&sel, "true", &Control::quiet()).await.unwrap();
        assert_eq!(after.succeeded, 2, "reconnected through a new bastion connection: {after:?}");
        assert_eq!(core.pool().open_connections().await, open, "the dead ones replaced, none added");
        core.finish().await;
    });

    // A changed key on the bastion: nothing behind it is reached.
    lab.restart_with_new_host_key(0).unwrap();
    let (report, status) = chom.json(["probe", &inner.name, &deep.name, &third.name]);
    assert_eq!((status, report["failed"].as_u64()), (1, Some(3)), "{report:#}");
    for r in report["results"].as_array().unwrap() {
        let error = r["error"].as_str().unwrap_or("");
        assert!(r["error_code"] == "host_key_changed" && error.contains(&bastion.name), "{r:#}");
    }
}
