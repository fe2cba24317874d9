use std::net::SocketAddr;
use std::time::Instant;

use chom_lab::{GarbageServer, SilentServer};
use chom_tests::{by_server, Fleet};

/// A stopped host, a port that answers random bytes and one that accepts
/// and says nothing: each fails alone with its own clear error within the
/// timeout; the rest of the fleet is probed.
#[test]
fn broken_servers_fail_alone_and_clearly() {
    let mut fleet = Fleet::start(3);
    fleet.lab.stop_host(2).unwrap();
    // In the lab's own subnet, past its hosts: no other lab uses these.
    let s = fleet.lab.subnet();
    let garbage = GarbageServer::start(SocketAddr::from(([127, s, 9, 1], 2222))).unwrap();
    let silent = SilentServer::start(SocketAddr::from(([127, s, 9, 2], 2222))).unwrap();
    let c = &fleet.chom;
    for (name, addr) in [("garbage", garbage.addr()), ("silent", silent.addr())] {
        c.ok([
            "server",
            "add",
            name,
            "--host",
            &addr.ip().to_string(),
            "--port",
            &addr.port().to_string(),
            "--key",
            "lab",
        ]);
    }
    let started = Instant::now();
    let (report, status) = c.json(["--connect-timeout", "3", "probe", "--all"]);
    let took = started.elapsed();
    assert_eq!(status, 1);
    let r = by_server(&report);
    let hosts = fleet.lab.hosts();
    assert_eq!(r[&hosts[0].name]["ok"], true);
    assert_eq!(r[&hosts[1].name]["ok"], true);
    assert_eq!(r[&hosts[2].name]["error_code"], "unreachable", "{:#}", r[&hosts[2].name]);
    assert!(r[&hosts[2].name]["error"].as_str().unwrap().contains("refused"));
    assert_eq!(r["garbage"]["error_code"], "protocol", "{:#}", r["garbage"]);
    assert!(r["garbage"]["error"].as_str().unwrap().contains("did not speak SSH"));
    assert_eq!(r["silent"]["error_code"], "timeout", "{:#}", r["silent"]);
    assert!(r["silent"]["error"].as_str().unwrap().contains("timed out after 3s"));
    // Not a speed target: a guard that the silent host did not hang the batch.
    assert!(took.as_secs() < 30, "probe took {took:?}");
}
