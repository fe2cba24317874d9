//! Backups and restores that fail half-way. The connection and restic
//! killed (kill -9) mid-backup, and a server disk that fills up
//! mid-backup: the backup is recorded failed and never listed good, the
//! older backups stay intact and check whole, and the next backup works
//! (restic's stale lock is cleared). A restore cut off while its dump
//! loads: the site is as it was, and the next restore works.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use chom_tests::stderr_of;
use chom_tests::web::{static_site, WebFleet};

/// A static site on web0 with `mib` MiB of random data in its shared/.
fn site_with_data(fleet: &WebFleet, domain: &str, work: &std::path::Path, mib: usize) {
    let dir = static_site(&work.join(domain), "Backed up", 3);
    fleet.chom.ok(["site", "create", domain, "--kind", "static", "--server", "web0", "--from", dir.to_str().unwrap()]);
    add_data(fleet, domain, "data.bin", mib);
}

fn add_data(fleet: &WebFleet, domain: &str, name: &str, mib: usize) {
    fleet.sh(0, &format!("head -c {}M /dev/urandom > /var/www/{domain}/shared/{name}", mib));
}

fn backup_state(fleet: &WebFleet, domain: &str, id: &serde_json::Value) -> (String, bool) {
    let list = fleet.chom.json_ok(["backup", "list", domain]);
    let b = list.as_array().unwrap().iter().find(|b| b["id"] == *id).unwrap_or_else(|| panic!("{id} in {list:#}"));
    (b["state"].as_str().unwrap().to_owned(), b["good"].as_bool().unwrap())
}

#[test]
fn a_backup_killed_mid_way_is_failed_and_the_next_one_works() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "killed.example.test";
    site_with_data(&fleet, domain, work.path(), 192);
    let first = c.json_ok(["backup", "create", domain]);
    c.json_ok(["backup", "check", "web0"]);
    // New data, so the second backup has bytes to write when it is killed.
    add_data(&fleet, domain, "more.bin", 192);

    // A watcher on the server kills restic (kill -9) once it holds its
    // lock on the repository; then the connection dies.
    let (said, mut child, printed) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            fleet.sh(
                0,
                "for i in $(seq 6000); do \
                   if [ -n \"$(ls /var/backups/chom/restic/locks)\" ] && pkill -KILL -f '^restic backup'; then echo killed; break; fi; \
                   sleep 0.01; done",
            )
        });
        std::thread::sleep(Duration::from_millis(200));
        let mut child =
            c.command(["backup", "create", domain]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let printed =
            std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
        let said = watcher.join().unwrap();
        fleet.lab.kill_ssh_sessions(0).unwrap();
        (said, child, printed)
    });
    assert_eq!(said.trim(), "killed", "restic was seen holding its lock, and killed");
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(0), "{:?}", printed.join().unwrap());
    let list = c.json_ok(["backup", "list", domain]);
    let killed = &list[0]["id"];
    assert_ne!(*killed, first["id"]);
    let (state, good) = backup_state(&fleet, domain, killed);
    assert!(state == "failed" || state == "interrupted", "{list:#}");
    assert!(!good);
    // restic's lock of the killed run is still in the repository.
    let locks = fleet.sh(0, "ls /var/backups/chom/restic/locks | wc -l");
    assert_ne!(locks.trim(), "0", "the killed restic left its lock");

    // The repository checks whole (the stale lock cleared first); the
    // killed backup is still not good, the first one is.
    let check = c.json_ok(["backup", "check", "web0"]);
    assert_eq!(check["read_percent"], 100);
    assert_eq!(backup_state(&fleet, domain, killed), (state.clone(), false));
    assert_eq!(backup_state(&fleet, domain, &first["id"]), ("done".into(), true));
    // The next backup works, and checks good.
    let next = c.json_ok(["backup", "create", domain]);
    c.json_ok(["backup", "check", "web0"]);
    assert_eq!(backup_state(&fleet, domain, &next["id"]), ("done".into(), true));
    c.json_ok(["backup", "drill", &next["id"].to_string()]);
}

