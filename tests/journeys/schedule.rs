//! A backup on the server's own schedule: cron on the lab host runs it at
//! the set minute with no CHOM process around; the next probe reads its
//! result into the cache (once); the run drilled its backup (its day is
//! today), so it comes in restore-tested, and it checks like any; with
//! cron stopped, the next probe reports the schedule as missed. Hostile
//! times and drill days are refused before anything is installed.

use std::time::Duration;

use chom_tests::web::{wordpress_tarball, WebFleet};
use chom_tests::{stderr_of, wait_until};

const DOMAIN: &str = "cron.example.test";
const USER: &str = "w_cron_example_test";

#[test]
fn a_schedule_runs_by_cron_without_the_desktop_and_a_stopped_cron_is_missed() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    c.ok(["site", "create", DOMAIN, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    fleet.sh(0, "service cron start >/dev/null 2>&1");
    let cron_file = format!("/etc/cron.d/chom-backup-{USER}");

    for bad in ["25:00", "3:30", "03:30;id", "$(id)", "03:30 * * * * root id", "03:30\nx"] {
        let out = c.run(["backup", "schedule", DOMAIN, "--at", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr_of(&out));
    }
    let out = c.run(["backup", "schedule", DOMAIN, "--at", "03:30", "--keep-last", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    for bad in ["wed;id", "Wednesday", "8", "$(id)"] {
        let out = c.run(["backup", "schedule", DOMAIN, "--at", "03:30", "--drill", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr_of(&out));
    }
    assert_eq!(fleet.sh(0, &format!("ls {cron_file} 2>/dev/null || echo none")).trim(), "none");

    // The next minute by the server's clock (the one after, late in a minute).
    // The drill day is that minute's weekday.
    let when = fleet
        .sh(0, "if [ $(date +%S) -gt 45 ]; then date -d '+2 min' '+%H:%M %u'; else date -d '+1 min' '+%H:%M %u'; fi");
    let (at, weekday) = when.trim().split_once(' ').unwrap();
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let day = weekday.parse::<usize>().unwrap() - 1;
    let set = c.json_ok(["backup", "schedule", DOMAIN, "--at", at, "--keep-last", "5", "--drill", days[day]]);
    assert_eq!((set[0]["at"].as_str(), set[0]["missed"].is_null()), (Some(at), true), "{set:#}");
    assert_eq!(set[0]["drill"], format!("weekly on {}", names[day]), "{set:#}");
    let (h, m) = at.split_once(':').unwrap();
    let entry = fleet.sh(0, &format!("grep -v '^#' {cron_file}"));
    assert_eq!(
        entry.trim(),
        format!("{m} {} * * * root /bin/sh /var/backups/chom/schedule/{DOMAIN}.run", h.parse::<u32>().unwrap())
    );
    assert_eq!(
        fleet.sh(
            0,
            &format!("stat -c '%U %a' {cron_file} /var/backups/chom/schedule /var/backups/chom/schedule/{DOMAIN}.run")
        ),
        "root 644\nroot 700\nroot 700\n"
    );

    // No CHOM process runs while cron does the backup.
    let status_file = format!("/var/lib/chom/backups/{DOMAIN}.json");
    wait_until("the scheduled run's status", Duration::from_secs(200), || {
        fleet.sh(0, &format!("cat {status_file} 2>/dev/null")).contains("\"finished\"")
    });
    let status: serde_json::Value = serde_json::from_str(&fleet.sh(0, &format!("cat {status_file}"))).unwrap();
    assert_eq!(
        (&status["ok"], &status["drill"], &status["error"]),
        (&true.into(), &"passed".into(), &"".into()),
        "{status:#}"
    );
    assert!(
        status["drill_files"].as_u64().unwrap() > 1000 && status["drill_tables"].as_u64().unwrap() >= 10,
        "{status:#}"
    );
    let snapshot = status["files_snapshot"].as_str().unwrap().to_owned();
    assert!(!snapshot.is_empty() && status["db_snapshot"] != "", "{status:#}");
    assert_eq!(fleet.sh(0, &format!("stat -c '%U %a' {status_file}")), "root 644\n");

    // The next probe reads it in, once.
    assert!(c.json_ok(["backup", "list", DOMAIN]).as_array().unwrap().is_empty());
    c.json_ok(["probe", "web0"]);
    c.json_ok(["probe", "web0"]);
    let list = c.json_ok(["backup", "list", DOMAIN]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    let row = &list[0];
    assert_eq!((row["scheduled"].as_bool(), row["state"].as_str()), (Some(true), Some("done")), "{row:#}");
    assert_eq!(row["files_snapshot"].as_str(), Some(snapshot.as_str()));
    assert!(row["files"].as_u64().unwrap() > 1000, "{row:#}");
    // Restore-tested by the run's own drill, with no desktop around.
    assert!(row["drilled_at"].is_string() && row["drill"]["files"] == status["drill_files"], "{row:#}");
    assert_eq!(
        fleet.sh(0, &format!("cat /var/backups/chom/schedule/{DOMAIN}.protect")).trim(),
        snapshot,
        "the run's drilled backup is protected from its retention: {}",
        fleet.sh(0, &format!("grep -v '^[^@]' /var/backups/chom/schedule/{DOMAIN}.log | tail -20"))
    );
    assert_eq!(fleet.sh(0, "mysql -N -e 'SHOW DATABASES' | grep -c chom_drill || true").trim(), "0");
    let view = c.json_ok(["backup", "schedule", DOMAIN]);
    assert_eq!((view[0]["last_ok"].as_bool(), view[0]["cron_running"].as_bool()), (Some(true), Some(true)), "{view:#}");
    assert!(view[0]["missed"].is_null(), "{view:#}");
    // Like any backup: checked good, drilled.
    c.json_ok(["backup", "check", "web0"]);
    let drilled = c.json_ok(["backup", "drill", &row["id"].to_string()]);
    assert_eq!(drilled["good"], true, "{drilled:#}");
    assert_eq!(
        fleet.sh(0, &format!("cat /var/backups/chom/schedule/{DOMAIN}.protect")).trim(),
        snapshot,
        "the drilled backup is protected"
    );

    // cron stopped: the next probe says the schedule cannot run.
    fleet.sh(0, "service cron stop >/dev/null 2>&1");
    c.json_ok(["probe", "web0"]);
    let view = c.json_ok(["backup", "schedule", DOMAIN]);
    assert!(view[0]["missed"].as_str().is_some_and(|m| m.contains("cron is not running on web0")), "{view:#}");
    let text = c.ok(["backup", "schedule"]);
    assert!(text.contains("cron is not running"), "{text}");

    c.ok(["backup", "schedule", DOMAIN, "--off"]);
    assert_eq!(
        fleet.sh(0, &format!("ls {cron_file} /var/backups/chom/schedule/{DOMAIN}.run 2>/dev/null | wc -l")).trim(),
        "0"
    );
    assert!(c.json_ok(["backup", "schedule"]).as_array().unwrap().is_empty());
}
