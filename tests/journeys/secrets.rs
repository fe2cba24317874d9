use std::path::Path;
use std::process::Command;

use chom_core::db::Db;
use chom_core::secrets::{OsKeyring, SecretStore};
use chom_tests::Fleet;

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files(&p))
        } else {
            out.push(p)
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..=c.len() {
            s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    s
}

fn import(fleet: &Fleet, name: &str, file: &Path, passphrase: &str) -> std::process::Output {
    fleet.chom.with_stdin(["key", "import", name, file.to_str().unwrap(), "--passphrase-stdin"], passphrase)
}

/// After generate, import, probe and run, no private key material (PEM
/// lines, raw private bytes, their base64) is in the SQLite files or logs.
#[test]
fn private_keys_stay_in_the_keyring() {
    let fleet = Fleet::start(2);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("id_imported");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "correct horse", "-C", "imported", "-f"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(made.success());

    let before = fleet.chom.snapshot();
    let wrong = import(&fleet, "imported", &file, "wrong passphrase");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("passphrase"), "{wrong:?}");
    assert_eq!(fleet.chom.snapshot(), before, "a wrong passphrase must store nothing");
    let right = import(&fleet, "imported", &file, "correct horse");
    assert!(right.status.success(), "{right:?}");

    let pubkey = std::fs::read_to_string(file.with_extension("pub")).unwrap();
    fleet.lab.authorize_key(pubkey.trim()).unwrap();
    let name = fleet.lab.hosts()[1].name.clone();
    fleet.chom.ok(["server", "edit", &name, "--key", "imported"]);
    let mut debug = fleet.chom.command(["-vv", "probe", "--all"]);
    assert!(debug.env("RUST_LOG", "debug").output().unwrap().status.success());
    fleet.chom.ok(["run", "--all", "--", "true"]);

    // The private halves, as the keyring holds them.
    let db = Db::open(&fleet.chom.data_dir().join(Db::FILE_NAME)).unwrap();
    let keys = db.list_keys().unwrap();
    assert_eq!(keys.len(), 2);
    drop(db);
    let mut needles: Vec<Vec<u8>> = Vec::new();
    for k in &keys {
        let pem = OsKeyring::new().get(&k.keyring_account).unwrap().expect("private key in the keyring");
        for line in pem.expose().lines().filter(|l| !l.starts_with("-----") && l.len() >= 16) {
            needles.push(line.as_bytes().to_vec());
        }
        let private = chom_core::keys::decode_private(&pem).unwrap();
        let seed = private.key_data().ed25519().expect("ed25519").private.to_bytes();
        needles.push(seed.to_vec());
        needles.push(b64(&seed).as_bytes()[..40].to_vec());
    }
    let files = files(fleet.chom.data_dir());
    assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "log")), "no log file in {files:?}");
    assert!(files.iter().any(|f| f.ends_with(Db::FILE_NAME)));
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for n in &needles {
            assert!(!contains(&bytes, n), "private key material found in {}", f.display());
        }
    }
}
