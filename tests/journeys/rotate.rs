use std::collections::BTreeMap;
use std::path::PathBuf;

use chom_tests::{by_server, Fleet};
use serde_json::Value;

/// Someone else's key in every host's authorized_keys: a rotation must
/// leave it alone.
const OTHER: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherOtherOtherOtherOtherOtherOtherOther colleague";

fn blob(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap()
}

fn states(report: &Value) -> BTreeMap<String, String> {
    by_server(report).into_iter().map(|(s, r)| (s, r["state"].as_str().unwrap().to_owned())).collect()
}

/// Twelve hosts, each reading only its own ~/.ssh/authorized_keys; two are
/// down and one has that file as a symbolic link (which the removal
/// refuses to replace). The first run rotates the nine it can all the way
/// (new key added, a fresh login with it alone, CHOM switched, old key's
/// lines removed and the old key refused), leaves the down ones untouched
/// and the linked one switched but holding the old key; once they are
/// back and the link is a file, the same command finishes the three.
#[test]
fn a_key_is_rotated_across_the_fleet_and_a_second_run_finishes_what_was_down() {
    let mut fleet = Fleet::start(12);
    let chom = &fleet.chom;
    let old = chom.json_ok(["key", "show", "lab"])["public_key"].as_str().unwrap().to_owned();
    let new = chom.json_ok(["key", "generate", "next"])["public_key"].as_str().unwrap().to_owned();
    let hosts: Vec<String> = fleet.lab.hosts().iter().map(|h| h.name.clone()).collect();
    let initial = format!("# keys of this host\n{old} chom:lab\n{OTHER}\n");
    for i in 0..hosts.len() {
        fleet.lab.give_own_home(i, &initial).expect("a home of its own");
    }
    let dir = fleet.lab.dir().to_owned();
    let files: Vec<PathBuf> =
        fleet.lab.hosts().iter().map(|h| h.home_path(&dir).join(".ssh/authorized_keys")).collect();
    let keys_of = |i: usize| files[i].clone();
    let read = |i: usize| std::fs::read_to_string(&files[i]).unwrap();
    let linked = 11;
    let real = keys_of(linked).with_file_name("keys.real");
    std::fs::rename(keys_of(linked), &real).unwrap();
    std::os::unix::fs::symlink("keys.real", keys_of(linked)).unwrap();
    let report = chom.json_ok(["run", "--all", "--", "true"]);
    assert_eq!(report["succeeded"], 12, "every host logs in with the old key first: {report:#}");
    let down = [3, 7];
    for &i in &down {
        fleet.lab.stop_host(i).unwrap();
    }

    let (report, status) = chom.json(["key", "rotate", "lab", "next", "--all"]);
    assert_eq!(status, 1, "pending servers make the exit status 1: {report:#}");
    assert_eq!((report["done"].as_u64(), report["pending"].as_u64()), (Some(9), Some(3)), "{report:#}");
    let st = states(&report);
    for (i, name) in hosts.iter().enumerate() {
        let want = match i {
            3 | 7 => "pending",
            11 => "switched",
            _ => "done",
        };
        assert_eq!(st[name], want, "{name}: {report:#}");
    }
    for i in (0..11).filter(|i| !down.contains(i)) {
        let now = read(i);
        assert!(!now.contains(blob(&old)), "{}: the old key is gone: {now}", hosts[i]);
        assert_eq!(now.matches(blob(&new)).count(), 1, "{}: the new key once: {now}", hosts[i]);
        assert!(now.starts_with("# keys of this host\n") && now.contains(OTHER), "the rest stays: {now}");
    }
    for &i in &down {
        assert_eq!(read(i), initial, "{}: a host that was down is untouched", hosts[i]);
    }
    let held = std::fs::read_to_string(&real).unwrap();
    assert!(held.contains(blob(&old)) && held.contains(blob(&new)), "the linked host keeps both: {held}");
    assert!(std::fs::symlink_metadata(keys_of(linked)).unwrap().file_type().is_symlink(), "the link is not replaced");
    let first = &by_server(&report)[&hosts[0]];
    assert!(first["detail"].as_str().unwrap().contains("no root here"), "the lab user cannot become root: {first:#}");
    let linked_result = &by_server(&report)[&hosts[linked]];
    assert!(linked_result["detail"].as_str().unwrap().contains("not a regular file"), "{linked_result:#}");

    let used = chom.json_ok(["key", "show", "lab"]);
    assert_eq!(used["used_by"], serde_json::json!([hosts[3], hosts[7]]), "{used:#}");
    let (refused, status) = chom.json(["key", "delete", "lab"]);
    assert_ne!(status, 0, "the old key is still needed: {refused:#}");

    for &i in &down {
        fleet.lab.start_host(i).unwrap();
    }
    std::fs::remove_file(keys_of(linked)).unwrap();
    std::fs::rename(&real, keys_of(linked)).unwrap();
    let report = chom.json_ok(["key", "rotate", "lab", "next", "--all"]);
    assert_eq!((report["done"].as_u64(), report["pending"].as_u64()), (Some(3), Some(0)), "{report:#}");
    let expected: BTreeMap<String, String> =
        [3, 7, 11].iter().map(|&i| (hosts[i].clone(), "done".to_owned())).collect();
    assert_eq!(states(&report), expected, "only the unfinished ones run again: {report:#}");
    for (i, name) in hosts.iter().enumerate() {
        let now = read(i);
        assert!(!now.contains(blob(&old)) && now.contains(blob(&new)) && now.contains(OTHER), "{name}: {now}");
    }

    let journal = chom.json_ok(["key", "rotations", "next"]);
    let rows = journal.as_array().unwrap();
    assert_eq!(rows.len(), 12, "{journal:#}");
    assert!(rows.iter().all(|r| r["state"] == "done"), "{journal:#}");
    let report = chom.json_ok(["run", "--all", "--", "true"]);
    assert_eq!(report["succeeded"], 12, "CHOM logs in everywhere with the new key: {report:#}");
    let (again, status) = chom.json(["key", "rotate", "lab", "next", "--all"]);
    assert_eq!(status, 2, "nothing is left to rotate: {again:#}");
    chom.ok(["key", "delete", "lab"]);
}
