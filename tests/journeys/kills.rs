//! The CLI killed (SIGKILL) at random moments, 20 times each, mid-deploy,
//! mid-setup and mid-probe. After each kill the next `chom jobs` finds the
//! job interrupted (or finished, if the kill came after its end) and, for
//! a deploy, reconciled with the server: the release it names is the one
//! the server serves, and the cache says the same; no lock is left; every
//! step line the killed CLI printed is in the job's log; the database is
//! whole. The kill moments come from a printed seed (CHOM_KILL_SEED
//! replays them).

use std::process::Stdio;
use std::time::{Duration, Instant};

use chom_tests::web::{static_site, WebFleet};
use chom_tests::{integrity_check, wait_until, Chom, Dice};
use serde_json::Value;

const KILLS: usize = 20;

/// Starts `args`, kills it after `after`, and returns what it printed on
/// stderr up to then.
fn killed(c: &Chom, args: &[&str], after: Duration) -> String {
    let err = tempfile::NamedTempFile::new().unwrap();
    let mut child = c.command(args).stdout(Stdio::null()).stderr(Stdio::from(err.reopen().unwrap())).spawn().unwrap();
    std::thread::sleep(after);
    let _ = child.kill();
    child.wait().unwrap();
    std::fs::read_to_string(err.path()).unwrap()
}

fn newest_job(c: &Chom) -> Option<Value> {
    c.json(["jobs", "--limit", "1"]).0.as_array().unwrap().first().cloned()
}

/// Jobs after `before`, reconciled by this very `chom jobs`.
fn jobs_after(c: &Chom, before: i64) -> Vec<Value> {
    let (jobs, status) = c.json(["jobs", "--limit", "5"]);
    assert_eq!(status, 0, "{jobs:#}");
    jobs.as_array().unwrap().iter().filter(|j| j["id"].as_i64().unwrap() > before).cloned().collect()
}

