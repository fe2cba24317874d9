//! Retries with backoff and the per-server circuit breaker, against a real
//! sshd whose own netfilter refuses connections on purpose (a TCP reset to
//! the SYN: "connection refused").

use std::time::Duration;

use chom_tests::web::WebFleet;
use chom_tests::{stderr_of, wait_until};

/// SYNs that reached sshd's port since the counters were zeroed.
fn syns(fleet: &WebFleet) -> u64 {
    let out = fleet.sh(0, "iptables -L INPUT -v -x -n | awk '/chom-count/ { print $1 }'");
    out.trim().parse().unwrap_or_else(|_| panic!("no counting rule: {out}"))
}

#[test]
fn refused_connections_are_retried_and_a_dead_host_is_paused() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    // Counts every SYN to sshd, whatever the rules after it decide.
    fleet.sh(0, "iptables -I INPUT 1 -p tcp --dport 22 --syn -m comment --comment chom-count");

    // The first two attempts are refused, the third gets through: the probe
    // succeeds, and the log says it retried.
    fleet.sh(
        0,
        "iptables -A INPUT -p tcp --dport 22 --syn -m statistic --mode nth --every 3 --packet 2 -j ACCEPT; \
         iptables -A INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset; iptables -Z",
    );
    let (probe, status) = c.json(["probe", "web0"]);
    assert_eq!(status, 0, "{probe:#}");
    assert_eq!(syns(&fleet), 3);
    let logs = std::fs::read_dir(c.data_dir().join("logs")).unwrap();
    let log: String = logs.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap_or_default()).collect();
    assert_eq!(log.matches("connecting failed; retrying in").count(), 2, "{log}");
    assert!(log.contains("refused the connection"), "{log}");
    fleet.sh(0, "iptables -D INPUT -p tcp --dport 22 --syn -m statistic --mode nth --every 3 --packet 2 -j ACCEPT");

    // Failed authentication is never retried (nor counted by the breaker).
    let addr = fleet.lab.hosts()[0].addr.to_string();
    fleet.sh(0, "iptables -D INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset; iptables -Z");
    c.ok(["server", "add", "stranger", "--host", &addr, "--user", "nosuchuser", "--key", "lab"]);
    c.ok(["server", "trust", "stranger", "--trust-on-first-use"]);
    fleet.sh(0, "iptables -Z");
    let out = c.run(["--breaker-failures", "1", "probe", "stranger"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(syns(&fleet), 1, "an authentication failure was retried");
    assert_eq!(c.json(["server", "show", "stranger"]).0["server"]["connect_failures"], 0);

    // A dead host: after 3 failed connections in a row it is paused, and
    // the next probe fails at once without a connection attempt.
    fleet.sh(0, "iptables -A INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset; iptables -Z");
    let breaker = ["--connect-retries", "0", "--breaker-failures", "3", "--breaker-pause", "3"];
    let probe = |extra: &[&str]| c.json(breaker.iter().copied().chain(extra.iter().copied()));
    for n in 1..=3 {
        let (r, status) = probe(&["probe", "web0"]);
        assert_eq!(status, 1, "{r:#}");
        assert!(r["results"][0]["error"].as_str().unwrap().contains("refused the connection"), "{r:#}");
        assert_eq!(syns(&fleet), n);
    }
    let (r, _) = probe(&["probe", "web0"]);
    let err = r["results"][0]["error"].as_str().unwrap();
    assert!(err.contains("web0 is paused after 3 failed connection attempts in a row"), "{err}");
    assert_eq!(syns(&fleet), 3, "a paused server was dialled");
    let (show, _) = c.json(["server", "show", "web0"]);
    assert!(show["server"]["paused_until"].is_string(), "{show:#}");
    assert!(c.ok(["server", "list"]).contains("(paused)"));

    // The pause over, one trial: sshd answers again, and a success closes it.
    fleet.sh(0, "iptables -D INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset");
    wait_until("the trial after the pause", Duration::from_secs(15), || probe(&["probe", "web0"]).1 == 0);
    let (show, _) = c.json(["server", "show", "web0"]);
    assert_eq!(
        (show["server"]["connect_failures"].clone(), show["server"]["paused_until"].clone()),
        (0.into(), serde_json::Value::Null)
    );

    // Paused again, the operator resumes it: the next probe dials at once.
    fleet.sh(0, "iptables -A INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset");
    for _ in 0..3 {
        probe(&["probe", "web0"]);
    }
    assert!(probe(&["probe", "web0"]).0["results"][0]["error"].as_str().unwrap().contains("paused"));
    fleet.sh(0, "iptables -D INPUT -p tcp --dport 22 --syn -j REJECT --reject-with tcp-reset");
    c.ok(["server", "resume", "web0"]);
    let (r, status) = probe(&["probe", "web0"]);
    assert_eq!(status, 0, "{r:#}");
    let audit = c.ok(["audit"]);
    assert!(audit.contains("server.resume"), "{audit}");
}
