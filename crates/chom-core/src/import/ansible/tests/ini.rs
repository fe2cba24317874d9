use super::super::Value;
use super::{failure, host, names, read, strings};
use crate::import::ansible::{AnsibleError, Format, Location, RangeProblem};

const FLEET: &str = "\
# hosts before any section are ungrouped
; so is this comment
solo ansible_host=10.0.0.9
[web]
web1 ansible_host=10.0.0.1   # a trailing comment
web2:2222 ansible_user=deploy

[db]
db1

[prod:children]
web
db

[prod:vars]
ansible_user=root
";

#[test]
fn groups_children_vars_and_ungrouped() {
    let inv = read(FLEET, Format::Ini);
    assert_eq!(names(&inv), strings(&["solo", "web1", "web2", "db1"]));
    assert_eq!(inv.groups(), strings(&["db", "prod", "web"]));

    let solo = host(&inv, "solo");
    assert_eq!((solo.host.as_str(), solo.port, solo.groups.len()), ("10.0.0.9", None, 0));
    let web1 = host(&inv, "web1");
    assert_eq!(web1.host, "10.0.0.1");
    assert_eq!(web1.user.as_deref(), Some("root"), "inherited from [prod:vars]");
    assert_eq!(web1.groups, strings(&["prod", "web"]));
    let web2 = host(&inv, "web2");
    assert_eq!((web2.host.as_str(), web2.port), ("web2", Some(2222)));
    assert_eq!(web2.user.as_deref(), Some("deploy"), "a host variable beats group variables");
    assert_eq!(host(&inv, "db1").groups, strings(&["db", "prod"]));
}

#[test]
fn ranges_expand_with_ports_and_strides() {
    let text = "[web]\nweb[01:03].example.com\ndb-[a:c].example.com:2200\nn[1:10:4] ansible_user=x\n";
    let inv = read(text, Format::Ini);
    assert_eq!(
        names(&inv),
        strings(&[
            "web01.example.com",
            "web02.example.com",
            "web03.example.com",
            "db-a.example.com",
            "db-b.example.com",
            "db-c.example.com",
            "n1",
            "n5",
            "n9",
        ])
    );
    assert_eq!(host(&inv, "db-b.example.com").port, Some(2200));
    assert_eq!(host(&inv, "n5").user.as_deref(), Some("x"));
    assert_eq!(host(&inv, "n9").groups, strings(&["web"]));
}

#[test]
fn host_line_values_follow_python_literal_rules() {
    let text =
        "h a=2222 b=\"'2222'\" c=True d=1.5 e=[1,2] f=010 g=None h=0x10 i=-3 j=deploy k=\"two words\" l=x#cut m=y\n";
    let h = host(&read(text, Format::Ini), "h");
    let var = |k: &str| h.vars.get(k).cloned();
    assert_eq!(var("a"), Some(Value::Int(2222)));
    assert_eq!(var("b"), Some(Value::String("2222".into())), "a quoted number is a string");
    assert_eq!(var("c"), Some(Value::Bool(true)));
    assert_eq!(var("d"), Some(Value::Float(1.5)));
    assert_eq!(var("e"), Some(Value::Other("[1,2]".into())));
    assert_eq!(var("f"), Some(Value::String("010".into())), "Python 3 refuses 010 as a literal");
    assert_eq!(var("g"), Some(Value::Null));
    assert_eq!(var("h"), Some(Value::Int(16)));
    assert_eq!(var("i"), Some(Value::Int(-3)));
    assert_eq!(var("j"), Some(Value::String("deploy".into())), "a bare name is kept as text");
    assert_eq!(var("k"), Some(Value::String("two words".into())));
    assert_eq!(var("l"), Some(Value::String("x".into())), "shlex cuts a comment even inside a word");
    assert_eq!(var("m"), None, "the rest of the line was a comment");
}

