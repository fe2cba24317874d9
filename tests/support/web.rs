//! Lab web hosts for the site journeys: `hosts` hosts (198.18.I.2, I from
//! `first`) with sshd, nginx, PHP-FPM and MariaDB in their own namespaces,
//! added to a fresh data directory as `web0`, `web1`, ... (root, key `lab`).

use std::path::{Path, PathBuf};
use std::process::Command;

pub use chom_lab::WebLab;

use super::{require_keyring, Chom};

pub struct WebFleet {
    pub lab: WebLab,
    pub chom: Chom,
}

impl WebFleet {
    /// `hosts` web hosts on indexes the lab library hands out (no two
    /// tests running at once share one).
    pub fn start(hosts: usize) -> WebFleet {
        require_keyring();
        let chom = Chom::new();
        let key = chom.json_ok(["key", "generate", "lab"]);
        let lab = WebLab::start_any(hosts, key["public_key"].as_str().expect("public key")).expect("start web hosts");
        for (i, h) in lab.hosts().iter().enumerate() {
            let name = format!("web{i}");
            chom.ok(["server", "add", &name, "--host", &h.addr.to_string(), "--user", "root", "--key", "lab"]);
            chom.ok(["server", "trust", &name, "--trust-on-first-use"]);
        }
        WebFleet { lab, chom }
    }

    /// Runs `sh -c command` as root inside host `i`; its stdout.
    pub fn sh(&self, i: usize, command: &str) -> String {
        let out = self.lab.exec(i, command).expect("nsenter");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What a site-changing command could touch on host `i`, for
    /// "nothing changed" checks (not MariaDB's own upgrade check, which
    /// Debian's start script runs in the background, with a folder in /tmp).
    pub fn server_listing(&self, i: usize) -> String {
        self.sh(
            i,
            "ls -lA /var/www /etc/nginx/sites-enabled /etc/nginx/sites-available /etc/php/*/fpm/pool.d /etc/cron.d; \
             cut -d: -f1 /etc/passwd; mysql -N -e 'SHOW DATABASES; SELECT user FROM mysql.user'; \
             ls /tmp | grep -v '^mysql_upgrade-'",
        )
    }

    /// GET `path` from host `i`'s nginx with `host` as the Host header:
    /// (status, body).
    pub fn get(&self, i: usize, host: &str, path: &str) -> (u16, String) {
        let addr = self.lab.hosts()[i].addr;
        http_get(&format!("http://{addr}{path}"), host)
    }
}

pub fn http_get(url: &str, host: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "-H", &format!("Host: {host}"), "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// A static site folder with `n` pages and an index saying `marker`.
pub fn static_site(dir: &Path, marker: &str, n: usize) -> PathBuf {
    std::fs::create_dir_all(dir.join("css")).unwrap();
    std::fs::write(dir.join("index.html"), format!("<!doctype html><h1>{marker}</h1>\n")).unwrap();
    std::fs::write(dir.join("css/site.css"), "h1 { color: teal }\n").unwrap();
    for i in 0..n {
        std::fs::write(dir.join(format!("page{i}.html")), format!("<p>page {i} of {marker}</p>\n")).unwrap();
    }
    dir.to_owned()
}

/// WordPress as its official tarball is laid out (`wordpress/...`), made
/// from Debian's package files (this machine cannot reach wordpress.org).
pub fn wordpress_tarball(dir: &Path) -> PathBuf {
    let out = dir.join("wordpress.tar.gz");
    let st = Command::new("tar").args(["-C", "/usr/share", "-chzf"]).arg(&out).arg("wordpress").status().expect("tar");
    assert!(st.success(), "building the WordPress tarball from /usr/share/wordpress failed");
    out
}

/// The Laravel test app (tests/fixtures/laravel-app) copied to `dir`, its
/// RELEASE file saying `release`.
pub fn laravel_app(dir: &Path, release: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/laravel-app");
    let st = Command::new("cp").arg("-a").arg(&fixture).arg(dir).status().expect("cp");
    assert!(st.success(), "copying {}", fixture.display());
    std::fs::write(dir.join("RELEASE"), format!("{release}\n")).unwrap();
    dir.to_owned()
}

/// Every file of a data directory: the database, its WAL, the logs.
pub fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    assert!(out.iter().any(|p| p.extension().is_some_and(|e| e == "sqlite3")), "no database in {}", dir.display());
    out
}

/// `value` as one single-quoted shell word.
pub fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

impl WebFleet {
    /// Runs `sh -c command` as `user` inside host `i`, as an attacker who
    /// has that site's user would: whether it succeeded, and what it printed.
    pub fn sh_as(&self, i: usize, user: &str, command: &str) -> (bool, String) {
        let out = self.lab.exec(i, &format!("runuser -u {user} -- sh -c {} 2>&1", sh_quote(command))).expect("nsenter");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Owners, modes, link targets and SHA-256 of everything under `paths`
    /// on host `i` but the paths matching `skip` (find -path patterns):
    /// what an attack must not change.
    pub fn fingerprint(&self, i: usize, paths: &[&str], skip: &[&str]) -> String {
        let prune: Vec<String> = skip.iter().map(|p| format!("-path {}", sh_quote(p))).collect();
        let prune = if prune.is_empty() { "-false".to_owned() } else { prune.join(" -o ") };
        let roots = paths.iter().map(|p| sh_quote(p)).collect::<Vec<_>>().join(" ");
        let listing = self.sh(
            i,
            &format!(
                "find {roots} -xdev \\( {prune} \\) -prune -o -printf '%p %u:%g %m %y %l\\n' | sort; \
                 find {roots} -xdev \\( {prune} \\) -prune -o -type f -exec sha256sum {{}} + | sort"
            ),
        );
        assert!(listing.lines().count() > paths.len(), "nothing listed under {paths:?}: {listing}");
        listing
    }
}

/// The lines only `before` has (-) and only `after` has (+).
pub fn diff(before: &str, after: &str) -> String {
    let b: std::collections::BTreeSet<&str> = before.lines().collect();
    let a: std::collections::BTreeSet<&str> = after.lines().collect();
    let gone = b.difference(&a).map(|l| format!("- {l}"));
    let new = a.difference(&b).map(|l| format!("+ {l}"));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}
