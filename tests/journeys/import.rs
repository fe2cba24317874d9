use std::process::Command;

use chom_tests::{require_keyring, stderr_of, Chom, Lab};
use serde_json::Value;

fn actions(plan: &Value) -> Vec<(String, String)> {
    let servers = plan["servers"].as_array().expect("servers");
    servers.iter().map(|s| (s["name"].as_str().unwrap().to_owned(), s["action"].as_str().unwrap().to_owned())).collect()
}

fn endpoint(addr: &str, port: u16) -> String {
    if port == 22 {
        addr.to_owned()
    } else {
        format!("[{addr}]:{port}")
    }
}

/// An operator's ~/.ssh/config, known_hosts and Ansible inventory bring
/// the lab fleet in: a dry run changes nothing, the import adds what the
/// config names (defaults from a wildcard block, the key matched by its
/// public half, a ProxyJump through another imported host kept as its jump
/// host, one through a host CHOM does not know skipped with the reason), a
/// second import changes nothing; known_hosts (one line hashed) pins the
/// keys, so the fleet is probed without a trust step; a @revoked line
/// unpins that key and CHOM refuses it for good; the inventory adds its
/// groups as tags, and the export reads back.
#[test]
fn ssh_config_known_hosts_and_ansible_bring_a_fleet_in() {
    require_keyring();
    let lab = Lab::start_any(3).expect("lab");
    let chom = Chom::new();
    let key = chom.json_ok(["key", "generate", "lab"]);
    let public = key["public_key"].as_str().expect("public key");
    lab.authorize_key(public).expect("authorize");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("id_lab.pub"), format!("{public}\n")).unwrap();
    let [h0, h1, h2] = [&lab.hosts()[0], &lab.hosts()[1], &lab.hosts()[2]];
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host {n0}\n  HostName {a0}\n  Port {p0}\n\
             Host {n1}\n  HostName {a1}\n  Port {p1}\n\
             Host {n2}\n  HostName {a2}\n  Port {p2}\n  ProxyJump {n0}\n\
             Host stranger\n  HostName {a2}\n  ProxyJump nobody.example.test\n\
             Host lab-*\n  User {user}\n  ForwardAgent yes\n  IdentityFile {id}\n",
            n0 = h0.name,
            a0 = h0.addr,
            p0 = h0.port,
            n1 = h1.name,
            a1 = h1.addr,
            p1 = h1.port,
            n2 = h2.name,
            a2 = h2.addr,
            p2 = h2.port,
            user = lab.user(),
            id = dir.path().join("id_lab").display(),
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();

    let plan = chom.json_ok(["import", "ssh-config", cfg, "--dry-run"]);
    let stranger = "stranger".to_owned();
    let want = [(&h0.name, "add"), (&h1.name, "add"), (&h2.name, "add"), (&stranger, "skip")];
    let want: Vec<(String, String)> = want.iter().map(|(n, a)| (n.to_string(), a.to_string())).collect();
    assert_eq!(actions(&plan), want, "{plan:#}");
    assert_eq!(plan["applied"], false);
    let s0 = &plan["servers"][0];
    assert_eq!((s0["user"].as_str(), s0["key"].as_str()), (Some(lab.user()), Some("lab")), "{plan:#}");
    assert!(s0["notes"].to_string().contains("ignored: ForwardAgent"), "{plan:#}");
    assert_eq!(plan["servers"][2]["jump"], h0.name.as_str(), "{plan:#}");
    let why = plan["servers"][3]["notes"][0].as_str().unwrap();
    assert!(why.contains("ProxyJump nobody.example.test") && why.contains("no server CHOM has"), "{plan:#}");
    assert_eq!(chom.json_ok(["server", "list"]).as_array().unwrap().len(), 0, "a dry run changes nothing");

    let plan = chom.json_ok(["import", "ssh-config", cfg]);
    assert_eq!(plan["applied"], true, "{plan:#}");
    let again = chom.json_ok(["import", "ssh-config", cfg]);
    assert_eq!(again["applied"], false, "{again:#}");
    assert!(actions(&again)[..3].iter().all(|(_, a)| a == "unchanged"), "{again:#}");
    // h2 is reached through h0 from now on; this test goes on with h0, h1.
    chom.ok(["server", "remove", &h2.name]);

    // Not pinned yet: the probe refuses both before any credential.
    let (report, status) = chom.json(["probe", "--all"]);
    assert_eq!((status, report["failed"].as_u64()), (1, Some(2)), "{report:#}");

    // known_hosts, h1's line hashed by ssh-keygen -H.
    let known = dir.path().join("known_hosts");
    let line = |h: &chom_lab::LabHost| format!("{} {}\n", endpoint(&h.addr.to_string(), h.port), h.host_key_public);
    std::fs::write(&known, line(h1)).unwrap();
    let hashed = Command::new("ssh-keygen").arg("-H").arg("-f").arg(&known).output().expect("ssh-keygen -H");
    assert!(hashed.status.success(), "{}", stderr_of(&hashed));
    let text = std::fs::read_to_string(&known).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    // h0 has two keys in the file: the first is not the one its sshd holds,
    // so it logs in only because the second is pinned beside it.
    let other = dir.path().join("other_host_key");
    let made = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", ""]).arg("-f").arg(&other).output();
    assert!(made.unwrap().status.success());
    let other_public = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_public: Vec<&str> = other_public.split_whitespace().take(2).collect();
    let other_line = format!("{} {}\n", endpoint(&h0.addr.to_string(), h0.port), other_public.join(" "));
    std::fs::write(&known, format!("# the operator's\n{other_line}{}{text}not a line\n", line(h0))).unwrap();
    let kh = known.to_str().unwrap();
    let plan = chom.json_ok(["import", "known-hosts", kh]);
    let pins: Vec<&str> = plan["host_keys"].as_array().unwrap().iter().map(|k| k["action"].as_str().unwrap()).collect();
    assert_eq!(pins, ["pin", "pin", "pin"], "{plan:#}");
    assert!(plan["warnings"].to_string().contains("line 5"), "the bad line is named: {plan:#}");
    let shown = chom.json_ok(["server", "show", &h0.name]);
    assert_ne!(shown["host_key"]["fingerprint"], h0.host_key_fingerprint.as_str(), "{shown:#}");
    assert_eq!(shown["more_host_keys"][0]["fingerprint"], h0.host_key_fingerprint.as_str(), "{shown:#}");
    let (report, status) = chom.json(["probe", "--all"]);
    assert_eq!((status, report["succeeded"].as_u64()), (0, Some(2)), "{report:#}");
    assert_eq!(chom.json_ok(["import", "known-hosts", kh])["applied"], false, "a second import changes nothing");

    // Revoked: h0's key is unpinned, refused at connect and at trust.
    let revoked = dir.path().join("revoked");
    std::fs::write(&revoked, format!("@revoked {}", line(h0))).unwrap();
    let plan = chom.json_ok(["import", "known-hosts", revoked.to_str().unwrap()]);
    assert_eq!(plan["host_keys"][0]["action"], "revoke", "{plan:#}");
    let (report, _) = chom.json(["probe", &h0.name]);
    assert_eq!(report["failed"], 1, "{report:#}");
    let out = chom.run(["server", "trust", &h0.name, "--accept", &h0.host_key_fingerprint]);
    assert!(!out.status.success() && stderr_of(&out).contains("@revoked"), "{}", stderr_of(&out));
    let plan = chom.json_ok(["import", "known-hosts", kh]);
    assert!(plan["host_keys"].as_array().unwrap().iter().all(|k| k["action"] != "pin"), "never pinned again: {plan:#}");

    // Ansible: its groups become tags; the export names the fleet.
    let inventory = dir.path().join("hosts.ini");
    std::fs::write(
        &inventory,
        format!(
            "[web]\n{} ansible_host={} ansible_port={} ansible_user={}\n[prod:children]\nweb\n",
            h1.name,
            h1.addr,
            h1.port,
            lab.user()
        ),
    )
    .unwrap();
    let plan = chom.json_ok(["import", "ansible", inventory.to_str().unwrap()]);
    assert_eq!(actions(&plan), [(h1.name.clone(), "update".to_owned())], "{plan:#}");
    let server = chom.json_ok(["server", "show", &h1.name]);
    let tags = server["server"]["tags"].to_string();
    assert!(tags.contains("web") && tags.contains("prod"), "{server:#}");
    let out = chom.ok(["export", "ansible", "--tag", "web", "--format", "ini"]);
    assert!(out.contains(&h1.name) && out.contains(&format!("ansible_host=\"'{}'\"", h1.addr)), "{out}");
    assert!(!out.contains(&h0.name), "only the tag: {out}");

    // Hostile values: a file that is not there, an alias that is an option.
    let out = chom.run(["import", "ssh-config", "/nonexistent/config"]);
    assert!(!out.status.success() && stderr_of(&out).contains("/nonexistent/config"), "{}", stderr_of(&out));
    let hostile = dir.path().join("hostile");
    std::fs::write(&hostile, "Host -oProxyCommand=touch /tmp/chom-pwned\n  HostName x\nHost $(id)\n  HostName y\n")
        .unwrap();
    let plan = chom.json_ok(["import", "ssh-config", hostile.to_str().unwrap()]);
    assert!(actions(&plan).iter().all(|(_, a)| a == "skip"), "{plan:#}");
    assert!(!std::path::Path::new("/tmp/chom-pwned").exists());
}
