use chom_tests::{by_server, require_keyring, Chom, Lab};

fn copy_key(c: &Chom, name: &str, password: &str) -> std::process::Output {
    c.with_stdin(["server", "copy-key", name, "--password-stdin"], password)
}

/// A new key reaches a server through a one-time password login, as with
/// ssh-copy-id: only after the host key is trusted, idempotently, and the
/// password is kept nowhere.
#[test]
fn install_a_key_with_a_one_time_password() {
    require_keyring();
    const PASSWORD: &str = "One-time lab password 42";
    let mut lab = Lab::start_any(1).unwrap();
    lab.enable_password_login(0, PASSWORD).unwrap();
    let h = lab.hosts()[0].clone();
    let c = Chom::new();
    c.ok(["key", "generate", "fresh"]);
    c.ok(["server", "add", "web", "--host", &h.addr.to_string(), "--user", lab.user(), "--key", "fresh"]);

    // No trusted host key yet: no password is sent.
    let out = copy_key(&c, "web", PASSWORD);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    c.ok(["server", "trust", "web", "--accept", &h.host_key_fingerprint]);

    let (report, _) = c.json(["probe", "web"]);
    assert_eq!(by_server(&report)["web"]["error_code"], "auth_failed", "the key is not installed yet");

    let out = copy_key(&c, "web", "wrong password");
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused the password"));

    for _ in 0..2 {
        let out = copy_key(&c, "web", PASSWORD);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (report, status) = c.json(["probe", "web"]);
    assert_eq!(status, 0, "{report:#}");
    let (key, _) = c.json(["key", "show", "fresh"]);
    let line = key["public_key"].as_str().unwrap();
    let (run, _) = c.json(["run", "web", "--", &format!("grep -cxF '{line}' ~/.ssh/authorized_keys")]);
    assert_eq!(by_server(&run)["web"]["stdout"], "1\n", "installed once");

    let (audit, _) = c.json(["audit", "--action", "key.install"]);
    // Newest first: two installs, the wrong password, the untrusted host key.
    let results: Vec<&str> = audit.as_array().unwrap().iter().map(|a| a["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["ok", "ok", "error", "error"]);
    for f in std::fs::read_dir(c.data_dir())
        .unwrap()
        .flatten()
        .chain(std::fs::read_dir(c.data_dir().join("logs")).unwrap().flatten())
    {
        if f.path().is_file() {
            let bytes = std::fs::read(f.path()).unwrap();
            assert!(!bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "password in {:?}", f.path());
        }
    }
}
