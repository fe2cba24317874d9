//! Deploys cut off half-way: the connection or sshd killed, a cancel, a
//! full disk. The release that served keeps serving, the cache says what
//! happened, and nothing half-made stays. Also a cancelled site create and
//! the time limit of server changes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chom_tests::web::{static_site, WebFleet};
use chom_tests::{stderr_of, wait_until};

const RELEASE_ONE: &str = "<!doctype html><h1>Release one</h1>\n";

/// Starts a `chom` command that changes web0 and returns once its progress
/// printed `step`.
fn run_until_step(fleet: &WebFleet, args: &[&str], step: &str) -> Child {
    let mut child = fleet.chom.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let want = format!("[web0] {step}");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.trim_start_matches("\r\x1b[2K").starts_with(&want) {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the command never reached the step");
    child
}

/// Creates static site `domain` on web0 with RELEASE_ONE (made under
/// `work`) live; its release id.
fn create_with_release_one(fleet: &WebFleet, domain: &str, work: &Path) -> String {
    let r1 = static_site(&work.join("r1"), "Release one", 3);
    let from = r1.to_str().unwrap();
    let (created, status) =
        fleet.chom.json(["site", "create", domain, "--kind", "static", "--server", "web0", "--from", from]);
    assert_eq!(status, 0, "{created:#}");
    created["deploy"]["release"].as_str().unwrap().to_owned()
}

/// Waits until a process matching `pattern` runs on web0.
fn wait_for(fleet: &WebFleet, pattern: &str) {
    wait_until(pattern, Duration::from_secs(20), || runs(fleet, pattern));
}

/// Whether a process matching `pattern` runs on web0.
fn runs(fleet: &WebFleet, pattern: &str) -> bool {
    fleet.sh(0, &format!("pgrep -f '{pattern}' || true")).contains(char::is_numeric)
}

/// The SSH connection killed mid-upload, then every sshd killed while a
/// build hook runs: each time the previous release keeps serving and the
/// cache says what happened, and nothing half-made stays; the next deploy
/// goes live.
#[test]
fn interrupted_deploys_leave_the_previous_release_serving() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let release1 = create_with_release_one(&fleet, "cut.example.test", work.path());

    // 1. The connection dies while the release streams (64 MiB that does not compress).
    let big = static_site(&work.path().join("big"), "Big release", 1);
    let st = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("for i in 1 2 3 4; do head -c 16777216 /dev/urandom > {}/blob$i.bin; done", big.display()))
        .status()
        .unwrap();
    assert!(st.success());
    let child = run_until_step(&fleet, &["deploy", "cut.example.test", "--from", big.to_str().unwrap()], "upload");
    std::thread::sleep(Duration::from_millis(300));
    fleet.lab.kill_ssh_sessions(0).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(7), "a lost connection is exit 7: {}", stderr_of(&out));
    assert_eq!(fleet.get(0, "cut.example.test", "/"), (200, RELEASE_ONE.into()));
    let (show, _) = c.json(["site", "show", "cut.example.test"]);
    let d = &show["deploys"][0];
    assert_eq!((d["state"].as_str(), d["step"].as_str()), (Some("interrupted"), Some("upload")), "{show:#}");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains(&format!("release {release1} keeps serving")), "{msg}");
    assert_eq!(show["site"]["current_release"], release1.as_str());

    // 2. sshd itself (listener and sessions) killed while a build hook runs.
    let hooked = static_site(&work.path().join("hooked"), "Hooked release", 1);
    std::fs::create_dir_all(hooked.join("hooks")).unwrap();
    // Silent: the script learns of the lost connection by its own next
    // write, a beat at most 2 s later, and ends the hook with it.
    std::fs::write(hooked.join("hooks/slow.sh"), "sleep 2\n").unwrap();
    let child = run_until_step(
        &fleet,
        &["deploy", "cut.example.test", "--from", hooked.to_str().unwrap(), "--build-hook", "hooks/slow.sh"],
        "build",
    );
    wait_for(&fleet, "^sleep 2$");
    fleet.sh(0, "pkill -KILL sshd");
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Whichever ends first, the hook or the script, nothing switches after it.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(fleet.get(0, "cut.example.test", "/"), (200, RELEASE_ONE.into()));
    assert_eq!(fleet.sh(0, "readlink /var/www/cut.example.test/current").trim(), format!("releases/{release1}"));
    let (show, _) = c.json(["site", "show", "cut.example.test"]);
    let d = &show["deploys"][0];
    assert_eq!((d["state"].as_str(), d["step"].as_str()), (Some("interrupted"), Some("build")), "{show:#}");

    // sshd back: the server confirms what serves. Each script removed its
    // half-made release on the way out: the one cut mid-upload at once,
    // the one whose hook outlived its connection at its next beat.
    fleet.sh(0, "service ssh start");
    let (rel, status) = c.json(["site", "releases", "cut.example.test"]);
    assert_eq!(status, 0, "{rel:#}");
    assert_eq!(rel["current"], release1.as_str());
    let left = fleet.sh(0, "ls -A /var/www/cut.example.test/releases | wc -l");
    assert_eq!(left.trim(), "2", "placeholder and release 1 only");
    assert_eq!(rel["releases"].as_array().unwrap().len(), 2, "{rel:#}");
    let r2 = static_site(&work.path().join("r2"), "Release two", 3);
    let (d2, status) =
        c.json(["deploy", "cut.example.test", "--from", r2.to_str().unwrap(), "--expect", "Release two"]);
    assert_eq!(status, 0, "{d2:#}");
    assert_eq!(fleet.get(0, "cut.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    let partial = fleet.sh(0, "ls /var/www/cut.example.test/releases/*/.chom-partial 2>/dev/null | wc -l");
    assert_eq!(partial.trim(), "0");
    assert_eq!(d2["releases"].as_array().unwrap().len(), 3, "placeholder, release 1, release 2: {d2:#}");
}

/// Ctrl-C during a deploy's upload cancels it: the release never goes
/// live, the deploy and its job say "cancelled" with what serves, the
/// server's script ends (its lock is free) and removes its half-made
/// release, and the next deploy goes live.
#[test]
fn a_cancelled_deploy_never_goes_live() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "stop.example.test";
    let release1 = create_with_release_one(&fleet, domain, work.path());

    let big = static_site(&work.path().join("big"), "Big release", 1);
    let blobs = format!("for i in 1 2 3 4; do head -c 16777216 /dev/urandom > {}/blob$i.bin; done", big.display());
    assert!(std::process::Command::new("sh").arg("-c").arg(blobs).status().unwrap().success());
    let listing = format!("ls -A /var/www/{domain}/releases");
    let before = fleet.sh(0, &listing);
    let child = run_until_step(&fleet, &["deploy", domain, "--from", big.to_str().unwrap()], "upload");
    std::thread::sleep(Duration::from_millis(200));
    let st = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "a cancel is exit 130");
    assert_eq!(fleet.get(0, domain, "/"), (200, RELEASE_ONE.into()));

    let (show, _) = c.json(["site", "show", domain]);
    let d = &show["deploys"][0];
    assert_eq!((d["state"].as_str(), d["step"].as_str()), (Some("cancelled"), Some("upload")), "{show:#}");
    let msg = d["message"].as_str().unwrap();
    assert!(msg.contains(&format!("cancelled during step upload; release {release1} keeps serving")), "{msg}");
    assert_eq!(show["site"]["current_release"], release1.as_str());
    let (jobs, _) = c.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "cancelled", "{jobs:#}");

    // The script on the server ends (SIGTERM through sshd), freeing the lock.
    // (`[c]`: the pattern must not match the shell that runs pgrep.)
    wait_until("the deploy script ends after its cancel", Duration::from_secs(20), || !runs(&fleet, "[c]hom-deploy"));
    assert_eq!(fleet.sh(0, &listing), before, "the script removed its half-made release on the way out");
    let r2 = static_site(&work.path().join("r2"), "Release two", 3);
    let (d2, status) = c.json(["deploy", domain, "--from", r2.to_str().unwrap(), "--expect", "Release two"]);
    assert_eq!(status, 0, "{d2:#}");
    let partial = fleet.sh(0, &format!("ls /var/www/{domain}/releases/*/.chom-partial 2>/dev/null | wc -l"));
    assert_eq!(partial.trim(), "0", "the cancelled release was cleaned up");
}

/// The server's disk fills during an upload (a 4 MiB tmpfs holds the
/// site's releases): the deploy fails at upload and says the disk is full, the old
/// release keeps serving, the half-written release is removed so its space
/// comes back, and the next deploy that fits goes live.
#[test]
fn a_full_disk_fails_the_deploy_and_frees_what_it_wrote() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let domain = "disk.example.test";
    let work = tempfile::tempdir().unwrap();
    let release1 = create_with_release_one(&fleet, domain, work.path());
    let releases = format!("/var/www/{domain}/releases");
    fleet.sh(
        0,
        &format!(
            "cp -a {releases} /tmp/releases && mount -t tmpfs -o size=4m chom-full {releases} \
             && cp -a /tmp/releases/. {releases}/ && rm -r /tmp/releases"
        ),
    );
    assert_eq!(fleet.get(0, domain, "/"), (200, RELEASE_ONE.into()));
    let used = || fleet.sh(0, &format!("df --output=used -k {releases} | tail -1")).trim().to_owned();
    let (used_before, listed_before) = (used(), fleet.sh(0, &format!("ls -A {releases}")));

    let big = static_site(&work.path().join("big"), "Big release", 1);
    let blob = format!("head -c 8388608 /dev/urandom > {}/blob.bin", big.display());
    assert!(std::process::Command::new("sh").arg("-c").arg(blob).status().unwrap().success());
    let out = c.run(["deploy", domain, "--from", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let says = stderr_of(&out);
    assert!(says.contains("No space left on device"), "tar's own words are shown: {says}");
    assert!(says.contains("the server's disk is full"), "{says}");
    assert!(says.contains(&format!("never went live (release {release1} keeps serving)")), "{says}");
    assert_eq!(fleet.get(0, domain, "/"), (200, RELEASE_ONE.into()));
    let (show, _) = c.json(["site", "show", domain]);
    let d = &show["deploys"][0];
    assert_eq!((d["state"].as_str(), d["step"].as_str()), (Some("failed"), Some("upload")), "{show:#}");
    assert_eq!(show["site"]["current_release"], release1.as_str());
    assert_eq!(fleet.sh(0, &format!("ls -A {releases}")), listed_before, "the partial release is gone");
    assert_eq!(used(), used_before, "its space came back");

    let r2 = static_site(&work.path().join("r2"), "Release two", 3);
    let (d2, status) = c.json(["deploy", domain, "--from", r2.to_str().unwrap(), "--expect", "Release two"]);
    assert_eq!(status, 0, "{d2:#}");
    fleet.sh(0, &format!("umount -l {releases}"));
}

/// Ctrl-C during a site create stops it, and the server undoes what the
/// create had made: the server, the cache and the keyring are as before,
/// and the job says cancelled. (The create is held at its database step
/// by a lock on MariaDB's user table, taken by another client.)
#[test]
fn a_cancelled_create_leaves_nothing() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let domain = "held.example.test";
    let before = (fleet.server_listing(0), c.json(["site", "list"]).0);
    fleet
        .sh(0, "setsid mysql -e 'LOCK TABLES mysql.global_priv WRITE; SELECT SLEEP(120)' </dev/null >/dev/null 2>&1 &");
    wait_for(&fleet, "^mysql -e LOCK TABLES");
    let child =
        run_until_step(&fleet, &["site", "create", domain, "--kind", "laravel", "--server", "web0"], "database");
    std::thread::sleep(Duration::from_millis(500));
    let st = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "a cancel is exit 130");
    let (audit, _) = c.json(["audit", "--action", "site.create"]);
    assert!(audit[0]["detail"].as_str().unwrap().contains("cancelled during step database"), "{audit:#}");
    wait_until("the create script ends after its cancel", Duration::from_secs(20), || !runs(&fleet, "[c]hom-site"));
    fleet.sh(0, "pkill -f '^mysql -e LOCK TABLES'");
    assert_eq!((fleet.server_listing(0), c.json(["site", "list"]).0), before, "the create was undone");
    let db_pass = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "chom-desktop", "username", &format!("site-db:{domain}")])
        .output()
        .unwrap();
    assert!(!db_pass.status.success(), "the database password left the keyring");
    let (jobs, _) = c.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "cancelled", "{jobs:#}");
}