#[test]
fn a_disk_full_mid_backup_says_so_and_older_backups_stay_intact() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "full.example.test";
    site_with_data(&fleet, domain, work.path(), 16);
    let first = c.json_ok(["backup", "create", domain]);
    // The repository's folder on a file system with 8 MiB left.
    let dir = "/var/backups/chom";
    fleet.sh(
        0,
        &format!(
            "used=$(du -sm {dir} | cut -f1); cp -a {dir} /tmp/chom-repo && \
             mount -t tmpfs -o size=$((used + 8))m,mode=700 chom-full {dir} && cp -a /tmp/chom-repo/. {dir}/ && rm -r /tmp/chom-repo"
        ),
    );
    add_data(&fleet, domain, "more.bin", 64);
    let out = c.run(["backup", "create", domain]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let says = stderr_of(&out);
    assert!(says.contains("disk is full") && says.contains("older backups are intact"), "{says}");
    let list = c.json_ok(["backup", "list", domain]);
    let full = list[0]["id"].clone();
    assert_eq!(backup_state(&fleet, domain, &full), ("failed".into(), false));

    // Space again (the repository back on the disk): the first backup
    // checks whole and drills; the next backup works.
    fleet.sh(
        0,
        &format!(
            "cp -a {dir} /tmp/chom-repo && umount -l {dir} && cp -a /tmp/chom-repo/. {dir}/ && rm -r /tmp/chom-repo"
        ),
    );
    fleet.sh(0, &format!("rm /var/www/{domain}/shared/more.bin"));
    c.json_ok(["backup", "check", "web0"]);
    assert_eq!(backup_state(&fleet, domain, &first["id"]), ("done".into(), true));
    c.json_ok(["backup", "drill", &first["id"].to_string()]);
    let next = c.json_ok(["backup", "create", domain]);
    assert_eq!(next["state"], "done");
}

/// A restore whose connection is cut mid-way (while its dump loads):
/// the site serves what it served, with its files and rows; nothing of the
/// restore is left (no half-made release, no scratch database, no state
/// to undo into); the next restore goes through.
#[test]
fn a_restore_cut_off_mid_way_leaves_the_site_as_it_was() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let domain = "cut.example.test";
    let db = "w_cut_example_test";
    let tarball = chom_tests::web::wordpress_tarball(work.path());
    c.ok(["site", "create", domain, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    let backup = c.json_ok(["backup", "create", domain])["id"].to_string();
    fleet.sh(0, &format!("mysql -e \"UPDATE {db}.wp_options SET option_value = 'B' WHERE option_name = 'blogname'\""));
    let look = || {
        fleet.sh(
            0,
            &format!(
                "readlink /var/www/{domain}/current; ls /var/www/{domain}/releases; \
                 mysql -N -e \"SELECT option_value FROM {db}.wp_options WHERE option_name = 'blogname'; SHOW DATABASES LIKE 'chom%'\"; \
                 ls -A /var/www/{domain}/.chom"
            ),
        )
    };
    let before = look();

    let mut child =
        c.command(["backup", "restore", &backup]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.trim_start_matches("\r\x1b[2K").starts_with("[web0] database") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120)).expect("the restore never reached its database step");
    fleet.lab.kill_ssh_sessions(0).unwrap();
    assert_ne!(child.wait().unwrap().code(), Some(0));
    // The script on the server ends by itself (its next line to the lost
    // connection, or the check before the switch) and cleans up.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while fleet.sh(0, "pgrep -f '[c]hom-restore' || true").contains(char::is_numeric) {
        assert!(std::time::Instant::now() < deadline, "the restore script outlived its connection");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(look(), before, "the site as it was, nothing of the restore left");
    assert_eq!(fleet.get(0, domain, "/").0, 200);

    c.json_ok(["backup", "restore", &backup]);
    let name = fleet
        .sh(0, &format!("mysql -N -e \"SELECT option_value FROM {db}.wp_options WHERE option_name = 'blogname'\""));
    assert_ne!(name.trim(), "B", "the next restore went through");
}
