use super::{host, names, read, strings};
use crate::import::ansible::{export_ini, export_yaml, safe_group_name, AnsibleError, ExportHost, Format};

pub(super) fn fleet() -> Vec<ExportHost> {
    let server = |name: &str, host: &str, port: u16, user: &str, groups: &[&str]| ExportHost {
        name: name.into(),
        host: host.into(),
        port,
        user: user.into(),
        groups: strings(groups),
    };
    vec![
        server("web1", "10.0.0.1", 22, "deploy", &["web-servers", "prod"]),
        server("db1", "db1.internal", 2222, "postgres", &["prod", "1st-floor"]),
        server("v6", "2001:db8::1", 2200, "root", &[]),
        // Unquoted, Ansible would read this address as the number 16.
        server("0x10", "0x10", 22, "1000", &["web_servers", "all"]),
    ]
}

#[test]
fn group_names_are_made_safe_as_ansible_would() {
    assert_eq!(safe_group_name("web-servers"), "web_servers");
    assert_eq!(safe_group_name("1st floor"), "_st_floor");
    assert_eq!(safe_group_name("café.eu"), "caf__eu");
    assert_eq!(safe_group_name("ok_name2"), "ok_name2");
    assert_eq!(safe_group_name("all"), "all_group");
    assert_eq!(safe_group_name(""), "_");
}

#[test]
fn yaml_export_is_exact_and_reads_back() {
    let text = match export_yaml(&fleet()) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let want = r#"# Written by CHOM Desktop. Check it with: ansible-inventory -i THIS_FILE --list
all:
  hosts:
    "web1":
      ansible_host: "10.0.0.1"
      ansible_port: 22
      ansible_user: "deploy"
    "db1":
      ansible_host: "db1.internal"
      ansible_port: 2222
      ansible_user: "postgres"
    "v6":
      ansible_host: "2001:db8::1"
      ansible_port: 2200
      ansible_user: "root"
    "0x10":
      ansible_host: "0x10"
      ansible_port: 22
      ansible_user: "1000"
  children:
    "_st_floor":
      hosts:
        "db1":
    "all_group":
      hosts:
        "0x10":
    "prod":
      hosts:
        "web1":
        "db1":
    "web_servers":
      hosts:
        "0x10":
    "web_servers_2":
      hosts:
        "web1":
"#;
    assert_eq!(text, want);
    assert_reads_back(&text, Format::Yaml);
}

#[test]
fn ini_export_is_exact_and_reads_back() {
    let text = match export_ini(&fleet()) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let want = r#"# Written by CHOM Desktop. Check it with: ansible-inventory -i THIS_FILE --list
web1 ansible_host="'10.0.0.1'" ansible_port=22 ansible_user="'deploy'"
db1 ansible_host="'db1.internal'" ansible_port=2222 ansible_user="'postgres'"
v6 ansible_host="'2001:db8::1'" ansible_port=2200 ansible_user="'root'"
0x10 ansible_host="'0x10'" ansible_port=22 ansible_user="'1000'"

[_st_floor]
db1

[all_group]
0x10

[prod]
web1
db1

[web_servers]
0x10

[web_servers_2]
web1
"#;
    assert_eq!(text, want);
    assert_reads_back(&text, Format::Ini);
}

/// Our own parser reads the export back to the input (groups renamed).
fn assert_reads_back(text: &str, format: Format) {
    let inv = read(text, format);
    assert_eq!(names(&inv), strings(&["web1", "db1", "v6", "0x10"]));
    let expect = [
        ("web1", "10.0.0.1", 22, "deploy", &["prod", "web_servers_2"][..]),
        ("db1", "db1.internal", 2222, "postgres", &["_st_floor", "prod"][..]),
        ("v6", "2001:db8::1", 2200, "root", &[][..]),
        ("0x10", "0x10", 22, "1000", &["all_group", "web_servers"][..]),
    ];
    for (name, address, port, user, groups) in expect {
        let h = host(&inv, name);
        assert_eq!((h.host.as_str(), h.port, h.user.as_deref()), (address, Some(port), Some(user)), "{name}");
        assert_eq!(h.groups, strings(groups), "{name}");
    }
}

#[test]
fn an_empty_fleet_is_a_valid_inventory() {
    for text in [export_yaml(&[]), export_ini(&[])] {
        let text = text.unwrap_or_else(|e| panic!("{e}"));
        assert!(read(&text, Format::Auto).hosts().is_empty());
    }
}

#[test]
fn hostile_values_are_refused_not_written() {
    let base =
        ExportHost { name: "ok".into(), host: "ok.example.com".into(), port: 22, user: "u".into(), groups: vec![] };
    let cases = [
        ExportHost { name: "a.com; rm -rf /".into(), ..base.clone() },
        ExportHost { name: "web[1:99999]".into(), ..base.clone() },
        ExportHost { name: "db:22".into(), ..base.clone() },
        ExportHost { name: "../etc".into(), ..base.clone() },
        ExportHost { host: "-oProxyCommand=touch /tmp/x".into(), ..base.clone() },
        ExportHost { host: "a b".into(), ..base.clone() },
        ExportHost { user: "{{ lookup('pipe', 'id') }}".into(), ..base.clone() },
        ExportHost { user: "root\nevil ansible_host=x".into(), ..base.clone() },
        ExportHost { port: 0, ..base.clone() },
    ];
    for bad in cases {
        for result in [export_yaml(std::slice::from_ref(&bad)), export_ini(std::slice::from_ref(&bad))] {
            assert!(matches!(result, Err(AnsibleError::Unexportable { .. })), "{bad:?} gave {result:?}");
        }
    }
    let twice = [base.clone(), base];
    assert!(matches!(export_ini(&twice), Err(AnsibleError::Unexportable { reason, .. }) if reason.contains("twice")));
}
