use super::*;

#[test]
fn tokens_expand_as_each_directive_allows() {
    let f = Fixture::new();
    f.config(
        "Host web\n  HostName %h.Example.COM\n  User deploy\n  Port 2222\n  HostKeyAlias WebKey\n  \
         IdentityFile ~/.ssh/%h_%r_%p_%u_%n_%l_%L_%k_%%\n  IdentityFile %d/.ssh/plain\n",
    );
    let h = f.resolve("web");
    assert_eq!(h.hostname, "web.example.com");
    let me = real_user();
    let home = f.home().display().to_string();
    assert_eq!(
        h.identity_files,
        vec![
            PathBuf::from(format!("{home}/.ssh/web.example.com_deploy_2222_{me}_web_box.example.org_box_webkey_%")),
            PathBuf::from(format!("{home}/.ssh/plain")),
        ]
    );
}

#[test]
fn hostname_accepts_only_percent_h_and_an_unknown_token_fails_that_host_only() {
    let f = Fixture::new();
    let config = f.config("Host web\n  HostName %p.example\nHost db\n  IdentityFile ~/.ssh/%x\nHost *\n  Port 2222\n");
    let cfg = f.load();
    let err = cfg.resolve("web").unwrap_err();
    let SshConfigError::UnknownToken { directive, token, line, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*directive, *token, *line), ("HostName", 'p', 2));
    assert!(err.to_string().contains("%p"), "{err}");
    let db = cfg.resolve("db").unwrap_err();
    assert!(matches!(db, SshConfigError::UnknownToken { directive: "IdentityFile", token: 'x', .. }), "{db:?}");
    assert_eq!(f.resolve("cache").port, 2222);
    if ssh_installed() {
        let refused = openssh_view(&config, "web", &f.ctx);
        assert!(matches!(refused, Err(SshConfigError::OpensshRefused { .. })), "{refused:?}");
    }
}

#[test]
fn a_token_chom_cannot_compute_is_said_to_be_unsupported() {
    let f = Fixture::new();
    f.config("Host web\n  IdentityFile ~/.ssh/%C\n");
    let err = f.load().resolve("web").unwrap_err();
    assert!(matches!(err, SshConfigError::UnsupportedToken { token: 'C', .. }), "{err:?}");
}

#[test]
fn identity_agent_is_expanded_and_none_is_kept() {
    let f = Fixture::new();
    f.config("Host web\n  HostName Web.Example.COM\n  IdentityAgent /run/%u/%h.sock\nHost db\n  IdentityAgent none\n");
    let h = f.resolve("web");
    assert_eq!(h.identity_agent, Some(format!("/run/{}/web.example.com.sock", real_user())));
    assert_eq!(f.resolve("db").identity_agent.as_deref(), Some("none"));
}

#[test]
fn a_proxyjump_chain_keeps_its_order_users_and_ports() {
    let f = Fixture::new();
    f.config("Host web\n  ProxyJump ops@bastion:2200,inner,ssh://jump@edge:2022\n  User bob\nHost db\n  ProxyJump %r@%h-gw\n");
    let h = f.resolve("web");
    let want =
        vec![hop(Some("ops"), "bastion", Some(2200)), hop(None, "inner", None), hop(Some("jump"), "edge", Some(2022))];
    assert_eq!(h.proxy_jump, want);
    assert_eq!(f.resolve("db").proxy_jump, vec![hop(Some(real_user()), "db-gw", None)]);
}

#[test]
fn proxyjump_none_turns_off_a_jump_set_for_everyone_later() {
    let f = Fixture::new();
    f.config("Host bastion\n  ProxyJump none\nHost *\n  ProxyJump bastion\n");
    assert!(f.resolve("bastion").proxy_jump.is_empty());
    assert_eq!(f.resolve("web").proxy_jump, vec![hop(None, "bastion", None)]);
}

#[test]
fn proxycommand_is_recorded_and_reported_as_not_supported() {
    let f = Fixture::new();
    let path = f.config("Host web\n  ProxyCommand nc -X connect -x proxy:8080 %h %p\nHost *\n  ProxyJump never-used\n");
    let h = f.resolve("web");
    assert_eq!(h.proxy_command.as_deref(), Some("nc -X connect -x proxy:8080 %h %p"));
    assert!(h.proxy_jump.is_empty());
    let i = &h.ignored[0];
    assert_eq!((i.directive.as_str(), i.file.as_path(), i.line), ("ProxyCommand", path.as_path(), 2));
    assert!(i.reason.starts_with("not supported"), "{}", i.reason);
}

#[test]
fn proxyjump_first_shuts_out_a_later_proxycommand_but_proxycommand_none_is_no_proxy() {
    let f = Fixture::new();
    f.config("Host web\n  ProxyJump bastion\nHost db\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n");
    let web = f.resolve("web");
    assert_eq!((web.proxy_jump.len(), web.proxy_command.clone()), (1, None));
    let db = f.resolve("db");
    assert_eq!((db.proxy_jump.len(), db.proxy_command.clone(), db.ignored.len()), (0, None, 0));
}

#[test]
fn identity_file_none_means_no_key_files() {
    let f = Fixture::new();
    f.config("Host web\n  IdentityFile none\n  IdentitiesOnly yes\n");
    let h = f.resolve("web");
    assert!(h.identity_files.is_empty() && h.identities_only);
}

#[test]
fn openssh_view_refuses_aliases_ssh_would_read_as_something_else_and_runs_nothing() {
    let f = Fixture::new();
    let marker = f.home().join("ran");
    let config = f.config("Host *\n  Port 2222\n");
    let hostile =
        [format!("-oProxyCommand=touch {}", marker.display()), "root@web".into(), "ssh://web".into(), "a b".into()];
    for alias in hostile {
        let got = openssh_view(&config, &alias, &f.ctx);
        assert!(matches!(got, Err(SshConfigError::BadAlias { .. })), "{alias}: {got:?}");
    }
    assert!(!marker.exists());
    // Resolving is pure, so any alias is only data there.
    assert_eq!(f.load().resolve("a.com; rm -rf /").unwrap().hostname, "a.com; rm -rf /");
}

#[test]
fn differences_name_the_field_and_both_values() {
    let f = Fixture::new();
    f.config("Host web\n  Port 2222\n  IdentityFile ~/.ssh/web\n");
    let h = f.resolve("web");
    let view = OpensshView {
        hostname: "web".into(),
        port: 22,
        user: real_user().into(),
        identity_files: vec!["~/.ssh/web".into()],
        identities_only: false,
        identity_agent: None,
        proxy_jump: Some("bastion".into()),
        proxy_command: None,
        host_key_alias: None,
    };
    assert_eq!(
        differences(&h, &view, &f.ctx),
        vec!["port: CHOM 2222, OpenSSH 22", "proxyjump: CHOM none, OpenSSH bastion"]
    );
}
