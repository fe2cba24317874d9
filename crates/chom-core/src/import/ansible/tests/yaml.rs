use super::super::Value;
use super::{failure, host, names, read, strings};
use crate::import::ansible::{AnsibleError, Format, Location};

const NESTED: &str = r#"
all:
  vars:
    ansible_user: admin
  hosts:
    solo:
  children:
    europe:
      children:
        paris:
          hosts:
            "web[1:2].paris.example.com:2222":
              ansible_user: deploy
        berlin:
          hosts:
            db1.berlin.example.com:
              ansible_host: 10.1.0.5
              ansible_port: 0022
    monitoring:
      hosts: db1.berlin.example.com
    empty:
"#;

#[test]
fn nested_children_and_null_hosts() {
    let inv = read(NESTED, Format::Yaml);
    assert_eq!(
        names(&inv),
        strings(&["solo", "web1.paris.example.com", "web2.paris.example.com", "db1.berlin.example.com"])
    );
    assert_eq!(inv.groups(), strings(&["berlin", "empty", "europe", "monitoring", "paris"]));
    let solo = host(&inv, "solo");
    assert_eq!((solo.host.as_str(), solo.user.as_deref(), solo.groups.len()), ("solo", Some("admin"), 0));
    let web2 = host(&inv, "web2.paris.example.com");
    assert_eq!((web2.port, web2.user.as_deref()), (Some(2222), Some("deploy")));
    assert_eq!(web2.groups, strings(&["europe", "paris"]));
    let db1 = host(&inv, "db1.berlin.example.com");
    assert_eq!(db1.host, "10.1.0.5");
    assert_eq!(db1.port, Some(18), "PyYAML reads 0022 as octal, so Ansible connects to port 18");
    assert_eq!(db1.groups, strings(&["berlin", "europe", "monitoring"]));
}

#[test]
fn auto_detects_yaml_and_ini() {
    assert_eq!(names(&read(NESTED, Format::Auto)).len(), 4);
    assert_eq!(names(&read("[web]\nweb1\nweb2 ansible_port=22\n", Format::Auto)), strings(&["web1", "web2"]));
    assert_eq!(names(&read("plain-host\n", Format::Auto)), strings(&["plain-host"]));
}

#[test]
fn scalars_are_typed_as_pyyaml_types_them() {
    let text = "all:\n  hosts:\n    h:\n      a: yes\n      b: '22'\n      c: 1e5\n      d: !!str 7\n      e: [1, two]\n      f: ~\n      g: !unsafe '{{ x }}'\n";
    let h = host(&read(text, Format::Yaml), "h");
    let var = |k: &str| h.vars.get(k).cloned();
    assert_eq!(var("a"), Some(Value::Bool(true)));
    assert_eq!(var("b"), Some(Value::String("22".into())));
    assert_eq!(var("c"), Some(Value::String("1e5".into())));
    assert_eq!(var("d"), Some(Value::String("7".into())));
    assert_eq!(var("e"), Some(Value::Other("[1, \"two\"]".into())));
    assert_eq!(var("f"), Some(Value::Null));
    assert_eq!(var("g"), Some(Value::String("{{ x }}".into())));
}

#[test]
fn merge_keys_and_anchors_apply() {
    let text = "\
defaults: &defaults
  ansible_user: deploy
  ansible_port: 2200
all:
  hosts:
    a:
      <<: *defaults
      ansible_port: 2201
    b: *defaults
";
    let inv = read(text, Format::Yaml);
    let a = host(&inv, "a");
    assert_eq!((a.user.as_deref(), a.port), (Some("deploy"), Some(2201)), "own keys beat merged ones");
    let b = host(&inv, "b");
    assert_eq!((b.user.as_deref(), b.port), (Some("deploy"), Some(2200)));
    // `defaults` is a group to Ansible too (with unexpected keys, ignored).
    assert_eq!(inv.groups(), strings(&["defaults"]));
}

#[test]
fn string_sections_mean_a_single_entry() {
    let inv = read("all:\n  children:\n    web:\n      hosts: w1\n    top: {children: web}\n", Format::Yaml);
    assert_eq!(host(&inv, "w1").groups, strings(&["top", "web"]));
}

#[test]
fn errors_name_the_path_and_line() {
    let text = "all:\n  children:\n    web:\n      hosts:\n        web[20:01]:\n";
    let e = failure(text, Format::Yaml);
    assert!(
        e.to_string().starts_with("inventory all.children.web.hosts.web[20:01] (line 5): range web[20:01] counts down"),
        "{e}"
    );
    let e = failure("all:\n  hosts:\n    1234:\n", Format::Yaml);
    assert!(matches!(&e, AnsibleError::HostPattern { at: Location::Yaml { line: 3, .. }, .. }), "{e}");
    let e = failure("all:\n  hosts:\n    h:\n      ansible_port: !custom 22\n", Format::Yaml);
    assert!(e.to_string().contains("YAML tag !custom is not one Ansible reads"), "{e}");
    let e = failure("all:\n  children:\n    web: {hosts: [a, b]}\n", Format::Yaml);
    assert!(e.to_string().starts_with("inventory all.children.web.hosts (line 3): found a list"), "{e}");
}

#[test]
fn documents_that_are_not_inventories_are_refused() {
    assert!(matches!(failure("", Format::Yaml), AnsibleError::EmptyYaml));
    assert!(matches!(failure("{}", Format::Yaml), AnsibleError::EmptyYaml));
    assert!(matches!(failure("all: {}\n---\nall: {}\n", Format::Yaml), AnsibleError::MultipleDocuments { count: 2 }));
    assert!(matches!(failure("- a\n- b\n", Format::Yaml), AnsibleError::Structure { .. }));
    match failure("plugin: aws_ec2\nregions: [eu-west-1]\n", Format::Auto) {
        AnsibleError::PluginConfig { plugin } => assert_eq!(plugin, "aws_ec2"),
        other => panic!("{other}"),
    }
    let e = failure("all:\n  hosts:\n    a: [b\n", Format::Yaml);
    assert!(matches!(e, AnsibleError::Syntax { at: Location::Line(_), .. }), "{e}");
}

#[test]
fn hostile_nesting_is_refused() {
    let mut text = String::from("all:\n  vars:\n    v:");
    for depth in 0..150 {
        text.push_str(&format!("\n{}- ", "  ".repeat(depth + 3)));
    }
    text.push_str("x\n");
    let e = failure(&text, Format::Yaml);
    assert!(e.to_string().contains("at most 100 levels of nesting"), "{e}");
}
