use super::*;

#[test]
fn match_host_sees_the_hostname_set_by_an_earlier_block() {
    let f = Fixture::new();
    f.config("Host web\n  HostName web.internal\nMatch host *.internal\n  User deploy\nMatch host web\n  Port 2222\n");
    let h = f.resolve("web");
    assert_eq!((h.hostname.as_str(), h.user.as_deref(), h.port), ("web.internal", Some("deploy"), 22));
}

#[test]
fn match_host_expands_percent_h_in_the_hostname_so_far() {
    let f = Fixture::new();
    f.config("Host *\n  HostName %h.corp.example\nMatch host db.corp.example\n  Port 5022\n");
    let h = f.resolve("db");
    assert_eq!((h.hostname.as_str(), h.port), ("db.corp.example", 5022));
}

#[test]
fn match_originalhost_sees_the_alias_typed_whatever_the_hostname() {
    let f = Fixture::new();
    f.config("Host web\n  HostName 10.0.0.5\nMatch originalhost web\n  User deploy\nMatch originalhost 10.0.0.5\n  Port 2222\n");
    let h = f.resolve("web");
    assert_eq!((h.hostname.as_str(), h.user.as_deref(), h.port), ("10.0.0.5", Some("deploy"), 22));
}

#[test]
fn match_user_sees_the_user_set_so_far_and_otherwise_the_local_user() {
    let f = Fixture::new();
    let me = real_user();
    f.config(&format!(
        "Host web\n  User deploy\nMatch user deploy\n  Port 2222\nMatch user {me}\n  IdentityFile ~/.ssh/mine\n"
    ));
    let web = f.resolve("web");
    assert_eq!((web.port, web.identity_files.len()), (2222, 0));
    let other = f.resolve("other");
    assert_eq!((other.port, other.identity_files.clone()), (22, vec![f.home().join(".ssh/mine")]));
}

#[test]
fn negated_criteria_and_localuser_and_several_criteria_are_anded() {
    let f = Fixture::new();
    let me = real_user();
    f.config(&format!(
        "Match !host web* localuser {me}\n  Port 2200\nMatch host web* !localuser {me}\n  Port 2300\nMatch host web*,!web-old originalhost web-1\n  User deploy\n"
    ));
    assert_eq!(f.resolve("db").port, 2200);
    let web = f.resolve("web-1");
    assert_eq!((web.port, web.user.as_deref()), (22, Some("deploy")));
    assert_eq!(f.resolve("web-old").user, None);
}

#[test]
fn match_final_all_applies_in_the_second_pass_as_fedora_ships_it() {
    let f = Fixture::new();
    f.config(
        "Host web\n  HostName web.example.com\nMatch final all\n  Port 2200\n  User final\nHost *\n  User first\n",
    );
    let h = f.resolve("web");
    // What the first pass set wins over the final block; the rest comes from it.
    assert_eq!((h.hostname.as_str(), h.port, h.user.as_deref()), ("web.example.com", 2200, Some("first")));
}

#[test]
fn the_final_pass_compares_host_lines_with_the_resolved_hostname() {
    let f = Fixture::new();
    f.config(
        "Host web\n  HostName real.example.com\nHost real.example.com\n  User viahostname\nMatch final\n  Port 2200\n",
    );
    let h = f.resolve("web");
    assert_eq!((h.user.as_deref(), h.port), (Some("viahostname"), 2200));
    // Without a final pass, the same Host line never sees the hostname.
    let g = Fixture::new();
    g.config("Host web\n  HostName real.example.com\nHost real.example.com\n  User viahostname\n");
    assert_eq!(g.resolve("web").user, None);
}

#[test]
fn match_canonical_and_final_match_only_in_the_final_pass() {
    let f = Fixture::new();
    f.config(
        "Match !final\n  User first\nMatch canonical\n  Port 2200\nMatch final host web\n  IdentityFile ~/.ssh/final\n",
    );
    // No `final` criterion is what asks for the second pass here: `!final` is one.
    let h = f.resolve("web");
    assert_eq!((h.user.as_deref(), h.port), (Some("first"), 2200));
    assert_eq!(h.identity_files, vec![f.home().join(".ssh/final")]);
    let g = Fixture::new();
    g.config("Match canonical\n  Port 2200\n");
    assert_eq!(g.resolve("web").port, 22);
}

#[test]
fn match_exec_is_never_run_and_its_block_is_skipped_with_a_warning() {
    let f = Fixture::new();
    let marker = f.home().join("ran");
    f.config(&format!(
        "Match host web exec \"touch {m}\"\n  Port 2222\nMatch host db exec \"touch {m}\"\n  Port 3333\nHost *\n  User ops\n",
        m = marker.display()
    ));
    let cfg = f.load();
    assert!(cfg.uses_match_exec());
    assert!(
        cfg.warnings().iter().any(|w| w.line == 1 && w.text.contains("never runs commands")),
        "{:?}",
        cfg.warnings()
    );
    let web = cfg.resolve("web").unwrap();
    assert_eq!((web.port, web.user.as_deref()), (22, Some("ops")));
    assert_eq!(web.warnings.len(), 1, "{:?}", web.warnings);
    assert!(web.warnings[0].line == 1 && web.warnings[0].text.contains("skipped"), "{:?}", web.warnings);
    // For db the exec on line 1 would not have run anyway (host web failed).
    assert_eq!(cfg.resolve("db").unwrap().warnings.iter().map(|w| w.line).collect::<Vec<_>>(), vec![3]);
    let refused = openssh_view(&f.home().join(".ssh/config"), "web", &f.ctx);
    assert!(matches!(refused, Err(SshConfigError::MatchExecRefused { .. })), "{refused:?}");
    assert!(!marker.exists(), "a command from the config was run");
}

#[test]
fn a_negated_exec_does_not_match_either() {
    let f = Fixture::new();
    f.config("Match !exec \"false\"\n  Port 2222\n");
    let h = f.resolve_alone("web");
    assert_eq!(h.port, 22);
    assert_eq!(h.warnings.len(), 1);
}

#[test]
fn criteria_chom_does_not_evaluate_are_treated_as_not_matching() {
    let f = Fixture::new();
    f.config("Match localnetwork 10.0.0.0/8\n  Port 2222\nMatch tagged prod\n  User prod\n");
    let cfg = f.load();
    assert_eq!(cfg.warnings().len(), 2, "{:?}", cfg.warnings());
    assert!(!cfg.uses_match_exec());
    let h = cfg.resolve("web").unwrap();
    assert_eq!((h.port, h.user.as_deref()), (22, None));
    assert!(h.warnings.iter().any(|w| w.text.contains("localnetwork")), "{:?}", h.warnings);
}

#[test]
fn a_malformed_match_is_a_warning_and_its_block_never_applies() {
    let f = Fixture::new();
    f.config("Match all host web\n  Port 2222\nMatch host\n  Port 3333\nMatch # nothing\n  Port 4444\n");
    let cfg = f.load();
    assert_eq!(cfg.warnings().iter().map(|w| w.line).collect::<Vec<_>>(), vec![1, 3, 5]);
    assert_eq!(cfg.resolve("web").unwrap().port, 22);
}

#[test]
fn match_all_resets_what_a_host_line_switched_off() {
    let f = Fixture::new();
    f.config("Host other\n  Port 2200\nMatch all\n  User everyone\nMatch !all\n  Port 2300\n");
    let h = f.resolve("web");
    assert_eq!((h.port, h.user.as_deref()), (22, Some("everyone")));
}
