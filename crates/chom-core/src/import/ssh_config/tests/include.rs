use super::*;

#[test]
fn an_include_glob_inside_a_host_block_applies_only_to_that_host_in_lexical_order() {
    let f = Fixture::new();
    f.write(".ssh/config.d/b.conf", "Port 2222\nUser from-b\n");
    f.write(".ssh/config.d/a.conf", "Port 1111\n");
    f.write(".ssh/config.d/.hidden", "User hidden\n");
    f.config("Host web\n  Include config.d/*\nHost *\n  User default\n");
    let web = f.resolve("web");
    assert_eq!((web.port, web.user.as_deref()), (1111, Some("from-b")));
    let db = f.resolve("db");
    assert_eq!((db.port, db.user.as_deref()), (22, Some("default")));
}

#[test]
fn a_host_line_inside_an_included_file_does_not_leak_out_of_it() {
    let f = Fixture::new();
    f.write(".ssh/extra", "Host nothing-here\n  Port 9999\n");
    f.config("Host web\n  Include extra\n  User deploy\n");
    let h = f.resolve("web");
    assert_eq!((h.port, h.user.as_deref()), (22, Some("deploy")));
}

#[test]
fn an_included_file_in_a_block_that_does_not_apply_never_applies() {
    let f = Fixture::new();
    f.write(".ssh/other.conf", "Port 2222\nHost *\n  User leaked\nMatch all\n  IdentityFile ~/.ssh/leaked\n");
    f.config("Host other\n  Include other.conf\n");
    let h = f.resolve("web");
    assert_eq!((h.port, h.user.clone(), h.identity_files.len()), (22, None, 0));
    let other = f.resolve("other");
    assert_eq!((other.port, other.user.as_deref()), (2222, Some("leaked")));
}

#[test]
fn a_relative_include_is_read_from_dot_ssh_not_from_the_including_files_directory() {
    let f = Fixture::new();
    f.write(".ssh/shared", "Host web\n  Port 2222\n");
    f.write("elsewhere/shared", "Host web\n  Port 3333\n");
    f.write("elsewhere/config", "Include shared\n");
    f.config("Include ~/elsewhere/config\n");
    assert_eq!(f.resolve("web").port, 2222);
}

#[test]
fn several_include_arguments_and_absolute_paths_are_read_in_order() {
    let f = Fixture::new();
    let abs = f.write("abs.conf", "User abs\n");
    f.write(".ssh/one", "Port 1111\n");
    f.config(&format!("Include {} one missing-too\nPort 2222\n", abs.display()));
    let h = f.resolve("web");
    assert_eq!((h.port, h.user.as_deref()), (1111, Some("abs")));
}

#[test]
fn a_missing_include_is_ignored_silently() {
    let f = Fixture::new();
    f.config("Include nothing.conf conf.d/*.conf /nonexistent/dir/*\nHost web\n  Port 2222\n");
    let cfg = f.load();
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    assert_eq!(f.resolve("web").port, 2222);
}

#[test]
fn an_include_loop_is_an_error_that_names_the_chain() {
    let f = Fixture::new();
    f.write(".ssh/a", "Include b\n");
    f.write(".ssh/b", "Host x\n  Include a\n");
    let config = f.config("Include a\n");
    let err = load(&config, None, &f.ctx).unwrap_err();
    let SshConfigError::IncludeLoop { chain, line, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*line, 2);
    let canon = |n: &str| std::fs::canonicalize(f.home().join(n)).unwrap().display().to_string();
    assert_eq!(*chain, format!("{a} -> {b} -> {a}", a = canon(".ssh/a"), b = canon(".ssh/b")));
    assert!(err.to_string().contains("remove one of those Include lines"), "{err}");
}

