//! The CLI killed (SIGKILL) mid-deploy while another CLI works on the same
//! data directory: the next process to open it marks the dead one's job
//! and deploy interrupted, never the live one's; the server removed the
//! half-made release and kept serving the one before; the database is
//! whole.

use std::process::Stdio;
use std::time::Duration;

use chom_tests::web::{static_site, WebFleet};
use chom_tests::{integrity_check, wait_until};

#[test]
fn a_killed_cli_leaves_its_job_interrupted_and_another_live_process_alone() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "kill.example.test";
    let r1 = static_site(&work.path().join("r1"), "Release one", 3);
    let (created, status) =
        c.json(["site", "create", domain, "--kind", "static", "--server", "web0", "--from", r1.to_str().unwrap()]);
    assert_eq!(status, 0, "{created:#}");
    let release1 = created["deploy"]["release"].as_str().unwrap().to_owned();

    let listing = format!("ls -A /var/www/{domain}/releases");
    let before = fleet.sh(0, &listing);
    // A second CLI that stays busy on the same data directory meanwhile.
    let busy = c.command(["run", "web0", "--", "sleep 6; echo done"]).stdout(Stdio::piped()).spawn().unwrap();

    let r2 = static_site(&work.path().join("r2"), "Release two", 3);
    std::fs::create_dir_all(r2.join("hooks")).unwrap();
    std::fs::write(r2.join("hooks/slow.sh"), "sleep 30\n").unwrap();
    let mut deploy = c
        .command(["deploy", domain, "--from", r2.to_str().unwrap(), "--build-hook", "hooks/slow.sh"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the build hook runs", Duration::from_secs(30), || {
        fleet.sh(0, "pgrep -f '^sleep 30$' || true").contains(char::is_numeric)
    });
    deploy.kill().unwrap();
    deploy.wait().unwrap();

    // Any process opening the data directory now reconciles the jobs.
    let (jobs, _) = c.json(["jobs"]);
    let state = |kind: &str| {
        jobs.as_array().unwrap().iter().find(|j| j["kind"] == kind).map(|j| j["state"].as_str().unwrap().to_owned())
    };
    assert_eq!(state("deploy").as_deref(), Some("interrupted"), "{jobs:#}");
    assert_eq!(state("run").as_deref(), Some("running"), "the live CLI's job was marked: {jobs:#}");
    let (show, _) = c.json(["site", "show", domain]);
    assert_eq!(show["deploys"][0]["state"], "interrupted", "{show:#}");

    // The server: its script noticed the lost connection (its next beat),
    // removed the half-made release and never switched; the hook ended with
    // it, long before it would have by itself; the lock is free.
    wait_until("the half-made release removed", Duration::from_secs(10), || {
        fleet.sh(0, &listing) == before && !fleet.sh(0, "pgrep -f '^sleep 30$' || true").contains(char::is_numeric)
    });
    assert_eq!(fleet.sh(0, &format!("readlink /var/www/{domain}/current")).trim(), format!("releases/{release1}"));
    // The live CLI's job, followed from this process: its log until it ends.
    let run_job = jobs.as_array().unwrap().iter().find(|j| j["kind"] == "run").unwrap()["id"].to_string();
    let followed = c.run(["jobs", &run_job, "--follow"]);
    let text = String::from_utf8_lossy(&followed.stdout);
    assert!(
        followed.status.success() && text.contains("[web0] done") && text.contains("succeeded: 1 succeeded"),
        "{text}"
    );
    let out = busy.wait_with_output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("done"));
    let (jobs, _) = c.json(["jobs"]);
    assert!(jobs.as_array().unwrap().iter().any(|j| j["kind"] == "run" && j["state"] == "succeeded"), "{jobs:#}");
    let (d, status) = c.json(["deploy", domain, "--from", r1.to_str().unwrap()]);
    assert_eq!(status, 0, "{d:#}");

    let db = c.data_dir().join("chom.sqlite3");
    assert_eq!(integrity_check(&db), "ok");
}
