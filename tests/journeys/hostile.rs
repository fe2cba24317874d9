use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use chom_core::{Chom, ServerInput};
use chom_tests::Fleet;

const PWNED: &str = "/tmp/pwned";

fn hostile_values() -> Vec<OsString> {
    let mut v: Vec<OsString> = [
        "a;rm -rf /",
        "$(touch /tmp/pwned)",
        "`touch /tmp/pwned`",
        "a\nb",
        "-oProxyCommand=touch /tmp/pwned",
        "../../etc/passwd",
        "0",
        "65536",
        "-1",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    v.push(OsString::from("x".repeat(10_000)));
    v.push(OsString::from_vec(b"web\xff\xfe1".to_vec()));
    v
}

/// Every CLI field that reaches SQL or a remote shell, with a slot (`@`)
/// for the hostile value.
fn entry_points(key_file: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["server", "add", "@", "--host", "127.0.0.1", "--key", "lab"],
        vec!["server", "add", "ok1", "--host", "@", "--key", "lab"],
        vec!["server", "add", "ok1", "--host", "127.0.0.1", "--port", "@", "--key", "lab"],
        vec!["server", "add", "ok1", "--host", "127.0.0.1", "--user", "@", "--key", "lab"],
        vec!["server", "add", "ok1", "--host", "127.0.0.1", "--key", "@"],
        vec!["server", "add", "ok1", "--host", "127.0.0.1", "--key", "lab", "--tag", "@"],
        vec!["server", "add", "ok1", "--host", "127.0.0.1", "--key", "lab", "--group", "@"],
        vec!["server", "edit", "target", "--rename", "@"],
        vec!["server", "edit", "target", "--host", "@"],
        vec!["server", "edit", "target", "--port", "@"],
        vec!["server", "edit", "target", "--user", "@"],
        vec!["server", "edit", "target", "--key", "@"],
        vec!["server", "edit", "target", "--add-tag", "@"],
        vec!["server", "edit", "target", "--group", "@"],
        vec!["server", "edit", "@", "--port", "23"],
        vec!["server", "show", "@"],
        vec!["server", "remove", "@"],
        vec!["server", "trust", "@", "--trust-on-first-use"],
        vec!["server", "list", "--tag", "@"],
        vec!["server", "list", "--group", "@"],
        vec!["key", "generate", "@"],
        vec!["key", "import", "@", key_file],
        vec!["key", "show", "@"],
        vec!["key", "export-public", "@"],
        vec!["key", "delete", "@"],
        vec!["probe", "@"],
        vec!["probe", "--tag", "@"],
        vec!["run", "@", "--", "true"],
        vec!["run", "--group", "@", "--", "true"],
        vec!["audit", "--server", "@"],
    ]
}

/// Each hostile value in each field: a specific error, no panic, the cache
/// unchanged, and nothing executed anywhere.
#[test]
fn hostile_input_is_refused_and_changes_nothing() {
    let fleet = Fleet::start(1);
    let c = &fleet.chom;
    let _ = std::fs::remove_file(PWNED);
    c.ok(["server", "add", "target", "--host", &fleet.lab.hosts()[0].addr.to_string(), "--key", "lab"]);
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("k");
    std::fs::write(&key_file, "not a key").unwrap();
    let key_file = key_file.to_str().unwrap().to_owned();

    for entry in entry_points(&key_file) {
        let before = c.snapshot();
        for value in hostile_values() {
            // "0" is a fine name or tag, and audit filters are free text;
            // the numeric values are hostile for ports only.
            let numeric = ["0", "65536", "-1"].iter().any(|n| value == *n);
            let is_port = entry.windows(2).any(|w| w[0] == "--port" && w[1] == "@");
            if numeric && !is_port {
                continue;
            }
            let args: Vec<OsString> =
                entry.iter().map(|a| if *a == "@" { value.clone() } else { OsString::from(a) }).collect();
            let out = c.run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let shown = format!(
                "{:?}",
                args.iter().map(|a| a.to_string_lossy().chars().take(50).collect::<String>()).collect::<Vec<_>>()
            );
            if entry[0] == "audit" || (entry[1] == "list" && value.to_str().is_some_and(|v| !v.contains('\n'))) {
                // Read-only filters may answer "nothing matches" or refuse.
            } else {
                assert!(!out.status.success(), "{shown} was accepted");
                assert!(
                    stderr.contains("invalid") || stderr.contains("error:") || stderr.contains("not found"),
                    "{shown}: unclear error: {stderr}"
                );
            }
            assert!(stderr.len() < 2000, "{shown}: the error echoes the whole input");
        }
        assert_eq!(c.snapshot(), before, "{entry:?} changed the cache");
    }
    assert!(!Path::new(PWNED).exists(), "a hostile value was executed");
}

/// NUL can not travel through argv; the core refuses it in every field.
#[test]
fn nul_bytes_are_refused_by_the_core() {
    let dir = tempfile::tempdir().unwrap();
    let chom = Chom::open(dir.path()).unwrap();
    let base = ServerInput { name: "n".into(), host: "127.0.0.1".into(), ..Default::default() };
    let cases = [
        ServerInput { name: "a\0b".into(), ..base.clone() },
        ServerInput { host: "127.0.0.1\0".into(), ..base.clone() },
        ServerInput { port: Some("22\0".into()), ..base.clone() },
        ServerInput { user: Some("root\0".into()), ..base.clone() },
        ServerInput { tags: vec!["t\0".into()], ..base.clone() },
        ServerInput { group: Some("g\0".into()), ..base.clone() },
        ServerInput { notes: Some("n\0".into()), ..base.clone() },
    ];
    for case in cases {
        let err = chom.servers().add_server(&case).unwrap_err();
        assert_eq!(err.code(), chom_core::ErrorCode::InvalidInput, "{err}");
    }
    assert!(chom.servers().list_servers(&Default::default()).unwrap().is_empty());
}
