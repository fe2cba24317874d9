//! Backups: a WordPress site's files and database into its server's restic
//! repository (real restic, real MariaDB), listed offline, good only once
//! checked. What the site's user planted is read as data (a link stays a
//! link), the password is on no command line and in no row. One flipped
//! byte in a pack file: the check names the backup whose data it held and
//! the others stay good; damage in every pack leaves the site with no good
//! backup.

use chom_tests::stderr_of;
use chom_tests::web::{wordpress_tarball, WebFleet};

const DOMAIN: &str = "blog.example.test";
const BASE: &str = "/var/www/blog.example.test";
const USER: &str = "w_blog_example_test";

/// restic on the lab host, with the repository CHOM made there.
fn restic(fleet: &WebFleet, args: &str) -> String {
    fleet.sh(
        0,
        &format!("RESTIC_REPOSITORY=/var/backups/chom/restic RESTIC_PASSWORD_FILE=/var/backups/chom/restic.pass restic {args} 2>&1"),
    )
}

#[test]
fn a_wordpress_site_is_backed_up_checked_and_a_damaged_repository_is_found() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    let tarball = tarball.to_str().unwrap();
    c.ok(["site", "create", DOMAIN, "--kind", "wordpress", "--server", "web0", "--tarball", tarball]);
    // The site's user (its code) plants a link to root's secrets and writes a file.
    let uploads = format!("{BASE}/shared/wp-content/uploads");
    fleet.sh(
        0,
        &format!("runuser -u {USER} -- sh -c 'ln -s /etc/shadow {uploads}/shadow && echo mine > {uploads}/note.txt'"),
    );

    let (b, status) = c.json(["backup", "create", DOMAIN]);
    assert_eq!(status, 0, "{b:#}");
    assert_eq!(b["state"], "done", "{b:#}");
    let release = c.json_ok(["site", "show", DOMAIN])["site"]["current_release"].clone();
    assert_eq!(b["release"], release);
    assert!(b["files"].as_u64().unwrap() > 1000, "WordPress's files: {b:#}");
    let (files, db) = (b["files_snapshot"].as_str().unwrap(), b["db_snapshot"].as_str().unwrap());

    // The server's repository holds both, tagged; root-only, and its password is no argument.
    assert_eq!(fleet.sh(0, "stat -c '%U %a' /var/backups/chom /var/backups/chom/restic.pass"), "root 700\nroot 600\n");
    let snapshots = restic(&fleet, "snapshots --json --tag site:blog.example.test");
    assert!(snapshots.contains(files) && snapshots.contains(db), "{snapshots}");
    // The link is kept as a link (restic lists it with L): /etc/shadow's content is not in the backup.
    let listing = restic(&fleet, &format!("ls -l {files} {uploads}"));
    assert!(listing.lines().any(|l| l.starts_with('L') && l.contains("shadow -> /etc/shadow")), "{listing}");
    let dumped = restic(&fleet, &format!("dump {files} {uploads}/note.txt"));
    assert_eq!(dumped, "mine\n");
    // The database went in whole: the dump has WordPress's tables.
    let sql = restic(&fleet, &format!("dump {db} /{DOMAIN}.sql"));
    assert!(
        sql.contains("CREATE TABLE `wp_options`") && sql.contains("INSERT INTO `wp_options`"),
        "{}",
        &sql[..sql.len().min(500)]
    );
    // Not good until checked; a check that reads everything back makes it good.
    let list = c.json_ok(["backup", "list", DOMAIN]);
    assert!(list[0]["verified_at"].is_null(), "{list:#}");
    let check = c.json_ok(["backup", "check", "web0"]);
    assert_eq!((check["read_percent"].as_u64(), check["verified"].as_u64()), (Some(100), Some(1)), "{check:#}");
    // The password is in the keyring (as the schedule's file on the server), never in the cache.
    let entry = check["repository_entry"].as_str().unwrap().to_owned();
    assert!(entry.starts_with("backup-repo:web0:"), "an entry of this repository's own: {entry}");
    let password = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "chom-desktop", "username", &entry])
        .output()
        .unwrap();
    let password = String::from_utf8(password.stdout).unwrap();
    assert_eq!(fleet.sh(0, "cat /var/backups/chom/restic.pass").trim(), password.trim());
    let db_file = std::fs::read(c.data_dir().join("chom.sqlite3")).unwrap();
    assert!(
        !db_file.windows(password.trim().len()).any(|w| w == password.trim().as_bytes()),
        "the password is in SQLite"
    );

    let list = c.json_ok(["backup", "list", DOMAIN]);
    assert!(list[0]["verified_at"].is_string(), "{list:#}");
    let text = c.ok(["backup", "list"]);
    assert!(text.lines().nth(1).is_some_and(|l| l.contains(DOMAIN) && l.contains("good")), "{text}");

    // A drill restores it where nothing serves it, checks and counts it,
    // and leaves no scratch folder or database behind; the site is untouched.
    let before = fleet.server_listing(0);
    let id = b["id"].to_string();
    let drilled = c.json_ok(["backup", "drill", &id]);
    let drill = &drilled["drill"];
    assert_eq!(drill["files"], b["files"], "every file came back: {drilled:#}");
    assert!(drill["tables"].as_u64().unwrap() >= 10 && drill["rows"].as_u64().unwrap() > 0, "{drilled:#}");
    assert!(drilled["drilled_at"].is_string() && drilled["drill_error"] == "", "{drilled:#}");
    assert_eq!(fleet.server_listing(0), before, "a drill leaves the server as it was");
    assert_eq!(fleet.sh(0, "ls /var/backups/chom"), "cache\nrestic\nrestic.pass\n");
    assert_eq!(fleet.sh(0, "mysql -N -e 'SHOW DATABASES' | grep -c chom_drill || true").trim(), "0");
    let text = c.ok(["backup", "list", DOMAIN]);
    assert!(text.contains("good, restore-tested"), "{text}");

    // A second backup stores only what changed, in packs of its own.
    let packs = "find /var/backups/chom/restic/data -type f | sort";
    let packs_before = fleet.sh(0, packs);
    let again = c.json_ok(["backup", "create", DOMAIN]);
    assert!(
        again["added_bytes"].as_u64().unwrap() < b["added_bytes"].as_u64().unwrap() / 10,
        "an unchanged site adds little: {again:#} after {b:#}"
    );
    let new_packs: Vec<String> =
        fleet.sh(0, packs).lines().filter(|p| !packs_before.contains(p)).map(String::from).collect();
    assert!(!new_packs.is_empty(), "the second backup wrote packs");
    let largest = fleet.sh(0, &format!("ls -S {} | head -1", new_packs.join(" ")));
    c.ok(["backup", "check", "web0"]);

    // One byte flipped in the second backup's largest pack: the check names
    // that backup (and only it); the first stays good and drills.
    let flip = |file: &str| {
        format!(
            "f={file}; b=$(dd if=\"$f\" bs=1 skip=100 count=1 status=none | od -An -tu1 | tr -d ' '); \
             printf \"\\\\$(printf %03o $(( (b + 1) % 256 )))\" | dd of=\"$f\" bs=1 seek=100 conv=notrunc status=none"
        )
    };
    fleet.sh(0, &flip(largest.trim()));
    let (again_id, b_id) = (again["id"].to_string(), b["id"].to_string());
    let out = c.run(["backup", "check", "web0"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains(&format!("the data of backup {again_id} ({DOMAIN}, ")), "{err}");
    assert!(!err.contains(&format!("backup {b_id} (")) && err.contains("cannot be restored"), "{err}");
    let show = c.json_ok(["backup", "show", &again_id]);
    assert!(show["good"] == false && show["damage"].as_str().is_some_and(|d| d.contains("Pack ID")), "{show:#}");
    assert_eq!(c.json_ok(["backup", "show", &b_id])["good"], true);
    let out = c.run(["backup", "drill", &again_id]);
    assert_eq!(out.status.code(), Some(10), "a drill of the damaged backup: {}", stderr_of(&out));
    c.ok(["backup", "drill", &b_id]);
    // A check of part of the data that passes (it did not read the damaged
    // pack) does not make the damaged backup good again. restic picks the
    // part at random, so a run may read the damaged pack and fail: the
    // check is repeated until one passes.
    let passed = (0..20).any(|_| {
        let out = c.run(["backup", "check", "web0", "--read", "1"]);
        assert!(matches!(out.status.code(), Some(0 | 10)), "{}", stderr_of(&out));
        out.status.success()
    });
    assert!(passed, "a check of 1 % of the data read the one damaged pack 20 times in a row");
    assert_eq!(c.json_ok(["backup", "show", &again_id])["good"], false);

    // One byte flipped in each of the repository's pack files: the check
    // fails and no backup of the server stays good; a drill of either
    // backup fails, and its row says so; the site has no good backup.
    fleet.sh(
        0,
        "for f in $(find /var/backups/chom/restic/data -type f); do \
         b=$(dd if=\"$f\" bs=1 skip=100 count=1 status=none | od -An -tu1 | tr -d ' '); \
         printf \"\\\\$(printf %03o $(( (b + 1) % 256 )))\" | dd of=\"$f\" bs=1 seek=100 conv=notrunc status=none; done",
    );
    let out = c.run(["backup", "check", "web0"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("found damage"), "{}", stderr_of(&out));
    let list = c.json_ok(["backup", "list", DOMAIN]);
    assert!(list.as_array().unwrap().iter().all(|b| b["verified_at"].is_null() && b["good"] == false), "{list:#}");
    for b in list.as_array().unwrap() {
        let out = c.run(["backup", "drill", &b["id"].to_string()]);
        assert_eq!(out.status.code(), Some(10), "a drill of damaged data: {}", stderr_of(&out));
    }
    let list = c.json_ok(["backup", "list", DOMAIN]);
    assert!(list.as_array().unwrap().iter().all(|b| b["drilled_at"].is_null() && b["drill_error"] != ""), "{list:#}");
    let overview = c.json_ok(["backup", "overview"]);
    assert_eq!(overview[0]["coverage"], "no_good_backup", "{overview:#}");
    assert_eq!(fleet.sh(0, "mysql -N -e 'SHOW DATABASES' | grep -c chom_drill || true").trim(), "0");
    assert_eq!(fleet.sh(0, "ls /var/backups/chom"), "cache\nrestic\nrestic.pass\n", "no scratch copy left");

    // Hostile names are refused before anything runs.
    for bad in ["../etc", "blog.example.test;id", "-x"] {
        let out = c.run(["backup", "create", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr_of(&out));
    }
    let out = c.run(["backup", "check", "web0", "--read", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}
