//! A 2 GiB file (CHOM_TRANSFER_MIB to change it) downloaded and uploaded
//! while the connection is killed half-way (its sshd session process,
//! SIGKILL, on the server): each transfer resumes from what arrived, ends
//! with the SHA-256 of the source, and the CLI's memory stays under 64 MiB.
//! A half-made download is resumed by the next run after a crash too, and
//! an upload never goes through a link or into a folder others can write.
//!

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chom_tests::web::WebFleet;
use chom_tests::{stderr_of, wait_until, Chom};

/// Kills the sshd session that runs the newest process matching `pattern`
/// on host 0: the connection drops as if the network went away. With
/// `stalled`, the process is stopped first and killed after, so the
/// desktop's side of the connection is full (no window left to send in),
/// as when a network goes silent mid-upload.
fn drop_connection(fleet: &WebFleet, pattern: &str, stalled: bool) {
    let (stall, unstall) = if stalled { ("kill -STOP $c; sleep 1;", "kill -9 $c;") } else { ("", "") };
    let script = format!(
        "p=$(pgrep -nf '{pattern}'); [ -n \"$p\" ] || exit 3; c=$p; {stall} \
         while [ \"$p\" -gt 1 ]; do case $(cat /proc/$p/comm) in sshd|sshd-session) kill -9 $p; {unstall} exit 0 ;; esac; \
         p=$(awk '{{print $4}}' /proc/$p/stat); done; exit 4"
    );
    let out = fleet.lab.exec(0, &script).expect("nsenter");
    assert!(out.status.success(), "no sshd session found for {pattern}: {out:?}");
}

/// The child's peak resident memory (VmHWM), read until it exits (killed
/// after ten minutes: a transfer that hangs fails the test, not CI).
fn peak_kib_until_exit(child: &mut Child) -> u64 {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the CLI still ran after ten minutes: {err}");
        }
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kib) = s.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                peak = peak.max(kib.trim().trim_end_matches("kB").trim().parse().unwrap_or(0));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    peak
}

fn sha256_local(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_owned()
}

fn spawn(c: &Chom, args: &[&str]) -> Child {
    c.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until `done`, failing at once with what the CLI said if it ended.
fn wait_while_running(what: &str, child: &mut Child, mut done: impl FnMut() -> bool) {
    wait_until(what, Duration::from_secs(600), || {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("the CLI ended ({status}) before {what}: {err}");
        }
        done()
    });
}

#[test]
fn large_files_resume_after_a_lost_connection_and_match() {
    let mib: u64 = std::env::var("CHOM_TRANSFER_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(2048);
    let size = mib << 20;
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    fleet.sh(0, &format!("mkdir -p /root/files && head -c {size} /dev/urandom > /root/files/big.bin"));
    let remote_sha = fleet.sh(0, "sha256sum /root/files/big.bin | cut -d' ' -f1").trim().to_owned();

    // Download, the connection killed half-way.
    let local = work.path().join("big.bin");
    let part = work.path().join("big.bin.chom-part");
    let mut down = spawn(c, &["download", "web0", "/root/files/big.bin", local.to_str().unwrap()]);
    let half = size / 2;
    wait_while_running("half the download", &mut down, || std::fs::metadata(&part).map_or(0, |m| m.len()) >= half);
    drop_connection(&fleet, "^tail -c", false);
    let peak = peak_kib_until_exit(&mut down);
    let out = down.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("connection lost at ") && err.contains("; resuming in"), "{err}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("sha256 {remote_sha}")) && said.contains("2 connection(s) used"), "{said}");
    assert_eq!(sha256_local(&local), remote_sha);
    assert!(!part.exists(), "the part file was renamed into place");
    assert!(peak < 64 * 1024, "the CLI peaked at {peak} KiB downloading {mib} MiB");
    eprintln!("download of {mib} MiB: peak {peak} KiB");

    // Upload the same file back, the connection killed half-way.
    let mut up = spawn(c, &["upload", "web0", local.to_str().unwrap(), "/root/files/back.bin"]);
    wait_while_running("half the upload", &mut up, || {
        fleet
            .sh(0, "stat -c %s /root/files/back.bin.chom-part 2>/dev/null || echo 0")
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            >= half
    });
    drop_connection(&fleet, "^cat$", true);
    let peak = peak_kib_until_exit(&mut up);
    let out = up.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("sha256 {remote_sha}")) && said.contains("connection(s) used"), "{said}");
    assert_eq!(fleet.sh(0, "sha256sum /root/files/back.bin | cut -d' ' -f1").trim(), remote_sha);
    assert_eq!(fleet.sh(0, "ls /root/files").split_whitespace().collect::<Vec<_>>(), ["back.bin", "big.bin"]);
    assert!(peak < 64 * 1024, "the CLI peaked at {peak} KiB uploading {mib} MiB");
    eprintln!("upload of {mib} MiB: peak {peak} KiB");

    // A CLI killed mid-download: the next run resumes from its part file
    // (a smaller file: the resume is what is tested here).
    let size = size.min(256 << 20);
    fleet.sh(0, &format!("head -c {size} /root/files/big.bin > /root/files/part.bin"));
    let remote_sha = fleet.sh(0, "sha256sum /root/files/part.bin | cut -d' ' -f1").trim().to_owned();
    let again = work.path().join("again.bin");
    let again_part = work.path().join("again.bin.chom-part");
    let mut first = spawn(c, &["download", "web0", "/root/files/part.bin", again.to_str().unwrap()]);
    wait_while_running("a quarter of the download", &mut first, || {
        std::fs::metadata(&again_part).map_or(0, |m| m.len()) >= size / 4
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let (r, status) = c.json(["download", "web0", "/root/files/part.bin", again.to_str().unwrap()]);
    assert_eq!(status, 0, "{r:#}");
    assert!(r["resumed_from"].as_u64().unwrap() >= size / 4, "{r:#}");
    assert_eq!(r["sha256"], remote_sha.as_str());
    assert_eq!(sha256_local(&again), remote_sha);

    // Root never writes through a link or into a folder another user can
    // write; a bad path is refused before anything runs.
    fleet.sh(0, "mkdir -p /root/open && chmod 777 /root/open && ln -sfn /etc /root/files/etc-link");
    let small = work.path().join("small.txt");
    std::fs::write(&small, "hello\n").unwrap();
    for (remote, says) in [
        ("/root/open/x.txt", "can be written by others than root"),
        ("/root/files/etc-link/x.txt", "is a link"),
        ("/tmp/x.txt", "can be written by others than root"),
    ] {
        let out = c.run(["upload", "web0", small.to_str().unwrap(), remote]);
        assert_ne!(out.status.code(), Some(0), "{remote}");
        assert!(stderr_of(&out).contains(says), "{remote}: {}", stderr_of(&out));
    }
    assert!(fleet.sh(0, "ls /etc/x.txt /root/open/x.txt /tmp/x.txt 2>&1").matches("No such file").count() == 3);
    for bad in ["relative.txt", "/root/../etc/passwd", "/root/a\nb", "/root/x.chom-part"] {
        let out = c.run(["upload", "web0", small.to_str().unwrap(), bad]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr_of(&out));
    }
    let out = c.run(["download", "web0", "/root/files/etc-link/hostname", work.path().join("h").to_str().unwrap()]);
    assert!(stderr_of(&out).contains("reached through a link"), "{}", stderr_of(&out));
}
