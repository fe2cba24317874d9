use super::*;

#[test]
fn keywords_are_case_insensitive_and_take_equals_in_every_spelling() {
    let f = Fixture::new();
    f.config("HOST web\n  HOSTNAME=web.example.com\n  port = 2222\n  User =deploy\n  identitiesonly= yes\n");
    let h = f.resolve("web");
    assert_eq!((h.hostname.as_str(), h.port, h.user.as_deref()), ("web.example.com", 2222, Some("deploy")));
    assert!(h.identities_only);
}

#[test]
fn the_first_value_obtained_wins() {
    let f = Fixture::new();
    f.config(
        "Host web\n  Port 2222\nHost *\n  Port 22\n  User ops\n  HostName fallback.example\nHost web\n  User late\n",
    );
    let h = f.resolve("web");
    assert_eq!((h.port, h.user.as_deref(), h.hostname.as_str()), (2222, Some("ops"), "fallback.example"));
}

#[test]
fn without_directives_the_host_is_the_alias_on_port_22_with_no_user() {
    let f = Fixture::new();
    f.config("Host other\n  Port 2200\n");
    let h = f.resolve("plain.example.com");
    assert_eq!(h.hostname, "plain.example.com");
    assert_eq!(h.port, 22);
    assert_eq!(h.user, None);
    assert!(h.identity_files.is_empty() && h.proxy_jump.is_empty() && !h.identities_only);
}

#[test]
fn host_lines_are_case_sensitive_but_the_hostname_is_lowercased() {
    let f = Fixture::new();
    f.config("Host web\n  Port 2222\n");
    let h = f.resolve("WEB");
    assert_eq!((h.hostname.as_str(), h.port), ("web", 22));
}

#[test]
fn quoted_arguments_keep_their_spaces() {
    let f = Fixture::new();
    f.config("Host \"my box\" web\n  IdentityFile \"~/my keys/id_ed25519\"\n  User 'o''ps'\n");
    let h = f.resolve("web");
    assert_eq!(h.identity_files, vec![f.home().join("my keys/id_ed25519")]);
    assert_eq!(h.user.as_deref(), Some("ops"));
    assert_eq!(f.load().hosts(), vec!["my box", "web"]);
}

#[test]
fn full_line_and_trailing_comments_are_skipped_but_a_hash_inside_a_word_is_kept() {
    let f = Fixture::new();
    f.config("# header\n   # indented\nHost web # the web box\n  Port 2222 # not 22\n  HostName web#1.example\n\n");
    let h = f.resolve("web");
    assert_eq!((h.hostname.as_str(), h.port), ("web#1.example", 2222));
}

#[test]
fn crlf_files_read_like_lf_files() {
    let f = Fixture::new();
    f.config("Host web\r\n  HostName web.example.com\r\n  Port 2222\r\n  IdentityFile ~/.ssh/web\r\n");
    let h = f.resolve("web");
    assert_eq!((h.hostname.as_str(), h.port), ("web.example.com", 2222));
    assert_eq!(h.identity_files, vec![f.home().join(".ssh/web")]);
}

#[test]
fn identity_files_accumulate_in_order_and_a_repeat_is_dropped() {
    let f = Fixture::new();
    f.config(
        "Host web\n  IdentityFile ~/.ssh/web\nHost *\n  IdentityFile ~/.ssh/common\n  IdentityFile ~/.ssh/web\n  IdentityFile /keys/last\n",
    );
    let h = f.resolve("web");
    let home = f.home();
    assert_eq!(h.identity_files, vec![home.join(".ssh/web"), home.join(".ssh/common"), PathBuf::from("/keys/last")]);
}

#[test]
fn host_patterns_take_wildcards_and_several_names() {
    let f = Fixture::new();
    f.config("Host db web-? *.example.com\n  Port 2222\nHost *\n  Port 22\n");
    for (alias, port) in [("db", 2222), ("web-1", 2222), ("web-10", 22), ("a.example.com", 2222), ("example.com", 22)] {
        assert_eq!(f.resolve(alias).port, port, "{alias}");
    }
}

