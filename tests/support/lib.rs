//! Shared set-up for the journeys: a lab fleet, a fresh data directory, a
//! key in the real OS keyring, and the `chom` binary to drive.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use chom_lab::Lab;
use serde_json::Value;

/// The `chom` binary built next to this test (`cargo build` builds it).
pub fn chom_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("chom{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing: run `cargo build --workspace` before the journeys", bin.display());
    bin
}

/// The journeys use the real Secret Service; say how to get one.
pub fn require_keyring() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need the OS keyring: run them through scripts/test.sh, which starts a D-Bus session \
         with an unlocked gnome-keyring"
    );
}

/// A data directory and a way to run `chom` against it.
pub struct Chom {
    pub dir: tempfile::TempDir,
    /// Extra global flags for every call (timeouts).
    pub flags: Vec<String>,
}

impl Default for Chom {
    fn default() -> Self {
        Self::new()
    }
}

/// How long any one `chom` run of a journey may take.
pub const RUN_DEADLINE: Duration = Duration::from_secs(300);

/// Waits for `child` with its output, killing it past `RUN_DEADLINE`.
fn within_deadline(mut child: std::process::Child, shown: &str) -> Output {
    use std::io::Read;
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chom") {
            break status;
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chom {shown} did not finish within {RUN_DEADLINE:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out.join().expect("stdout reader"), stderr: err.join().expect("stderr reader") }
}

impl Chom {
    pub fn new() -> Chom {
        Chom { dir: tempfile::Builder::new().prefix("chom-test-").tempdir().expect("temp dir"), flags: Vec::new() }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(chom_bin());
        cmd.arg("--data-dir").arg(self.dir.path()).args(&self.flags).args(args);
        cmd.env_remove("CHOM_DATA_DIR").env_remove("RUST_LOG").stdin(Stdio::null());
        cmd
    }

    /// Runs chom; returns the output whatever the exit status. A run that
    /// outlives `RUN_DEADLINE` is killed and fails the test: a hang never
    /// stalls the suite.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        let shown = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
        let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run chom");
        let out = within_deadline(child, &shown);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "chom panicked: {stderr}");
        out
    }

    /// Runs chom with `secret` on stdin (for --passphrase-stdin / --password-stdin).
    pub fn with_stdin<I, S>(&self, args: I, secret: &str) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run chom");
        child.stdin.take().expect("stdin").write_all(format!("{secret}\n").as_bytes()).expect("write stdin");
        within_deadline(child, "with a secret on stdin")
    }

    /// Runs chom and requires success.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let shown: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let out = self.run(args);
        assert!(
            out.status.success(),
            "chom {shown:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs chom with --json and requires success; the parsed stdout. A
    /// failure shows the whole answer (the error, its code and remedy).
    pub fn json_ok<I, S>(&self, args: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let shown: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let (value, code) = self.json(args);
        assert_eq!(code, 0, "chom --json {shown:?} failed: {value:#}");
        value
    }

    /// Runs chom with --json; returns the parsed stdout and the exit code.
    pub fn json<I, S>(&self, args: I) -> (Value, i32)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["--json".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let out = self.run(&all);
        let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "chom {all:?}: stdout is not JSON ({e}):\n{}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (value, out.status.code().unwrap_or(-1))
    }

    /// Everything the cache holds that a command could change, for
    /// "nothing changed" checks.
    pub fn snapshot(&self) -> Value {
        let (servers, _) = self.json(["server", "list"]);
        let (keys, _) = self.json(["key", "list"]);
        let (audit, _) = self.json(["audit", "--limit", "1000"]);
        let (jobs, _) = self.json(["jobs", "--limit", "1000"]);
        serde_json::json!({ "servers": servers, "keys": keys, "audit": audit, "jobs": jobs })
    }
}

/// A lab of `hosts` sshd on 127.`subnet`.x.y, a data directory with key
/// `lab` authorized on every host, and every host added and trusted (by
/// the fingerprint read from the host key file, as an operator would
/// compare it with the provider's console).
pub struct Fleet {
    pub lab: Lab,
    pub chom: Chom,
}

impl Fleet {
    pub fn start(hosts: usize) -> Fleet {
        require_keyring();
        let lab = Lab::start_any(hosts).expect("start the lab fleet");
        let chom = Chom::new();
        let key = chom.json_ok(["key", "generate", "lab"]);
        lab.authorize_key(key["public_key"].as_str().expect("public key")).expect("authorize key");
        for h in lab.hosts() {
            chom.ok([
                "server",
                "add",
                &h.name,
                "--host",
                &h.addr.to_string(),
                "--user",
                lab.user(),
                "--key",
                "lab",
                "--tag",
                "lab",
            ]);
            chom.ok(["server", "trust", &h.name, "--accept", &h.host_key_fingerprint]);
        }
        Fleet { lab, chom }
    }
}

/// A command's stderr as text, for assertions and their messages.
pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Results of a `--json` probe or run, by server name.
pub fn by_server(report: &Value) -> std::collections::BTreeMap<String, Value> {
    report["results"]
        .as_array()
        .expect("results array")
        .iter()
        .map(|r| (r["server"].as_str().expect("server").to_owned(), r.clone()))
        .collect()
}

pub mod web;

/// Polls `done` every 100 ms until it holds; fails the test, naming `what`
/// it waited for, after `within`.
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// SQLite's own check of the database at `path` ("ok" when whole), read
/// by another SQLite than CHOM's (Python's).
pub fn integrity_check(path: &Path) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
        ])
        .arg(path)
        .output()
        .expect("python3");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Random moments for kill tests, from a seed printed so that a failure
/// can be replayed (`CHOM_KILL_SEED`).
pub struct Dice(u64);

impl Dice {
    pub fn new() -> Dice {
        let seed = std::env::var("CHOM_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
        });
        eprintln!("kill moments from CHOM_KILL_SEED={seed}");
        Dice(seed | 1)
    }

    /// A number in 0..n (xorshift: enough for spreading kill moments).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

impl Default for Dice {
    fn default() -> Dice {
        Dice::new()
    }
}
