use std::process::{Command, Stdio};
use std::time::Duration;

use chom_tests::{by_server, wait_until, Fleet};

fn cpu_count() -> u64 {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    online
        .trim()
        .split(',')
        .map(|p| match p.split_once('-') {
            Some((a, b)) => b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

/// Twenty hosts probed at once; what is stored matches each host.
#[test]
fn probe_twenty_hosts_and_review_offline() {
    let fleet = Fleet::start(20);
    let (report, status) = fleet.chom.json(["probe", "--all"]);
    assert_eq!(status, 0, "{report:#}");
    assert_eq!(report["succeeded"], 20, "{report:#}");
    let results = by_server(&report);
    for h in fleet.lab.hosts() {
        let facts = &results[&h.name]["facts"];
        assert_eq!(facts["hostname"], h.name.as_str(), "hostname of {}", h.name);
        assert_eq!(facts["cpus"].as_u64(), Some(cpu_count()));
        assert!(facts["mem_total"].as_u64().unwrap() > 0);
        assert!(facts["disk_total"].as_u64().unwrap() > 0);
        // Lab hosts share this machine's /usr: nginx is installed when the
        // web lab's packages are (running or not depends on other tests).
        let nginx = facts["services"]["nginx"].as_str().unwrap();
        if std::path::Path::new("/usr/sbin/nginx").exists() {
            assert!(["up", "down"].contains(&nginx), "{nginx}");
        } else {
            assert_eq!(nginx, "absent");
        }
    }

    // The cache, not the network, answers from here on: stop the lab's
    // hosts, keeping its subnet claimed (a lab another test starts on the
    // same addresses would answer with other host keys).
    let names: Vec<String> = fleet.lab.hosts().iter().map(|h| h.name.clone()).collect();
    let Fleet { mut lab, chom } = fleet;
    for i in 0..names.len() {
        lab.stop_host(i).expect("stop a lab host");
    }
    let (servers, _) = chom.json(["server", "list"]);
    let servers = servers.as_array().unwrap();
    assert_eq!(servers.len(), 20);
    for s in servers {
        assert_eq!(s["status"], "up");
        assert!(s["last_seen"].is_string(), "{s}");
        assert!(names.contains(&s["probe"]["hostname"].as_str().unwrap().to_owned()));
    }
    let (detail, _) = chom.json(["server", "show", &names[3]]);
    assert_eq!(detail["server"]["probe"]["hostname"], names[3].as_str());
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);

    // A second probe, now with every host gone, keeps the history and
    // marks them down without losing the last good facts.
    let (report, status) = chom.json(["--connect-timeout", "3", "probe", "--all"]);
    assert_eq!(status, 1);
    assert_eq!(report["failed"], 20);
    let (detail, _) = chom.json(["server", "show", &names[3]]);
    assert_eq!(detail["server"]["status"], "down");
    // The offline view keeps the last known figures, saying when they were measured.
    let probe = &detail["server"]["probe"];
    assert_eq!((probe["ok"].as_bool(), probe["hostname"].as_str()), (Some(false), Some(names[3].as_str())));
    assert!(probe["mem_used_pct"].is_number() && probe["facts_at"].is_string(), "{probe}");
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    assert_eq!((detail["history"][0]["ok"].as_bool(), detail["history"][1]["ok"].as_bool()), (Some(true), Some(false)));
    assert_eq!(detail["history"][0]["hostname"], names[3].as_str());
    assert!(detail["history"][1]["error"].is_string(), "{detail:#}");
    // What the last good probe found stays in full.
    assert_eq!(detail["facts"]["hostname"], names[3].as_str());

    let (jobs, _) = chom.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "probe");
    assert_eq!(jobs[0]["state"], "failed");
    assert_eq!(jobs[1]["state"], "succeeded");
}

/// `chom run` on a selection: each server's own output and exit status.
#[test]
fn run_a_command_on_a_selection() {
    let fleet = Fleet::start(4);
    let hosts = fleet.lab.hosts();
    let (report, status) = fleet.chom.json([
        "run",
        &hosts[0].name,
        &hosts[2].name,
        "--",
        "cat /proc/sys/kernel/hostname; echo oops >&2; exit 3",
    ]);
    assert_eq!(status, 1, "non-zero exits make the run fail: {report:#}");
    let results = by_server(&report);
    assert_eq!(results.len(), 2);
    for h in [&hosts[0], &hosts[2]] {
        let r = &results[&h.name];
        assert_eq!(r["stdout"], format!("{}\n", h.name));
        assert_eq!(r["stderr"], "oops\n");
        assert_eq!(r["exit_status"], 3);
    }
    let text = fleet.chom.ok(["run", "--tag", "lab", "--", "true"]);
    assert!(text.contains("ran on 4 servers: 4 ok, 0 failed"), "{text}");
    let (audit, _) = fleet.chom.json(["audit", "--action", "run"]);
    assert_eq!(audit.as_array().unwrap().len(), 6, "one audit row per server and run");
}

/// Ctrl-C stops a run on the servers too: each command that never reads
/// or writes (`sleep`) gets SIGTERM through sshd, so none outlives the
/// cancel, and the job says cancelled. The same holds for a timeout.
#[test]
fn a_cancelled_or_timed_out_run_stops_the_remote_commands() {
    let fleet = Fleet::start(2);
    let running = |pattern: &str| {
        let out = Command::new("pgrep").args(["-c", "-f", pattern]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().unwrap_or(0)
    };
    // The numbers make the commands this test's own among parallel tests.
    let child = fleet.chom.command(["run", "--all", "--", "sleep 2929"]).stdout(Stdio::null()).spawn().unwrap();
    wait_until("both commands start", Duration::from_secs(20), || running("^sleep 2929$") == 2);
    let st = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    child.wait_with_output().unwrap();
    wait_until("the cancelled commands end", Duration::from_secs(20), || running("^sleep 2929$") == 0);
    let (jobs, _) = fleet.chom.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "cancelled", "{jobs:#}");

    let (report, status) = fleet.chom.json(["--command-timeout", "2", "run", "--all", "--", "sleep 2930"]);
    assert_eq!(status, 1, "{report:#}");
    assert_eq!(by_server(&report).values().filter(|r| r["error_code"] == "timeout").count(), 2, "{report:#}");
    wait_until("the timed-out commands end", Duration::from_secs(20), || running("^sleep 2930$") == 0);
}
