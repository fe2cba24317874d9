//! The same inventories through the real `ansible-inventory --list`: this
//! module must see the hosts, addresses, ports, users and groups Ansible
//! sees. `ansible-inventory` is found through `CHOM_ANSIBLE_INVENTORY` (a
//! path) or `PATH`; without it the tests say so and pass, except under CI,
//! which installs it and must not skip the comparison.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::export::fleet;
use super::read;
use crate::import::ansible::{export_ini, export_yaml, Format, Inventory};

/// ansible-inventory starts Python and loads its plugins: seconds, not
/// minutes, even on a busy machine.
const ANSIBLE_TIMEOUT: Duration = Duration::from_secs(120);

fn find_ansible_inventory() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHOM_ANSIBLE_INVENTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join("ansible-inventory")).find(|p| p.is_file())
}

fn ansible_inventory_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_ansible_inventory();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "ansible-inventory not found (set CHOM_ANSIBLE_INVENTORY or put it on PATH); \
             CI installs ansible-core and must compare with it"
        );
        eprintln!("{test}: ansible-inventory not found; did not compare with real Ansible");
    }
    found
}

/// `ansible-inventory -i FILE --list` on `text`, isolated from any
/// ansible.cfg, and failing (not warning) when the file does not parse.
fn ansible_list(bin: &Path, text: &str, file_name: &str) -> Json {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let file = dir.path().join(file_name);
    let config = dir.path().join("ansible.cfg");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
    std::fs::write(&config, "").unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
    let mut child = Command::new(bin)
        .arg("-i")
        .arg(&file)
        .arg("--list")
        .env("ANSIBLE_CONFIG", &config)
        .env("ANSIBLE_HOME", dir.path())
        .env("ANSIBLE_LOCAL_TEMP", dir.path())
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")
        .env("ANSIBLE_NOCOLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = pipe.read_to_string(&mut out);
            out
        })
    };
    let stdout = child.stdout.take().map(|p| drain(Box::new(p)));
    let stderr = child.stderr.take().map(|p| drain(Box::new(p)));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > ANSIBLE_TIMEOUT => {
                let _ = child.kill();
                panic!("ansible-inventory took more than {ANSIBLE_TIMEOUT:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for ansible-inventory: {e}"),
        }
    };
    let collect = |h: Option<std::thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    let (out, err) = (collect(stdout), collect(stderr));
    assert!(status.success(), "ansible-inventory failed ({status}) on\n{text}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ansible-inventory printed no JSON ({e}):\n{out}\n{err}"))
}

/// What a comparison covers, per host name.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    host: String,
    port: Option<u16>,
    user: Option<String>,
    groups: BTreeSet<String>,
}

fn ours(inventory: &Inventory) -> BTreeMap<String, Seen> {
    inventory
        .hosts()
        .into_iter()
        .map(|h| {
            let seen = Seen { host: h.host, port: h.port, user: h.user, groups: h.groups.into_iter().collect() };
            (h.name, seen)
        })
        .collect()
}

fn json_strings(value: Option<&Json>) -> Vec<String> {
    value.and_then(Json::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// Hosts of `group` and of its children, from the `--list` JSON.
fn members(json: &Json, group: &str, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
    if !seen.insert(group.to_owned()) {
        return;
    }
    out.extend(json_strings(json.get(group).and_then(|g| g.get("hosts"))));
    for child in json_strings(json.get(group).and_then(|g| g.get("children"))) {
        members(json, &child, out, seen);
    }
}

fn theirs(json: &Json) -> BTreeMap<String, Seen> {
    let hostvars = json.pointer("/_meta/hostvars").and_then(Json::as_object).cloned().unwrap_or_default();
    let mut all = BTreeSet::new();
    members(json, "all", &mut all, &mut BTreeSet::new());
    all.extend(hostvars.keys().cloned());
    let mut groups_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for group in json.as_object().into_iter().flat_map(|o| o.keys()) {
        if matches!(group.as_str(), "_meta" | "all" | "ungrouped") {
            continue;
        }
        let mut hosts = BTreeSet::new();
        members(json, group, &mut hosts, &mut BTreeSet::new());
        for h in hosts {
            groups_of.entry(h).or_default().insert(group.clone());
        }
    }
    all.into_iter()
        .map(|name| {
            let vars = hostvars.get(&name);
            let var = |k: &str| vars.and_then(|v| v.get(k));
            // Ansible's ssh connection prefers the ansible_ssh_ spellings.
            let first = |names: [&str; 2]| names.into_iter().find_map(|n| var(n).filter(|v| !v.is_null()));
            let text = |names: [&str; 2]| {
                first(names).and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string())))
            };
            let port = first(["ansible_ssh_port", "ansible_port"])
                .and_then(|p| p.as_u64().or_else(|| p.as_str().and_then(|s| s.parse().ok())));
            let seen = Seen {
                host: text(["ansible_ssh_host", "ansible_host"]).unwrap_or_else(|| name.clone()),
                port: port.map(|p| u16::try_from(p).unwrap_or_else(|_| panic!("port {p} of {name}"))),
                user: text(["ansible_ssh_user", "ansible_user"]),
                groups: groups_of.remove(&name).unwrap_or_default(),
            };
            (name, seen)
        })
        .collect()
}

fn assert_same_as_ansible(bin: &Path, text: &str, format: Format, file_name: &str) {
    let json = ansible_list(bin, text, file_name);
    let (mine, real) = (ours(&read(text, format)), theirs(&json));
    assert!(!real.is_empty(), "Ansible saw no hosts in\n{text}");
    assert_eq!(mine.keys().collect::<Vec<_>>(), real.keys().collect::<Vec<_>>(), "host names differ for\n{text}");
    for (name, seen) in &real {
        assert_eq!(mine.get(name), Some(seen), "host {name} differs from Ansible's for\n{text}");
    }
}

