//! Lab web hosts and the namespaces they leave behind. Needs root and the
//! web stack (scripts/test.sh installs it). Index 127 belongs to this test.

use std::process::Command;

use chom_lab::{LabError, WebLab};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ lab-test";

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_namespace_left_by_a_killed_run_is_reclaimed_and_a_live_one_refused() {
    // What a run killed with SIGKILL (or a machine restart) leaves: the
    // named namespace with nothing running in it.
    let _ = Command::new("ip").args(["netns", "del", "chomw127"]).stderr(std::process::Stdio::null()).status();
    ip(&["netns", "add", "chomw127"]);

    let lab = WebLab::start(127, 1, KEY).expect("a namespace with no process in it does not block a start");
    let init = lab.hosts()[0].init;
    assert!(ip(&["netns", "pids", "chomw127"]).lines().any(|p| p.trim() == init.to_string()));

    // A namespace with processes belongs to a lab that is up: never touched.
    match WebLab::start(127, 1, KEY) {
        Err(LabError::Command { detail, .. }) => assert!(detail.contains("has processes"), "{detail}"),
        Err(e) => panic!("expected the live namespace to be refused, got {e}"),
        Ok(_) => panic!("a second lab started over a live namespace"),
    }
    assert!(std::path::Path::new(&format!("/proc/{init}")).exists(), "the refused start left the first host running");

    lab.stop();
    assert!(!ip(&["netns", "list"]).lines().any(|l| l.split_whitespace().next() == Some("chomw127")));
}