#[test]
fn group_vars_are_literals_too_as_ansible_core_reads_them() {
    let text = "[g]\nh\n[g:vars]\nport=2222\nflag = False # a comment Python ignores\nphrase=hello world\nq='quoted'\n";
    let h = host(&read(text, Format::Ini), "h");
    assert_eq!(h.vars.get("port"), Some(&Value::Int(2222)));
    assert_eq!(h.vars.get("flag"), Some(&Value::Bool(false)));
    assert_eq!(h.vars.get("phrase"), Some(&Value::String("hello world".into())));
    assert_eq!(h.vars.get("q"), Some(&Value::String("quoted".into())));
}

#[test]
fn a_port_given_again_for_a_known_host_is_ignored() {
    let inv = read("h:2222\n[g]\nh:3333\n", Format::Ini);
    let h = host(&inv, "h");
    assert_eq!((h.port, h.groups.clone()), (Some(2222), strings(&["g"])));
}

#[test]
fn children_may_be_declared_after_their_parent() {
    let inv = read("[parent:children]\nchild\n[parent:vars]\nv=1\n[child]\nh1\n", Format::Ini);
    let h1 = host(&inv, "h1");
    assert_eq!(h1.groups, strings(&["child", "parent"]));
    assert_eq!(h1.vars.get("v"), Some(&Value::Int(1)));
}

#[test]
fn errors_name_the_line_and_the_fix() {
    let e = failure("[web]\n\nweb[20:01].example.com\n", Format::Ini);
    assert!(e.to_string().starts_with("inventory line 3: range web[20:01].example.com counts down"), "{e}");
    assert!(matches!(e, AnsibleError::Range { at: Location::Line(3), problem: RangeProblem::CountsDown, .. }));

    let cases: [(&str, &str); 7] = [
        ("[a:children]\nb\n", "inventory line 2: [a:children] lists group b, which is never declared"),
        ("[a:vars]\nx=1\n", "inventory line 1: [a:vars] is for group a, which is never declared"),
        ("[a:hostz]\n", "inventory line 1: section [a:hostz] has unknown type \"hostz\""),
        ("[a]\nh x\n", "inventory line 2: expected key=value, got \"x\""),
        ("[a]\nh x='open\n", "inventory line 2: a quote is never closed"),
        ("[a b]\n", "inventory line 1: invalid section \"[a b]\""),
        ("h:\n", "inventory line 1: host pattern \"h:\" ends in ':'"),
    ];
    for (text, want) in cases {
        let got = failure(text, Format::Ini).to_string();
        assert!(got.starts_with(want), "{text:?}: {got}");
    }
}

#[test]
fn a_section_header_with_a_semicolon_comment_is_a_host_line() {
    // Ansible's section pattern allows only `#` comments after the `]`, so
    // `[web]` is read as a host pattern, and a range that is not one.
    let got = failure("[web] ; note\n", Format::Ini).to_string();
    assert!(got.starts_with("inventory line 1: range [web] is not [begin:end]"), "{got}");
    assert_eq!(names(&read("[web] # note\nw1\n", Format::Ini)), strings(&["w1"]));
}

#[test]
fn windows_line_endings_count_lines_as_ansible_does() {
    let inv = read("a\r\n[g]\r\nb ansible_port=2200\r\n", Format::Ini);
    assert_eq!(host(&inv, "b").port, Some(2200));
    let e = failure("a\r\n[g]\r\nweb[9:1]\r\n", Format::Ini);
    assert!(e.to_string().starts_with("inventory line 3:"), "{e}");
}

#[test]
fn hostile_nesting_stays_bounded() {
    // Python refuses 200 nested brackets; the text is then kept as a string.
    let deep = format!("h v={}{}\n", "[".repeat(5000), "]".repeat(5000));
    let h = host(&read(&deep, Format::Ini), "h");
    assert!(matches!(h.vars.get("v"), Some(Value::String(s)) if s.len() == 10_000));
    // A long chain of child groups neither recurses deeply nor slows down.
    let mut chain = String::new();
    for i in 0..5000 {
        chain.push_str(&format!("[g{i}:children]\ng{}\n", i + 1));
    }
    chain.push_str("[g5000]\nleaf\n");
    let leaf = host(&read(&chain, Format::Ini), "leaf");
    assert_eq!(leaf.groups.len(), 5001);
}
