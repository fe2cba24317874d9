use std::process::{Command, Output};

use chom_tests::{require_keyring, stderr_of, Chom, Lab};
use serde_json::Value;

/// The real ssh-agent, on a socket of this test's own; killed when dropped.
struct Agent {
    dir: tempfile::TempDir,
    pid: String,
}

impl Agent {
    fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("agent.sock");
        let out = Command::new("ssh-agent").arg("-a").arg(&sock).arg("-s").output().expect("ssh-agent");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text.split("SSH_AGENT_PID=").nth(1).and_then(|t| t.split(';').next()).expect("agent pid").to_owned();
        Agent { dir, pid }
    }

    fn sock(&self) -> std::path::PathBuf {
        self.dir.path().join("agent.sock")
    }

    /// A new ed25519 key, added to the agent; its public line.
    fn add_new_key(&self) -> String {
        let file = self.dir.path().join("id_agent");
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "in the agent", "-f"])
            .arg(&file)
            .output();
        assert!(made.unwrap().status.success());
        let added = Command::new("ssh-add").arg(&file).env("SSH_AUTH_SOCK", self.sock()).output().unwrap();
        assert!(added.status.success(), "{}", stderr_of(&added));
        // Only the agent has it now.
        std::fs::remove_file(&file).unwrap();
        std::fs::read_to_string(file.with_extension("pub")).unwrap().trim().to_owned()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).output();
    }
}

fn with_agent(chom: &Chom, sock: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    chom.command(all).env("SSH_AUTH_SOCK", sock).output().expect("chom")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr_of(out)))
}

/// A key only the operator's ssh-agent holds: listed, registered as a CHOM
/// key (public half only, nothing in the keyring), and the agent signs the
/// logins; without the agent, the error says so.
#[test]
fn the_operators_ssh_agent_signs_logins_and_its_keys_stay_there() {
    require_keyring();
    let lab = Lab::start_any(1).expect("lab");
    let h = &lab.hosts()[0];
    let chom = Chom::new();
    let agent = Agent::start();
    let public = agent.add_new_key();
    lab.authorize_key(&public).expect("authorize");

    let listed = json_of(&with_agent(&chom, &agent.sock(), &["key", "agent"]));
    let held = listed.as_array().unwrap();
    assert_eq!(held.len(), 1, "{listed:#}");
    assert_eq!((held[0]["comment"].as_str(), held[0]["chom_key"].as_str()), (Some("in the agent"), None));
    let fingerprint = held[0]["fingerprint"].as_str().unwrap().to_owned();

    let out = with_agent(&chom, &agent.sock(), &["key", "add-agent", "ops", "SHA256:notheld"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(&fingerprint), "the error lists what the agent holds: {}", stderr_of(&out));
    let key = json_of(&with_agent(&chom, &agent.sock(), &["key", "add-agent", "ops", &fingerprint]));
    assert_eq!((key["agent"].as_bool(), key["fingerprint"].as_str()), (Some(true), Some(fingerprint.as_str())));
    // A second agent key has a keyring account of its own (the column is
    // unique; an empty one allowed a single agent key).
    let second = json_of(&with_agent(&chom, &agent.sock(), &["key", "add-agent", "ops-too", &fingerprint]));
    assert_eq!(second["agent"].as_bool(), Some(true), "{second:#}");
    let (addr, port) = (h.addr.to_string(), h.port.to_string());
    chom.ok(["server", "add", &h.name, "--host", &addr, "--port", &port, "--user", lab.user(), "--key", "ops"]);
    chom.ok(["server", "trust", &h.name, "--accept", &h.host_key_fingerprint]);

    let out = with_agent(&chom, &agent.sock(), &["run", &h.name, "--", "hostname"]);
    let report = json_of(&out);
    assert_eq!(report["succeeded"], 1, "{report:#}");
    assert_eq!(report["results"][0]["stdout"].as_str().unwrap().trim(), h.name);

    // Without an agent: refused before anything runs, saying why.
    let out = chom.command(["--json", "run", &h.name, "--", "hostname"]).env_remove("SSH_AUTH_SOCK").output().unwrap();
    let report = json_of(&out);
    assert_eq!(report["failed"], 1, "{report:#}");
    assert!(report["results"][0]["error"].as_str().unwrap().contains("SSH_AUTH_SOCK"), "{report:#}");

    // Deleting it touches no keyring entry (there is none).
    let out = chom.run(["key", "delete", "ops"]);
    assert!(!out.status.success() && stderr_of(&out).contains("used by"), "{}", stderr_of(&out));
    chom.ok(["server", "remove", &h.name]);
    chom.ok(["key", "delete", "ops"]);
}