const INI_FLEET: &str = "\
# ungrouped, with a port on the host line
bastion ansible_host=203.0.113.10 ansible_user=jump
lonely:2201

[web]
web[01:03].example.com ansible_user=deploy
web-[a:b].example.com:2222

[db]
db-[1:6:2].example.com ansible_port=5522 ansible_host=\"10.0.0.5\"
10.0.0.[7:8]

[app:children]
web
stage_only

[stage_only]
web01.example.com

[prod:children]
app
db

[prod:vars]
ansible_user=root
ansible_port=2200

[app:vars]
ansible_port=2022

[all:vars]
ansible_user=admin

[east]
multi.example.com
[west]
multi.example.com
[east:vars]
ansible_user=east_user
ansible_group_priority=5
[west:vars]
ansible_user=west_user
";

const YAML_FLEET: &str = r#"
all:
  vars:
    ansible_user: admin
  hosts:
    solo:
    "odd:2201":
  children:
    europe:
      vars:
        ansible_port: 2200
      children:
        paris:
          hosts:
            "web[1:3].paris.example.com":
              ansible_user: deploy
            "cache-[a:c].paris.example.com:6022":
        berlin:
          vars:
            ansible_port: 0022
          hosts:
            db1.berlin.example.com:
              ansible_host: 10.1.0.5
    monitoring:
      hosts:
        db1.berlin.example.com:
        web1.paris.example.com: {}
    stage:
      hosts: web2.paris.example.com
"#;

#[test]
fn ini_inventory_reads_as_ansible_reads_it() {
    let Some(bin) = ansible_inventory_or_skip("ini_inventory_reads_as_ansible_reads_it") else { return };
    assert_same_as_ansible(&bin, INI_FLEET, Format::Ini, "hosts.ini");
}

#[test]
fn yaml_inventory_reads_as_ansible_reads_it() {
    let Some(bin) = ansible_inventory_or_skip("yaml_inventory_reads_as_ansible_reads_it") else { return };
    assert_same_as_ansible(&bin, YAML_FLEET, Format::Yaml, "hosts.yml");
}

#[test]
fn exports_read_back_through_ansible_unchanged() {
    let Some(bin) = ansible_inventory_or_skip("exports_read_back_through_ansible_unchanged") else { return };
    let fleet = fleet();
    let exports = [(export_yaml(&fleet), Format::Yaml, "export.yml"), (export_ini(&fleet), Format::Ini, "export.ini")];
    for (text, format, file_name) in exports {
        let text = text.unwrap_or_else(|e| panic!("{e}"));
        let real = theirs(&ansible_list(&bin, &text, file_name));
        for h in &fleet {
            let seen = real.get(&h.name).unwrap_or_else(|| panic!("Ansible lost {} from\n{text}", h.name));
            assert_eq!(
                (seen.host.as_str(), seen.port, seen.user.as_deref()),
                (h.host.as_str(), Some(h.port), Some(h.user.as_str()))
            );
            assert_eq!(seen.groups.len(), h.groups.len(), "{}'s groups in\n{text}", h.name);
        }
        assert_eq!(real.len(), fleet.len());
        assert_same_as_ansible(&bin, &text, format, file_name);
    }
}

/// Spellings where a near miss would change a host: Python literals,
/// host patterns that only look like ports, aliases, pending sections.
const TRICKY_INI: &str = r#"
h1 ansible_port=0x16 ansible_user="'007'"
me@db:22
[::1]:2222
fe80::1
10.0.0.1:2222 ansible_user=a#b
dup ansible_user=first
[web:vars]
ansible_user=from_vars_before_web
[web]
w1 ansible_port=2_222 ansible_host="10.0.0.1"
w2 ansible_user="'a b'" x=1;y=2
a1 ansible_port=(22) ansible_user=u'x'
a2 ansible_port=+22 ansible_user=b'bytes'
a3 ansible_user=r'\d' ansible_host="'\x41\u00e9\101'"
a4 ansible_user="'a' 'b'" ansible_port=0b10110
a5 ansible_user=... ansible_port=" 22"
dup ansible_user=second ansible_ssh_host=10.9.9.9
[p:children]
kid
[kid:vars]
ansible_port=4444
[kid]
k1
k2:2020 # comment
h[a:C]
[2001:db8::[1:3]]:22
[ungrouped:vars]
ansible_user=ung
"#;

const TRICKY_YAML: &str = r#"
x-base: &base
  ansible_user: based
x-port: &port
  ansible_port: 2345
ungrouped:
  hosts:
    u1:
all:
  vars: foo
  children:
    europe:
      vars: {ansible_group_priority: 2, ansible_user: europe}
      children:
        paris:
          vars: {ansible_user: paris}
          hosts:
            "p[01:02]:2200":
              <<: [*base, *port]
            p03:
              <<: [*port, *base]
              ansible_port: 9
            dup:
              ansible_user: first
            dup:
              ansible_user: second
    asia:
      vars: {ansible_user: asia, ansible_port: "0022"}
      hosts:
        p01:
        a1:
          ansible_port: 0022
          ansible_host: >-
            folded.example.com
"#;

#[test]
fn tricky_spellings_read_as_ansible_reads_them() {
    let Some(bin) = ansible_inventory_or_skip("tricky_spellings_read_as_ansible_reads_them") else { return };
    assert_same_as_ansible(&bin, TRICKY_INI, Format::Ini, "tricky.ini");
    assert_same_as_ansible(&bin, TRICKY_YAML, Format::Yaml, "tricky.yml");
}
