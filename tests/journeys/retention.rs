//! Retention on a real restic repository: 12 snapshots of a WordPress
//! site over simulated days, keep-last 3 + daily 7. The dry run lists what
//! would go and changes nothing; applied, exactly the planned snapshots
//! remain (files and database together), the newest restore-tested backup
//! among them though the rules would drop it, and the repository checks.

use chom_tests::stderr_of;
use chom_tests::web::{wordpress_tarball, WebFleet};

const DOMAIN: &str = "keep.example.test";

fn restic(fleet: &WebFleet, args: &str) -> String {
    fleet.sh(
        0,
        &format!("RESTIC_REPOSITORY=/var/backups/chom/restic RESTIC_PASSWORD_FILE=/var/backups/chom/restic.pass restic {args}"),
    )
}

/// Snapshot ids of the site's files (or database) snapshots.
fn snapshots(fleet: &WebFleet, part: &str) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&restic(fleet, &format!("snapshots --json --tag site:{DOMAIN},part:{part}"))).unwrap();
    let mut ids: Vec<String> = json.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

#[test]
fn keep_last_3_and_daily_7_of_12_keeps_exactly_those_and_the_restore_tested_one() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    c.ok(["site", "create", DOMAIN, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    // Day 0: two CHOM backups; the first one restore-tested.
    let b1 = c.json_ok(["backup", "create", DOMAIN]);
    c.json_ok(["backup", "drill", &b1["id"].to_string()]);
    let b2 = c.json_ok(["backup", "create", DOMAIN]);
    // Days 1 to 10: one snapshot a day, tagged as CHOM tags its own, made
    // by restic with its --time (restic's rules read the snapshot's time).
    for day in 1..=10 {
        restic(
            &fleet,
            &format!(
                "backup --quiet --tag chom --tag site:{DOMAIN} --tag part:files --tag backup:{} \
                 --time \"$(date -u -d '+{day} day' '+%Y-%m-%d %H:%M:%S')\" /var/www/{DOMAIN}/shared",
                1000 + day
            ),
        );
    }
    let all = snapshots(&fleet, "files");
    assert_eq!(all.len(), 12);
    let kept_days: Vec<String> = (4..=10).map(|d| format!("backup:{}", 1000 + d)).collect();

    // The plan: days 4-10 by the rules (the last 3 are among them), b1 as
    // the newest restore-tested; b2 and days 1-3 go. Nothing changes.
    let plan = c.json_ok(["backup", "forget", DOMAIN, "--keep-last", "3", "--keep-daily", "7", "--dry-run"]);
    let kept: Vec<u64> = plan["keep"].as_array().unwrap().iter().map(|s| s["backup"].as_u64().unwrap()).collect();
    let gone: Vec<u64> = plan["remove"].as_array().unwrap().iter().map(|s| s["backup"].as_u64().unwrap()).collect();
    let mut want_kept: Vec<u64> = (1004..=1010).collect();
    want_kept.push(b1["id"].as_u64().unwrap());
    let mut want_gone: Vec<u64> = (1001..=1003).collect();
    want_gone.push(b2["id"].as_u64().unwrap());
    let sorted = |mut v: Vec<u64>| {
        v.sort();
        v
    };
    assert_eq!((sorted(kept), sorted(gone)), (sorted(want_kept), sorted(want_gone)), "{plan:#}");
    assert_eq!(plan["applied"], false);
    let tested = plan["keep"].as_array().unwrap().iter().find(|s| s["backup"] == b1["id"]).unwrap();
    assert_eq!(tested["reasons"], serde_json::json!(["newest restore-tested"]), "{plan:#}");
    assert_eq!(snapshots(&fleet, "files"), all, "a dry run removes nothing");
    let text = c.ok(["backup", "forget", DOMAIN, "--keep-last", "3", "--keep-daily", "7", "--dry-run"]);
    assert!(text.contains("4 backups would be removed (dry run: nothing changed)"), "{text}");

    // Applied: exactly the plan's snapshots remain; b2's database snapshot
    // went with its files, b1's stayed; the repository checks whole.
    let applied = c.json_ok(["backup", "forget", DOMAIN, "--keep-last", "3", "--keep-daily", "7"]);
    assert_eq!(applied["applied"], true);
    let mut want: Vec<String> =
        plan["keep"].as_array().unwrap().iter().map(|s| s["snapshot"].as_str().unwrap().to_owned()).collect();
    want.sort();
    assert_eq!(snapshots(&fleet, "files"), want);
    let databases = snapshots(&fleet, "database");
    assert!(
        databases.len() == 1 && databases[0].starts_with(b1["db_snapshot"].as_str().unwrap()),
        "{databases:?} {b1:#}"
    );
    let listing = restic(&fleet, &format!("snapshots --tag site:{DOMAIN},part:files"));
    for tag in &kept_days {
        assert!(restic(&fleet, &format!("snapshots --json --tag {tag}")).contains(tag), "{tag} kept: {listing}");
    }
    let check = c.json_ok(["backup", "check", "web0"]);
    assert_eq!(check["read_percent"], 100);
    let list = c.json_ok(["backup", "list", DOMAIN]);
    let state =
        |id: &serde_json::Value| list.as_array().unwrap().iter().find(|b| b["id"] == *id).unwrap()["state"].clone();
    assert_eq!((state(&b1["id"]), state(&b2["id"])), ("done".into(), "forgotten".into()), "{list:#}");
    // The restore-tested backup still restores (a drill passes).
    c.json_ok(["backup", "drill", &b1["id"].to_string()]);
    // Applying the same rules again removes nothing.
    let again = c.json_ok(["backup", "forget", DOMAIN, "--keep-last", "3", "--keep-daily", "7"]);
    assert_eq!(again["remove"], serde_json::json!([]), "{again:#}");

    // Rules that keep nothing, or none at all, are refused before anything runs.
    for args in [vec!["--keep-last", "0"], vec![], vec!["--keep-daily", "-1"], vec!["--keep-last", "1;id"]] {
        let mut all = vec!["backup", "forget", DOMAIN];
        all.extend(args.iter());
        let out = c.run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
    }
}