/// A deploy runs under the script time limit, not the command one (meant
/// for ad-hoc commands): a build hook longer than `--command-timeout`
/// passes. Past `--script-timeout` the script and its stuck hook are
/// stopped, its release removed, and the one before keeps serving.
#[test]
fn deploys_run_under_the_script_time_limit() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let domain = "slow.example.test";
    let work = tempfile::tempdir().unwrap();
    let release1 = create_with_release_one(&fleet, domain, work.path());
    let slow = static_site(&work.path().join("slow"), "Slow release", 1);
    std::fs::create_dir_all(slow.join("hooks")).unwrap();
    std::fs::write(slow.join("hooks/build.sh"), "sleep 3\n").unwrap();
    std::fs::write(slow.join("hooks/stuck.sh"), "sleep 300\n").unwrap();
    let deploy = |hook| ["deploy", domain, "--from", slow.to_str().unwrap(), "--build-hook", hook];

    let (d, status) = c.json(["--command-timeout", "1"].into_iter().chain(deploy("hooks/build.sh")));
    assert_eq!(status, 0, "{d:#}");
    let live = d["release"].as_str().unwrap().to_owned();
    assert_ne!(live, release1);
    let listing = format!("ls -A /var/www/{domain}/releases");
    let before = fleet.sh(0, &listing);

    // Stopped in its build step: the live release serves on, the deploy's
    // row says so, and the kill was sent before the deploy returned (the
    // traps run now).
    let stopped_in_build = || {
        assert_eq!(fleet.get(0, domain, "/").1, "<!doctype html><h1>Slow release</h1>\n");
        let (show, _) = c.json(["site", "show", domain]);
        let msg = show["deploys"][0]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("timed out during step build; release {live} keeps serving")), "{msg}");
        wait_until("the script and its hook stopped, its release removed", Duration::from_secs(10), || {
            fleet.sh(0, &listing) == before && !runs(&fleet, "^sleep 300$")
        });
    };
    let (d, status) = c.json(["--script-timeout", "2"].into_iter().chain(deploy("hooks/stuck.sh")));
    assert_eq!(status, 7, "a timeout: {d:#}");
    stopped_in_build();

    // A step's own limit stops a hung step long before the script's: the
    // same stuck hook under a 2 s limit for the build step.
    let out = c.run(["--step-limit", "build=2"].into_iter().chain(deploy("hooks/stuck.sh")));
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(7), "a timeout: {err}");
    assert!(err.contains("step build of deploy on web0 ran past its limit of 2s"), "{err}");
    assert!(err.contains("chom: hint: run it again with --step-limit build=SECS"), "{err}");
    stopped_in_build();
    // A limit written wrong is refused before anything runs.
    for bad in ["build", "build=0", "build=soon"] {
        let out = c.run(["--step-limit", bad].into_iter().chain(deploy("hooks/build.sh")));
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr_of(&out));
    }
    assert_eq!(fleet.sh(0, &listing), before);
}