#[test]
fn a_negated_pattern_keeps_the_block_off_even_when_another_pattern_matches() {
    let f = Fixture::new();
    f.config("Host web* !web-legacy\n  User deploy\nHost * !bastion\n  ProxyJump bastion\n");
    assert_eq!(f.resolve("web-1").user.as_deref(), Some("deploy"));
    let legacy = f.resolve("web-legacy");
    assert_eq!(legacy.user, None);
    assert_eq!(legacy.proxy_jump, vec![hop(None, "bastion", None)]);
    assert!(f.resolve("bastion").proxy_jump.is_empty());
}

#[test]
fn hosts_lists_concrete_aliases_in_file_order_once() {
    let f = Fixture::new();
    f.config("Host web db\nHost *.example.com !x\nHost web cache\nHost a,b\nMatch host mail\nHost c?\n");
    let cfg = f.load();
    assert_eq!(cfg.hosts(), vec!["web", "db", "cache"]);
    assert!(
        cfg.warnings().iter().any(|w| w.line == 4 && w.text.contains("separated by spaces")),
        "{:?}",
        cfg.warnings()
    );
}

#[test]
fn ignored_directives_are_reported_with_file_and_line() {
    let f = Fixture::new();
    let path = f.config(
        "Host web\n  LocalForward 8080 localhost:80\n  ForwardAgent yes\nHost *\n  ControlMaster auto\n  Port 2222\n",
    );
    let h = f.resolve("web");
    assert_eq!(directives(&h), vec!["LocalForward", "ForwardAgent", "ControlMaster"]);
    let first = &h.ignored[0];
    assert_eq!((first.file.as_path(), first.line, first.reason.as_str()), (path.as_path(), 2, "ignored: LocalForward"));
    assert_eq!(h.ignored[2].line, 5);
    // Blocks that do not apply report nothing.
    assert_eq!(directives(&f.resolve("db")), vec!["ControlMaster"]);
}

#[test]
fn an_unknown_keyword_is_a_warning_with_its_line_and_ssh_refuses_the_file() {
    let f = Fixture::new();
    let path = f.config("Host web\n  Port 2222\n  UseKeychain yes\n");
    let cfg = f.load();
    let w = &cfg.warnings()[0];
    assert_eq!((w.file.as_path(), w.line), (path.as_path(), 3));
    assert!(w.text.contains("unknown keyword UseKeychain"), "{w}");
    let h = cfg.resolve("web").unwrap();
    assert_eq!(h.port, 2222);
    assert!(h.ignored.iter().any(|i| i.directive == "UseKeychain" && i.reason.contains("refuses")), "{:?}", h.ignored);
    if ssh_installed() {
        let refused = openssh_view(&path, "web", &f.ctx);
        assert!(matches!(refused, Err(SshConfigError::OpensshRefused { .. })), "{refused:?}");
    }
}

#[test]
fn ignore_unknown_silences_the_keywords_it_lists() {
    let f = Fixture::new();
    f.config("IgnoreUnknown UseKeychain,AddKeys*\nHost web\n  UseKeychain yes\n  Port 2222\n");
    let cfg = f.load();
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let h = f.resolve("web");
    assert!(h.ignored[0].reason.contains("IgnoreUnknown"), "{:?}", h.ignored);
}

#[test]
fn a_bad_value_is_a_warning_and_the_line_is_skipped() {
    let f = Fixture::new();
    f.config("Host web\n  Port 0\n  Port 70000\n  IdentitiesOnly maybe\n  User a b\n  HostName \"open\n");
    let cfg = f.load();
    let lines: Vec<u32> = cfg.warnings().iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6], "{:?}", cfg.warnings());
    let h = cfg.resolve("web").unwrap();
    assert_eq!((h.port, h.user.as_deref(), h.hostname.as_str()), (22, None, "web"));
}