/// The steps a killed CLI printed (`[web0] step`) are in its job's log,
/// in order.
fn printed_steps_are_logged(c: &Chom, job: i64, printed: &str) {
    let steps: Vec<&str> = printed.lines().filter_map(|l| l.strip_prefix("[web0] ")).collect();
    let (show, _) = c.json(["jobs", &job.to_string()]);
    let logged: Vec<&str> = show["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "step")
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert!(logged.starts_with(&steps), "printed {steps:?}, logged {logged:?}");
}

#[test]
fn kill_the_cli_anywhere_and_nothing_is_lost() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let db = c.data_dir().join("chom.sqlite3");
    let mut dice = Dice::new();
    let work = tempfile::tempdir().unwrap();
    let domain = "kills.example.test";
    let sources =
        [static_site(&work.path().join("a"), "Release A", 40), static_site(&work.path().join("b"), "Release B", 40)];
    let (created, status) = c.json([
        "site",
        "create",
        domain,
        "--kind",
        "static",
        "--server",
        "web0",
        "--from",
        sources[0].to_str().unwrap(),
    ]);
    assert_eq!(status, 0, "{created:#}");
    let lock_free = format!("cd /var/www/{domain}/.chom && flock -n lock true && echo free");
    let serving = || fleet.sh(0, &format!("readlink /var/www/{domain}/current")).trim().replace("releases/", "");

    // Deploys: a full one takes about a second here; kills fall anywhere
    // from before the job's row to after its end.
    let started = Instant::now();
    let (d, _) = c.json(["deploy", domain, "--from", sources[1].to_str().unwrap()]);
    let took = started.elapsed().as_millis() as u64;
    assert!(d["release"].is_string(), "{d:#}");
    let mut outcomes = Vec::new();
    let mut interrupted = Vec::new();
    for i in 0..KILLS {
        let before = newest_job(c).map_or(0, |j| j["id"].as_i64().unwrap());
        let at = Duration::from_millis(dice.below(took * 3 / 2));
        let source = sources[i % 2].to_str().unwrap();
        let printed = killed(c, &["deploy", domain, "--from", source], at);
        // The server's script ends once it sees its client gone.
        wait_until("the site's lock free", Duration::from_secs(15), || fleet.sh(0, &lock_free).contains("free"));
        let jobs = jobs_after(c, before);
        let now = serving();
        let (show, _) = c.json(["site", "show", domain]);
        assert_eq!(show["site"]["current_release"], now.as_str(), "cache and server disagree: {show:#}");
        if let Some(job) = jobs.iter().find(|j| j["kind"] == "deploy") {
            let state = job["state"].as_str().unwrap();
            match state {
                "succeeded" => assert_eq!(show["deploys"][0]["release_id"], now.as_str(), "{show:#}"),
                "interrupted" => {
                    let found = job["reconciled"].as_str().unwrap_or_else(|| panic!("not reconciled: {job:#}"));
                    assert!(found.contains(&format!("release {now} ")), "{found} / serving {now}");
                    assert!(found.contains("no lock left"), "{found}");
                    assert_ne!(show["deploys"][0]["state"], "running", "{show:#}");
                    interrupted.push((job["id"].as_i64().unwrap(), source.to_owned()));
                }
                other => panic!("a killed deploy ended {other}: {job:#}"),
            }
            printed_steps_are_logged(c, job["id"].as_i64().unwrap(), &printed);
            outcomes.push(format!("{}ms:{state}", at.as_millis()));
        } else {
            outcomes.push(format!("{}ms:before-start", at.as_millis()));
        }
        assert_eq!(integrity_check(&db), "ok");
    }
    eprintln!("deploy kills: {}", outcomes.join(" "));
    assert!(outcomes.iter().any(|o| o.ends_with("interrupted")), "no kill fell mid-deploy: {outcomes:?}");
    // An interrupted deploy resumes: the same source again, live now (no
    // lease, lock or half-made release in the way); it resumes only once.
    let (id, source) = interrupted.last().cloned().unwrap();
    let (r, status) = c.json(["jobs", &id.to_string(), "--resume"]);
    assert_eq!(status, 0, "{r:#}");
    let (show, _) = c.json(["jobs", &r["job_id"].to_string()]);
    assert_eq!(show["job"]["state"], "succeeded", "{show:#}");
    assert!(show["job"]["detail"].as_str().unwrap().ends_with(&source), "{show:#}");
    let live = r["outcome"].as_str().unwrap().strip_prefix("release ").unwrap().strip_suffix(" is live").unwrap();
    assert_eq!(serving(), live);
    let again = c.run(["jobs", &id.to_string(), "--resume"]);
    assert_eq!(again.status.code(), Some(2), "{}", chom_tests::stderr_of(&again));
    assert!(chom_tests::stderr_of(&again).contains("was resumed already, as job"));
    let done = c.run(["jobs", &r["job_id"].to_string(), "--resume"]);
    assert!(chom_tests::stderr_of(&done).contains("only an interrupted job is resumed"));
    let (d, status) = c.json(["deploy", domain, "--from", sources[0].to_str().unwrap()]);
    assert_eq!(status, 0, "{d:#}");
    assert_eq!(serving(), d["release"].as_str().unwrap());
    let (_, code) = c.json(["site", "releases", domain]);
    assert_eq!(code, 0);
    assert_eq!(fleet.sh(0, &format!("ls -A /var/www/{domain}/releases | grep -c '^\\.' || true")).trim(), "0");

    // Setup: a run on a set-up server takes a few seconds.
    let started = Instant::now();
    c.ok(["server", "setup", "web0"]);
    let took = started.elapsed().as_millis() as u64;
    let mut outcomes = Vec::new();
    for _ in 0..KILLS {
        let before = newest_job(c).map_or(0, |j| j["id"].as_i64().unwrap());
        let at = Duration::from_millis(dice.below(took));
        let printed = killed(c, &["server", "setup", "web0"], at);
        wait_until("the setup script ended", Duration::from_secs(60), || {
            fleet.sh(0, "pgrep -f 'chom-[s]etup' || true").trim().is_empty()
        });
        let jobs = jobs_after(c, before);
        if let Some(job) = jobs.iter().find(|j| j["kind"] == "setup") {
            let state = job["state"].as_str().unwrap();
            match state {
                "succeeded" => {}
                "interrupted" => {
                    let found = job["reconciled"].as_str().unwrap_or_else(|| panic!("not reconciled: {job:#}"));
                    assert!(found.contains("setup is safe to run again") && found.contains("nginx"), "{found}");
                }
                other => panic!("a killed setup ended {other}: {job:#}"),
            }
            printed_steps_are_logged(c, job["id"].as_i64().unwrap(), &printed);
            outcomes.push(format!("{}ms:{state}", at.as_millis()));
        } else {
            outcomes.push(format!("{}ms:before-start", at.as_millis()));
        }
        assert_eq!(integrity_check(&db), "ok");
    }
    eprintln!("setup kills: {}", outcomes.join(" "));
    assert!(outcomes.iter().any(|o| o.ends_with("interrupted")), "no kill fell mid-setup: {outcomes:?}");
    // The server is whole: setup runs through again, the site serves.
    c.ok(["server", "setup", "web0"]);
    assert_eq!(fleet.get(0, domain, "/").0, 200);

    // Probes: a fraction of a second; the job is interrupted or done, and
    // the probe history holds only whole rows.
    let started = Instant::now();
    c.ok(["probe", "web0"]);
    let took = started.elapsed().as_millis() as u64;
    for _ in 0..KILLS {
        let before = newest_job(c).map_or(0, |j| j["id"].as_i64().unwrap());
        let at = Duration::from_millis(dice.below(took * 3 / 2));
        killed(c, &["probe", "web0"], at);
        for job in jobs_after(c, before).iter().filter(|j| j["kind"] == "probe") {
            let state = job["state"].as_str().unwrap();
            assert!(state == "succeeded" || state == "interrupted", "{job:#}");
        }
        assert_eq!(integrity_check(&db), "ok");
    }
    let (show, _) = c.json(["server", "show", "web0"]);
    let history = show["history"].as_array().unwrap();
    assert!(history.iter().all(|p| p["ok"] == true && p["hostname"].is_string() && p["load1"].is_number()), "{show:#}");
}
