use std::path::Path;
use std::process::Command;

use chom_tests::{require_keyring, Chom};

fn keygen(dir: &Path, name: &str, args: &[&str], passphrase: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-N", passphrase, "-C", &format!("{name}@test")])
        .args(args)
        .arg("-f")
        .arg(&file)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen {args:?}");
    file
}

fn import(c: &Chom, name: &str, file: &Path, passphrase: &str) -> std::process::Output {
    c.with_stdin(["key", "import", name, file.to_str().unwrap(), "--passphrase-stdin"], passphrase)
}

/// Every supported type imports with its passphrase, and `key show` prints
/// the line `ssh-keygen -lf` prints for the same key.
#[test]
fn import_each_key_type_and_match_ssh_keygen() {
    require_keyring();
    let c = Chom::new();
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 5] = [
        ("ed", &["-t", "ed25519"]),
        ("ec256", &["-t", "ecdsa", "-b", "256"]),
        ("ec384", &["-t", "ecdsa", "-b", "384"]),
        ("ec521", &["-t", "ecdsa", "-b", "521"]),
        ("rsa", &["-t", "rsa", "-b", "3072"]),
    ];
    for (name, args) in cases {
        let file = keygen(tmp.path(), name, args, "s3cret pass");
        let out = import(&c, name, &file, "s3cret pass");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let expected = Command::new("ssh-keygen").arg("-lf").arg(file.with_extension("pub")).output().unwrap();
        let expected = String::from_utf8(expected.stdout).unwrap();
        let shown = c.ok(["key", "show", name]);
        assert_eq!(shown.lines().next().unwrap(), expected.trim(), "{name}");
        let public = c.ok(["key", "export-public", name]);
        let pubfile = std::fs::read_to_string(file.with_extension("pub")).unwrap();
        assert_eq!(public.trim(), pubfile.trim(), "{name}");
    }
    let (keys, _) = c.json(["key", "list"]);
    assert_eq!(keys.as_array().unwrap().len(), 5);
}

/// A wrong or missing passphrase stores nothing and says what happened.
#[test]
fn wrong_or_missing_passphrase_stores_nothing() {
    require_keyring();
    let c = Chom::new();
    let tmp = tempfile::tempdir().unwrap();
    let file = keygen(tmp.path(), "k", &["-t", "ed25519"], "right");
    let before = c.snapshot();
    let out = import(&c, "k", &file, "wrong");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"), "{out:?}");
    // No terminal and no --passphrase-stdin: told how to give it.
    let out = c.run(["key", "import", "k", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--passphrase-stdin"), "{out:?}");
    assert_eq!(c.snapshot(), before);
}

/// A key in use is not deleted; once free, it goes from the keyring too.
#[test]
fn keys_in_use_are_not_deleted() {
    require_keyring();
    let c = Chom::new();
    c.ok(["key", "generate", "k"]);
    c.ok(["server", "add", "web1", "--host", "192.0.2.10", "--key", "k"]);
    let out = c.run(["key", "delete", "k"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("web1"));
    c.ok(["server", "remove", "web1"]);
    c.ok(["key", "delete", "k"]);
    assert_eq!(c.json(["key", "list"]).0.as_array().unwrap().len(), 0);
}

/// Without a keyring the error says so and what to do; nothing is stored,
/// and the offline inventory still reads.
#[test]
fn no_keyring_is_a_clear_error_not_a_fallback() {
    let c = Chom::new();
    let out =
        c.command(["key", "generate", "k"]).env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent").output().unwrap();
    assert_eq!(out.status.code(), Some(8), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no OS keyring available") && stderr.contains("Secret Service"), "{stderr}");
    let list = c
        .command(["--json", "key", "list"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
    let files: Vec<_> = std::fs::read_dir(c.data_dir()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(!files.iter().any(|f| f.to_string_lossy().contains("key")), "{files:?}");
}