#[test]
fn includes_nest_sixteen_deep_like_openssh_and_no_deeper() {
    for (depth, ok) in [(16, true), (17, false)] {
        let f = Fixture::new();
        for i in 1..depth {
            f.write(&format!(".ssh/f{i}"), &format!("Include f{}\n", i + 1));
        }
        f.write(&format!(".ssh/f{depth}"), "Port 1234\n");
        f.config("Include f1\n");
        match load(&f.home().join(".ssh/config"), None, &f.ctx) {
            Ok(_) if ok => assert_eq!(f.resolve("web").port, 1234),
            Err(SshConfigError::IncludeTooDeep { max: 16, .. }) if !ok => {}
            other => panic!("depth {depth}: {other:?}"),
        }
    }
}

#[test]
fn the_system_file_comes_after_the_user_file_and_anchors_its_relative_includes() {
    let f = Fixture::new();
    f.write("etc/ssh/ssh_config.d/50-site.conf", "Host *\n  Port 2200\n  User sys\n");
    let system = f.write("etc/ssh/ssh_config", "Include ssh_config.d/*.conf\nInclude ~/x\n");
    let user = f.config("Host web\n  User mine\n");
    let cfg = load(&user, Some(&system), &f.ctx).unwrap();
    let h = cfg.resolve("web").unwrap();
    assert_eq!((h.port, h.user.as_deref()), (2200, Some("mine")));
    // `~` is for user files only: ssh refuses it in the system file.
    assert!(cfg.warnings().iter().any(|w| w.file == system && w.line == 2), "{:?}", cfg.warnings());
    assert_eq!(cfg.files().len(), 3);
}

#[test]
fn a_missing_system_file_is_skipped_but_a_missing_user_file_is_an_error() {
    let f = Fixture::new();
    let user = f.config("Host web\n  Port 2222\n");
    let cfg = load(&user, Some(&f.home().join("no/ssh_config")), &f.ctx).unwrap();
    assert_eq!(cfg.resolve("web").unwrap().port, 2222);
    let err = load(&f.home().join("nope"), None, &f.ctx).unwrap_err();
    assert!(matches!(err, SshConfigError::Read { .. }), "{err:?}");
}

#[test]
fn fedora_system_config_with_match_final_and_an_include_inside_it_applies() {
    let f = Fixture::new();
    f.write("etc/crypto/openssh.config", "Ciphers aes256-gcm@openssh.com\nRequiredRSASize 2048\n");
    let crypto = f.home().join("etc/crypto/openssh.config");
    f.write(
        "etc/ssh/ssh_config.d/50-redhat.conf",
        &format!(
            "Match final all\n  Include {}\n  GSSAPIAuthentication yes\n  ForwardX11Trusted yes\n",
            crypto.display()
        ),
    );
    let system = f.write("etc/ssh/ssh_config", "Include ssh_config.d/*.conf\n");
    let user = f.config("Host web\n  HostName web.example.com\n");
    let cfg = load(&user, Some(&system), &f.ctx).unwrap();
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let h = cfg.resolve("web").unwrap();
    assert_eq!(h.hostname, "web.example.com");
    let from_crypto: Vec<&str> = h.ignored.iter().filter(|i| i.file == crypto).map(|i| i.directive.as_str()).collect();
    assert_eq!(from_crypto, vec!["Ciphers", "RequiredRSASize"]);
    assert!(directives(&h).contains(&"GSSAPIAuthentication"), "{:?}", h.ignored);
}

#[cfg(unix)]
#[test]
fn a_file_others_can_write_is_a_warning_because_ssh_refuses_it() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    let inc = f.write(".ssh/open.conf", "Port 2222\n");
    std::fs::set_permissions(&inc, std::fs::Permissions::from_mode(0o666)).unwrap();
    f.config("Include open.conf\n");
    let cfg = f.load();
    assert!(cfg.warnings().iter().any(|w| w.text.contains("bad owner or permissions")), "{:?}", cfg.warnings());
    assert_eq!(cfg.resolve("web").unwrap().port, 2222);
}
