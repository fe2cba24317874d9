use std::fmt::Write as _;

use chom_tests::{require_keyring, Chom, Lab};

/// 300 healthy hosts, all asked for at once with a 1 s connect timeout on
/// this 2-core machine (client and every sshd share its CPUs). Started
/// together, most handshakes waited for a CPU past the timeout (274 to 297
/// of 300 failed before the pacer); paced, the window opens only as far as
/// handshakes stay fast, each attempt's clock starts when it is let go, and
/// every host answers. The fleet comes in through an ssh config and a
/// known_hosts file, as an operator's would.
#[test]
fn three_hundred_hosts_at_once_with_a_one_second_timeout_all_answer() {
    require_keyring();
    let lab = Lab::start_any(300).expect("lab");
    let chom = Chom::new();
    let key = chom.json_ok(["key", "generate", "lab"]);
    let public = key["public_key"].as_str().unwrap();
    lab.authorize_key(public).expect("authorize");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("id.pub"), format!("{public}\n")).unwrap();
    let mut config = format!("Host lab-*\n  User {}\n  IdentityFile {}/id\n", lab.user(), dir.path().display());
    let mut known = String::new();
    for h in lab.hosts() {
        writeln!(config, "Host {}\n  HostName {}\n  Port {}", h.name, h.addr, h.port).unwrap();
        writeln!(known, "{} {}", h.addr, h.host_key_public).unwrap();
    }
    let (config_file, known_file) = (dir.path().join("config"), dir.path().join("known_hosts"));
    std::fs::write(&config_file, config).unwrap();
    std::fs::write(&known_file, known).unwrap();
    let plan = chom.json_ok(["import", "ssh-config", config_file.to_str().unwrap()]);
    assert_eq!(plan["applied"], true, "{plan:#}");
    chom.json_ok(["import", "known-hosts", known_file.to_str().unwrap()]);

    let args = ["--connect-parallel", "300", "--connect-timeout", "1", "run", "--all", "--", "true"];
    let (report, status) = chom.json(args);
    let failed: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] != true)
        .map(|r| format!("{}: {}", r["server"], r["error"]))
        .take(5)
        .collect();
    assert_eq!((status, report["succeeded"].as_u64()), (0, Some(300)), "failed (first 5): {failed:#?}");
}
