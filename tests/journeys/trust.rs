use chom_tests::{by_server, Fleet};

/// A host that comes back with a new host key is refused before
/// authentication, with both fingerprints; the rest of the fleet goes on,
/// and nothing runs there until the operator trusts the new key.
#[test]
fn changed_host_key_stops_that_server_only() {
    let mut fleet = Fleet::start(3);
    let old = fleet.lab.hosts()[1].host_key_fingerprint.clone();
    fleet.lab.restart_with_new_host_key(1).unwrap();
    let changed = fleet.lab.hosts()[1].clone();
    assert_ne!(old, changed.host_key_fingerprint);

    let marker = format!("/tmp/chom-marker-{}", std::process::id());
    let _ = std::fs::remove_file(&marker);
    let (report, status) = fleet.chom.json(["run", &changed.name, "--", &format!("touch {marker}")]);
    assert_eq!(status, 1);
    let r = &by_server(&report)[&changed.name];
    assert_eq!(r["error_code"], "host_key_changed");
    let msg = r["error"].as_str().unwrap();
    assert!(msg.contains(&old) && msg.contains(&changed.host_key_fingerprint), "{msg}");
    assert!(!std::path::Path::new(&marker).exists(), "the command ran on a host with a changed key");
    // The message says what to do in words; the CLI adds the command line.
    assert!(!msg.contains("chom "), "{msg}");
    let hint = format!("chom server trust {} --accept {}", changed.name, changed.host_key_fingerprint);
    assert_eq!(r["remedy"]["kind"], "trust_host_key", "{r:#}");
    let out = fleet.chom.run(["probe", &changed.name]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}: hint: {hint}", changed.name)), "{err}");

    let (report, status) = fleet.chom.json(["probe", "--all"]);
    assert_eq!(status, 1);
    assert_eq!(report["succeeded"], 2);
    let (servers, _) = fleet.chom.json(["server", "list"]);
    let statuses: Vec<&str> = servers.as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["up", "host_key_changed", "up"]);

    // TOFU never replaces a pinned key; a wrong --accept pins nothing.
    let out = fleet.chom.run(["server", "trust", &changed.name, "--trust-on-first-use"]);
    assert!(!out.status.success());
    let out = fleet.chom.run(["server", "trust", &changed.name, "--accept", &old]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was pinned"));
    let (report, _) = fleet.chom.json(["probe", &changed.name]);
    assert_eq!(report["failed"], 1);

    // The operator verified the new key: trust it, and the host is back.
    fleet.chom.ok(["server", "trust", &changed.name, "--accept", &changed.host_key_fingerprint]);
    let (report, status) = fleet.chom.json(["probe", "--all"]);
    assert_eq!((status, report["succeeded"].as_u64()), (0, Some(3)), "{report:#}");
    let (audit, _) = fleet.chom.json(["audit", "--action", "trust.accept", "--server", &changed.name]);
    assert!(audit[0]["detail"].as_str().unwrap().contains(&format!("replaced {old}")), "{audit:#}");
}

/// First contact: the fingerprint is shown, nothing is pinned without an
/// explicit acceptance, and nothing is run before it.
#[test]
fn first_contact_needs_acceptance() {
    let fleet = Fleet::start(2);
    let h = &fleet.lab.hosts()[0];
    let c = &fleet.chom;
    c.ok(["server", "add", "fresh", "--host", &h.addr.to_string(), "--user", fleet.lab.user(), "--key", "lab"]);

    let (report, _) = c.json(["probe", "fresh"]);
    let r = &by_server(&report)["fresh"];
    assert_eq!(r["error_code"], "host_key_unknown");
    assert!(r["error"].as_str().unwrap().contains(&h.host_key_fingerprint));

    // No terminal, no flag: refused, with the fingerprint and the way on.
    let out = c.run(["server", "trust", "fresh"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&h.host_key_fingerprint) && stderr.contains("--accept"), "{stderr}");
    let out = c.run(["server", "trust", "fresh", "--accept", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]);
    assert!(!out.status.success());
    let (detail, _) = c.json(["server", "show", "fresh"]);
    assert!(detail["host_key"].is_null());

    let (trusted, status) = c.json(["server", "trust", "fresh", "--trust-on-first-use"]);
    assert_eq!(status, 0);
    assert_eq!(trusted["fingerprint"], h.host_key_fingerprint.as_str());
    let (detail, _) = c.json(["server", "show", "fresh"]);
    assert_eq!(detail["host_key"]["fingerprint"], h.host_key_fingerprint.as_str());
    let (report, status) = c.json(["probe", "fresh"]);
    assert_eq!(status, 0, "{report:#}");
}
