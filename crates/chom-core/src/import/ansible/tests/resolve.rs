use super::super::proxy::{from_ssh_args, Proxy};
use super::super::Value;
use super::{failure, host, read, strings};
use crate::import::ansible::{AnsibleError, Format, Location};

const LAYERS: &str = "\
[all:vars]
v=all
w=all
[parent:children]
child
[parent:vars]
v=parent
w=parent
[child]
h1
h2 v=host
[child:vars]
v=child
[a]
h3
[b]
h3
[a:vars]
v=a
[b:vars]
v=b
[c]
h4
[d]
h4
[c:vars]
v=c
ansible_group_priority=10
[d:vars]
v=d
";

#[test]
fn host_beats_child_beats_parent_beats_all() {
    let inv = read(LAYERS, Format::Ini);
    let var = |h: &str, k: &str| host(&inv, h).vars.get(k).cloned();
    assert_eq!(var("h1", "v"), Some(Value::String("child".into())));
    assert_eq!(var("h1", "w"), Some(Value::String("parent".into())));
    assert_eq!(var("h2", "v"), Some(Value::String("host".into())));
    // Same depth: the higher priority wins, then the later name.
    assert_eq!(var("h3", "v"), Some(Value::String("b".into())));
    assert_eq!(var("h4", "v"), Some(Value::String("c".into())));
    assert_eq!(var("h4", "ansible_group_priority"), None, "a priority is not a variable");
    assert_eq!(host(&inv, "h1").groups, strings(&["child", "parent"]));
}

#[test]
fn depth_is_the_longest_path_from_all() {
    // `deep` sits at depth 3 through `mid`, though `top` is also its parent.
    let text = "[top:children]\nmid\ndeep\n[mid:children]\ndeep\n[deep]\nh\n[top:vars]\nv=top\n[mid:vars]\nv=mid\n[deep:vars]\nv=deep\n[other]\nh\n[other:vars]\nv=other\n";
    let h = host(&read(text, Format::Ini), "h");
    assert_eq!(h.vars.get("v"), Some(&Value::String("deep".into())));
}

#[test]
fn connection_variables_and_their_ssh_aliases() {
    let text = "a ansible_host=10.0.0.1 ansible_ssh_host=10.0.0.2 ansible_port=22 ansible_ssh_port=2222\nb ansible_port=\"'2200'\" ansible_user=None\n";
    let inv = read(text, Format::Ini);
    let a = host(&inv, "a");
    assert_eq!((a.host.as_str(), a.port), ("10.0.0.2", Some(2222)), "ssh's plugin lets the ansible_ssh_ form win");
    let b = host(&inv, "b");
    assert_eq!((b.host.as_str(), b.port, b.user), ("b", Some(2200), None));

    let e = failure("c ansible_port=99999\n", Format::Ini);
    assert!(
        matches!(&e, AnsibleError::InvalidVar { at: Location::Host(h), var: "ansible_port", .. } if h == "c"),
        "{e}"
    );
    assert!(e.to_string().contains("not a port from 1 to 65535"), "{e}");
}

fn jump(args: &[&str]) -> Proxy {
    from_ssh_args(args.iter().copied())
}

fn via(j: &str) -> Proxy {
    Proxy { jump: Some(j.to_owned()), command: None }
}

#[test]
fn proxy_jump_in_every_spelling() {
    assert_eq!(jump(&["-J deploy@bastion:2222"]), via("deploy@bastion:2222"));
    assert_eq!(jump(&["-Jdeploy@bastion"]), via("deploy@bastion"));
    assert_eq!(jump(&["-o StrictHostKeyChecking=no -o ProxyJump=jump.example.com"]), via("jump.example.com"));
    assert_eq!(jump(&["-oProxyJump=a,b:2200"]), via("a,b:2200"));
    assert_eq!(jump(&["-o 'ProxyJump ops@jump'"]), via("ops@jump"));
    assert_eq!(jump(&["-o proxyjump=\"ops@jump\""]), via("ops@jump"));
    assert_eq!(jump(&["-o ProxyCommand=\"ssh -W %h:%p -q user@bastion\""]), via("user@bastion"));
    assert_eq!(
        jump(&["-o 'ProxyCommand ssh -p 2200 -l ops -W %h:%p bastion.example.com'"]),
        via("ops@bastion.example.com:2200")
    );
    assert_eq!(jump(&["-o ProxyCommand='exec /usr/bin/ssh ops@bastion nc %h %p'"]), via("ops@bastion"));
    assert_eq!(
        jump(&["-o ProxyCommand='ssh -J first -W [%h]:%p ssh://me@[2001:db8::1]:2022'"]),
        via("first,me@[2001:db8::1]:2022")
    );
}

#[test]
fn proxy_precedence_and_other_commands() {
    // ansible_ssh_common_args comes first on ssh's command line, and ssh
    // keeps the first proxy it is given.
    assert_eq!(jump(&["-i key", "-J second"]), via("second"));
    assert_eq!(jump(&["-J first", "-J second"]), via("first"));
    assert_eq!(jump(&["-o ProxyJump=none -J later"]), Proxy::default());
    let nc = "nc -X 5 -x proxy.example.com:1080 %h %p";
    assert_eq!(jump(&[&format!("-o 'ProxyCommand={nc}'")]), Proxy { jump: None, command: Some(nc.to_owned()) });
    assert_eq!(jump(&["-o ServerAliveInterval=30", "-C -x"]), Proxy::default());
    assert_eq!(jump(&["-o 'unclosed"]), Proxy::default());
}

#[test]
fn proxy_jump_is_read_from_resolved_variables() {
    let text = r#"
all:
  vars:
    ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p -q admin@bastion.example.com"'
  children:
    dmz:
      vars:
        ansible_ssh_common_args: '-J jump@dmz-gw:2222'
      hosts:
        d1:
    office:
      hosts:
        o1:
          ansible_ssh_extra_args: '-o ProxyJump=o-gw'
          ansible_ssh_common_args: ''
"#;
    let inv = read(text, Format::Yaml);
    assert_eq!(host(&inv, "d1").proxy_jump.as_deref(), Some("jump@dmz-gw:2222"));
    assert_eq!(host(&inv, "o1").proxy_jump.as_deref(), Some("o-gw"));
    let ini = "[g]\nh1 ansible_ssh_common_args='-o ProxyJump=ops@gw:2200'\n";
    assert_eq!(host(&read(ini, Format::Ini), "h1").proxy_jump.as_deref(), Some("ops@gw:2200"));
}

#[test]
fn cycles_in_children_are_named() {
    let e = failure("[a:children]\nb\n[b:children]\na\n", Format::Ini);
    assert!(
        matches!(&e, AnsibleError::Cycle { at: Location::Line(4), cycle } if *cycle == strings(&["b", "a", "b"])),
        "{e}"
    );
    assert!(e.to_string().contains("cycle through their children: b -> a -> b"), "{e}");

    let e = failure("[a:children]\na\n", Format::Ini);
    assert!(e.to_string().contains("a -> a"), "{e}");
    let e = failure("[top:children]\nall\n", Format::Ini);
    assert!(e.to_string().contains("top -> all -> top"), "{e}");

    let text = "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            c:\n              children:\n                a:\n";
    let e = failure(text, Format::Yaml);
    assert!(e.to_string().contains("a -> b -> c -> a"), "{e}");
    assert!(e.to_string().starts_with("inventory all.children.a.children.b"), "{e}");
}
