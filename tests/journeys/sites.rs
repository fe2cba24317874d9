//! Sites on lab web hosts (sshd, nginx, PHP-FPM, MariaDB in their own
//! namespaces at 198.18.I.2): setup, one site of each kind, deploys,
//! failed health checks, rollbacks, and the server-side lock.

use chom_tests::stderr_of;
use chom_tests::web::{static_site, wordpress_tarball, WebFleet};

/// `server setup` on a bare host: the stack, ufw, sshd hardening and the
/// deploy user, proven by a fresh login; the second run changes nothing.
#[test]
fn setup_twice_and_the_second_run_changes_nothing() {
    let fleet = WebFleet::start(1);
    let state = "ls -la --time-style=full-iso /etc/ssh/sshd_config.d /etc/ufw /etc/php; md5sum /etc/passwd";
    // A PHP version this Debian release does not ship: named, nothing changed.
    let bare = fleet.sh(0, state);
    let out = fleet.chom.run(["server", "setup", "web0", "--php", "8.1"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("no package php8.1-fpm php8.1-cli") && err.contains("Debian GNU/Linux 12"), "{err}");
    assert_eq!(fleet.sh(0, state), bare);

    let (first, status) = fleet.chom.json(["server", "setup", "web0"]);
    assert_eq!(status, 0, "{first:#}");
    let changed: Vec<&str> = first["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changed.iter().any(|c| c.starts_with("ufw:")), "{changed:?}");
    assert!(changed.iter().any(|c| c.starts_with("sshd:")), "{changed:?}");
    assert!(changed.iter().any(|c| c.contains("user deploy created")), "{changed:?}");
    assert_eq!(first["login_verified"], true);

    // What the server now holds, read without CHOM.
    let sshd =
        fleet.sh(0, "sshd -T | grep -Ei '^(passwordauthentication|permitrootlogin|kbdinteractiveauthentication) '");
    assert!(sshd.contains("passwordauthentication no"), "{sshd}");
    assert!(sshd.contains("permitrootlogin without-password"), "{sshd}");
    let ufw = fleet.sh(0, "ufw status verbose");
    assert!(ufw.contains("Status: active") && ufw.contains("Default: deny (incoming)"), "{ufw}");
    for port in ["22/tcp", "80/tcp", "443/tcp"] {
        assert!(ufw.lines().any(|l| l.starts_with(port) && l.contains("ALLOW IN")), "{port} in {ufw}");
    }
    assert!(fleet.sh(0, "id -u deploy && cat ~deploy/.ssh/authorized_keys").contains("ssh-ed25519 "));
    let running =
        fleet.sh(0, "for s in nginx php8.2-fpm mariadb cron; do service $s status >/dev/null && echo $s; done");
    assert_eq!(running.split_whitespace().collect::<Vec<_>>(), ["nginx", "php8.2-fpm", "mariadb", "cron"]);
    // The probe sees the services by their pid files (no systemd here):
    // up, and php-fpm down once stopped.
    let services = |c: &chom_tests::Chom| c.json(["probe", "web0"]).0["results"][0]["facts"]["services"].clone();
    assert_eq!(services(&fleet.chom), serde_json::json!({"nginx": "up", "php-fpm": "up", "mariadb": "up"}));
    fleet.sh(0, "service php8.2-fpm stop >/dev/null");
    assert_eq!(services(&fleet.chom)["php-fpm"], "down");
    fleet.sh(0, "service php8.2-fpm start >/dev/null");
    // PHP-FPM's pools make files for their site's user and group only.
    assert_eq!(fleet.sh(0, "grep ^Umask: /proc/$(cat /run/php/php8.2-fpm.pid)/status").trim(), "Umask:\t0027");

    let before = fleet.sh(0, state);
    let (second, status) = fleet.chom.json(["server", "setup", "web0"]);
    assert_eq!(status, 0, "{second:#}");
    assert_eq!(second["changed"], serde_json::json!([]), "{second:#}");
    assert!(second["unchanged"].as_array().unwrap().len() >= 8, "{second:#}");
    assert_eq!(before, fleet.sh(0, state));
    // And CHOM still gets in, by key, over a new connection.
    let name = &fleet.lab.hosts()[0].name;
    assert!(fleet.chom.ok(["run", "web0", "--", "hostname"]).contains(name.as_str()));
}

/// A static site and a WordPress site: each answers through nginx on its
/// host (WordPress reads its title from MariaDB), the other host does not
/// serve them; release 2; a release failing its health check never goes
/// live; rollback and forward.
#[test]
fn static_and_wordpress_sites_deploy_fail_safely_and_roll_back() {
    let fleet = WebFleet::start(2);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();

    let r1 = static_site(&work.path().join("r1"), "Release one", 20);
    let (created, status) = c.json([
        "site",
        "create",
        "shop.example.test",
        "--kind",
        "static",
        "--server",
        "web0",
        "--from",
        r1.to_str().unwrap(),
        "--expect",
        "Release one",
        "--alias",
        "www.shop.example.test",
    ]);
    assert_eq!(status, 0, "{created:#}");
    let release1 = created["deploy"]["release"].as_str().unwrap().to_owned();
    assert_eq!(fleet.get(0, "shop.example.test", "/"), (200, "<!doctype html><h1>Release one</h1>\n".into()));
    assert_eq!(fleet.get(0, "shop.example.test", "/page7.html").1, "<p>page 7 of Release one</p>\n");
    assert_eq!(fleet.get(0, "www.shop.example.test", "/").1, "<!doctype html><h1>Release one</h1>\n", "the alias");
    let out = c.run(["site", "create", "www.shop.example.test", "--kind", "static", "--server", "web1"]);
    assert_eq!(out.status.code(), Some(4), "a domain another site answers to: {}", stderr_of(&out));
    assert_ne!(fleet.get(1, "shop.example.test", "/").1, "<!doctype html><h1>Release one</h1>\n");
    assert!(fleet.sh(0, "ls /var/www/shop.example.test/releases").contains(&release1));
    // The release is root's; the site's user and nginx read it through the site's group.
    assert_eq!(
        fleet.sh(0, "stat -c '%U %G %a' /var/www/shop.example.test /var/www/shop.example.test/current/index.html"),
        "root n_shop_example_test 750\nroot n_shop_example_test 640\n"
    );

    let tarball = wordpress_tarball(work.path());
    let out = c.run([
        "site",
        "create",
        "blog.example.test",
        "--kind",
        "wordpress",
        "--server",
        "web1",
        "--tarball",
        tarball.to_str().unwrap(),
        "--wp-title",
        "Journey Blog",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let (code, body) = fleet.get(1, "blog.example.test", "/");
    assert_eq!(code, 200);
    assert!(body.contains("<title>Journey Blog</title>"), "{body}");
    // The title is the database's.
    let db_title = fleet
        .sh(1, "mysql -N -e \"SELECT option_value FROM w_blog_example_test.wp_options WHERE option_name='blogname'\"");
    assert_eq!(db_title.trim(), "Journey Blog");
    assert_ne!(fleet.get(0, "blog.example.test", "/").0, 200, "web0 must not serve the blog");
    // The admin password is in the OS keyring, and it logs in.
    let admin = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "chom-desktop", "username", "site-admin:blog.example.test"])
        .output()
        .unwrap();
    let admin = String::from_utf8(admin.stdout).unwrap();
    assert_eq!(admin.len(), 24, "admin password in the keyring");
    // Neither it nor the database's password reached the cache, whose job
    // logs keep every line the scripts printed.
    let db_password = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "chom-desktop", "username", "site-db:blog.example.test"])
        .output()
        .unwrap()
        .stdout;
    assert!(db_password.len() >= 16, "database password in the keyring");
    for f in std::fs::read_dir(c.data_dir()).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap_or_default();
        for secret in [admin.as_bytes(), &db_password[..]] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "a site password is in the cache");
        }
    }
    let addr = fleet.lab.hosts()[1].addr;
    let login = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "-H",
            "Host: blog.example.test",
            "-b",
            "wordpress_test_cookie=WP%20Cookie%20check",
        ])
        .args(["--data-urlencode", "log=admin", "--data-urlencode"])
        .arg(format!("pwd={admin}"))
        .arg(format!("http://{addr}/wp-login.php"))
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&login.stdout);
    assert!(headers.contains("wordpress_logged_in_"), "the keyring's admin password does not log in: {headers}");
    // The database password is on the server (wp-config.php) and in the keyring, not in the cache.
    let wp_config = fleet.sh(1, "cat /var/www/blog.example.test/shared/wp-config.php");
    let password =
        wp_config.lines().find(|l| l.contains("'DB_PASSWORD'")).unwrap().split('\'').nth(3).unwrap().to_owned();
    assert_eq!(password.len(), 32);
    for secret in [&password, &admin] {
        for file in chom_tests::web::data_files(c.data_dir()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a password found in {}",
                file.display()
            );
        }
    }

    // Without --server, the site goes where the latest probe saw the most
    // room, and the choice is explained.
    assert_eq!(c.json(["probe", "--all"]).1, 0);
    let (placed, status) = c.json(["site", "create", "placed.example.test", "--kind", "static"]);
    assert_eq!(status, 0, "{placed:#}");
    let why = placed["created"]["placement"].as_str().unwrap();
    let server = placed["created"]["site"]["server"].as_str().unwrap();
    assert!(why.starts_with(&format!("placed on {server}: ")) && why.contains("disk free"), "{why}");
    assert!(why.contains("next best web"), "{why}");
    c.ok(["site", "delete", "placed.example.test", "--yes"]);

    // Release 2 of each.
    let r2 = static_site(&work.path().join("r2"), "Release two", 20);
    let (d2, status) =
        c.json(["deploy", "shop.example.test", "--from", r2.to_str().unwrap(), "--expect", "Release two"]);
    assert_eq!(status, 0, "{d2:#}");
    let release2 = d2["release"].as_str().unwrap().to_owned();
    assert_eq!(d2["previous"], release1.as_str());
    assert_eq!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    let (w2, status) =
        c.json(["deploy", "blog.example.test", "--tarball", tarball.to_str().unwrap(), "--expect", "Journey Blog"]);
    assert_eq!(status, 0, "{w2:#}");
    assert!(fleet.get(1, "blog.example.test", "/").1.contains("<title>Journey Blog</title>"));
    assert_eq!(
        fleet.sh(1, "readlink /var/www/blog.example.test/releases/*/wp-config.php | sort -u").trim(),
        "/var/www/blog.example.test/shared/wp-config.php"
    );

    // A release whose health check fails never goes live.
    let bad = static_site(&work.path().join("bad"), "Broken release", 2);
    let out = c.run(["deploy", "shop.example.test", "--from", bad.to_str().unwrap(), "--expect", "Release three"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("failed its health check"), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains(&format!("release {release2} keeps serving")), "{}", stderr_of(&out));
    assert_eq!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    assert_eq!(fleet.sh(0, "readlink /var/www/shop.example.test/current").trim(), format!("releases/{release2}"));
    let missing_page = static_site(&work.path().join("nopage"), "x", 0);
    let out = c.run([
        "deploy",
        "shop.example.test",
        "--from",
        missing_page.to_str().unwrap(),
        "--health-path",
        "/page1.html",
    ]);
    assert_eq!(out.status.code(), Some(10), "a 404 fails the check: {}", stderr_of(&out));
    let (show, _) = c.json(["site", "show", "shop.example.test"]);
    assert_eq!(show["site"]["current_release"], release2.as_str());
    let last = &show["deploys"][0];
    assert_eq!((last["state"].as_str(), last["step"].as_str()), (Some("failed"), Some("health")), "{show:#}");

    // Back to release 1, and forward to 2.
    let (back, status) = c.json(["rollback", "shop.example.test"]);
    assert_eq!(status, 0, "{back:#}");
    assert_eq!(back["current"], release1.as_str());
    assert_eq!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release one</h1>\n");
    let (fwd, _) = c.json(["rollback", "shop.example.test", "--to", &release2]);
    assert_eq!(fwd["current"], release2.as_str());
    assert_eq!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    let (show, _) = c.json(["site", "show", "shop.example.test"]);
    assert_eq!(show["site"]["current_release"], release2.as_str());
    let rb = &show["deploys"][1];
    assert_eq!(
        (rb["kind"].as_str(), rb["release_id"].as_str(), rb["state"].as_str()),
        (Some("rollback"), Some(release1.as_str()), Some("live"))
    );

    // Disable stops serving, enable brings it back; delete removes everything.
    c.ok(["site", "disable", "shop.example.test"]);
    assert_ne!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    c.ok(["site", "enable", "shop.example.test"]);
    assert_eq!(fleet.get(0, "shop.example.test", "/").1, "<!doctype html><h1>Release two</h1>\n");
    let out = c.run(["site", "delete", "blog.example.test"]);
    assert_eq!(out.status.code(), Some(2), "no terminal and no --yes: refused: {}", stderr_of(&out));
    c.ok(["site", "delete", "blog.example.test", "--yes"]);
    assert!(!fleet.sh(1, "ls /var/www /etc/nginx/sites-enabled").contains("blog.example.test"));
    assert!(fleet.sh(1, "id w_blog_example_test 2>&1 || true").contains("no such user"));
    assert!(!fleet.sh(1, "mysql -N -e 'SHOW DATABASES; SELECT user FROM mysql.user'").contains("w_blog"));
    assert_eq!(c.json(["site", "list"]).0.as_array().unwrap().len(), 1);
}

/// Two deploys of one site at once: the server-side lock lets one through
/// and refuses the other with a clear error; nothing is left half done.
/// The first one's build and post-deploy hooks run as the site user.
#[test]
fn one_deploy_at_a_time_per_site() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let r1 = static_site(&work.path().join("r1"), "One", 1);
    std::fs::create_dir_all(r1.join("hooks")).unwrap();
    std::fs::write(r1.join("hooks/slow.sh"), "sleep 3\n").unwrap();
    // Runs in the live release after the switch, as the site user (who
    // can write nothing of the release's or the site's base).
    std::fs::write(r1.join("hooks/after.sh"), "id -un > /tmp/post-hook.txt\n").unwrap();
    c.ok(["site", "create", "lock.example.test", "--kind", "static", "--server", "web0"]);
    // Three CLI processes on one data directory deploy the site at once:
    // the lease lets exactly one run, the others name it and change nothing.
    let racers: Vec<_> = (0..3)
        .map(|_| {
            c.command([
                "deploy",
                "lock.example.test",
                "--from",
                r1.to_str().unwrap(),
                "--build-hook",
                "hooks/slow.sh",
                "--post-hook",
                "hooks/after.sh",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let ended: Vec<_> = racers.into_iter().map(|r| r.wait_with_output().unwrap()).collect();
    let winners: Vec<_> = ended.iter().filter(|o| o.status.success()).collect();
    assert_eq!(winners.len(), 1, "{:?}", ended.iter().map(stderr_of).collect::<Vec<_>>());
    let deploys: Vec<serde_json::Value> =
        c.json(["jobs"]).0.as_array().unwrap().iter().filter(|j| j["kind"] == "deploy").cloned().collect();
    assert_eq!(deploys.len(), 1, "a refused deploy leaves no job: {deploys:?}");
    let holder = format!("job {} (deploy) by ", deploys[0]["id"]);
    for refused in ended.iter().filter(|o| !o.status.success()) {
        let err = stderr_of(refused);
        assert_eq!(refused.status.code(), Some(4), "{err}");
        assert!(err.contains("site lock.example.test is busy: ") && err.contains(&holder), "{err}");
    }
    // Another desktop (another data directory) holds the site's lock on
    // the server itself: a deploy from here names that holder too.
    fleet.sh(
        0,
        "cd /var/www/lock.example.test/.chom && echo 'job 7 (deploy) by op on other-desk, process 42' > holder \
         && setsid flock lock sleep 4 </dev/null >/dev/null 2>&1 & sleep 0.5",
    );
    let second = c.run(["deploy", "lock.example.test", "--from", r1.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(4), "{}", stderr_of(&second));
    let err = stderr_of(&second);
    assert!(err.contains("another deploy of lock.example.test is running"), "{err}");
    assert!(err.contains("its lock is held by job 7 (deploy) by op on other-desk"), "{err}");
    assert_eq!(fleet.get(0, "lock.example.test", "/").1, "<!doctype html><h1>One</h1>\n");
    assert_eq!(fleet.sh(0, "ls /var/www/lock.example.test/releases | wc -l").trim(), "2");
    assert_eq!(fleet.sh(0, "cat /tmp/post-hook.txt").trim(), "w_lock_example_test");
}

/// CHOM logged in as a user with passwordless sudo works as with root; a
/// user without it gets told so, and nothing changes on the server.
#[test]
fn sites_through_sudo_and_a_clear_refusal_without_it() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    fleet.sh(
        0,
        "for u in ops nosudo; do useradd -m -s /bin/sh $u && cp /etc/ssh/authorized_keys/root /etc/ssh/authorized_keys/$u; done; \
         echo 'ops ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ops",
    );
    let addr = fleet.lab.hosts()[0].addr.to_string();
    for (name, user) in [("as-ops", "ops"), ("as-nosudo", "nosudo")] {
        c.ok(["server", "add", name, "--host", &addr, "--user", user, "--key", "lab"]);
        c.ok(["server", "trust", name, "--trust-on-first-use"]);
    }
    let (created, status) = c.json(["site", "create", "sudo.example.test", "--kind", "static", "--server", "as-ops"]);
    assert_eq!(status, 0, "{created:#}");
    assert!(fleet.get(0, "sudo.example.test", "/").1.contains("sudo.example.test is ready"));
    assert_eq!(
        fleet.sh(0, "stat -c %U:%G /var/www/sudo.example.test/current/index.html").trim(),
        "root:n_sudo_example_test"
    );

    let before = fleet.server_listing(0);
    let out = c.run(["site", "create", "nope.example.test", "--kind", "static", "--server", "as-nosudo"]);
    assert_eq!(out.status.code(), Some(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nosudo can not run commands as root without a password"), "{err}");
    assert_eq!(before, fleet.server_listing(0));
    assert_eq!(c.json(["site", "list"]).0.as_array().unwrap().len(), 1);
}

/// A redeploy sends only what changed: the server links the unchanged
/// files from the live release once it finds them as that release
/// recorded them; files changed on the server since (appended to, or
/// rewritten in place at the same size) make the deploy start over with a
/// full upload, so what goes live is what was sent.
#[test]
fn redeploys_send_only_changes_and_verify_what_they_reuse() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let site = static_site(&work.path().join("site"), "Version one", 20);
    let dir = site.to_str().unwrap();
    c.ok(["site", "create", "delta.example.test", "--kind", "static", "--server", "web0", "--from", dir]);

    let (same, status) = c.json(["deploy", "delta.example.test", "--from", dir, "--expect", "Version one"]);
    assert_eq!(status, 0, "{same:#}");
    assert_eq!((same["sent_files"].as_u64(), same["reused_files"].as_u64()), (Some(0), Some(22)), "{same:#}");
    assert_eq!(fleet.get(0, "delta.example.test", "/page7.html").1, "<p>page 7 of Version one</p>\n");

    std::fs::write(site.join("index.html"), "<!doctype html><h1>Version two</h1>\n").unwrap();
    std::fs::remove_file(site.join("page3.html")).unwrap();
    let (changed, status) = c.json(["deploy", "delta.example.test", "--from", dir, "--expect", "Version two"]);
    assert_eq!(status, 0, "{changed:#}");
    assert_eq!((changed["sent_files"].as_u64(), changed["reused_files"].as_u64()), (Some(1), Some(20)), "{changed:#}");
    assert_eq!(fleet.get(0, "delta.example.test", "/").1, "<!doctype html><h1>Version two</h1>\n");
    assert_eq!(fleet.get(0, "delta.example.test", "/page3.html").0, 404, "a deleted file stays deleted");
    assert_eq!(fleet.get(0, "delta.example.test", "/page8.html").1, "<p>page 8 of Version one</p>\n");
    assert_eq!(fleet.get(0, "delta.example.test", "/.chom-manifest").0, 403, "the manifest is not served");

    // Someone edits the live release on the server: its files are no
    // longer what was sent, so the deploy uploads everything.
    fleet.sh(0, "echo tampered >> /var/www/delta.example.test/current/page9.html");
    let (full, status) = c.json(["deploy", "delta.example.test", "--from", dir, "--expect", "Version two"]);
    assert_eq!(status, 0, "{full:#}");
    assert_eq!((full["sent_files"].as_u64(), full["reused_files"].as_u64()), (Some(21), Some(0)), "{full:#}");
    assert_eq!(fleet.get(0, "delta.example.test", "/page9.html").1, "<p>page 9 of Version one</p>\n");
    let (show, _) = c.json(["site", "show", "delta.example.test"]);
    let retried = &show["deploys"][1];
    assert_eq!(retried["state"], "failed", "{show:#}");
    assert!(retried["message"].as_str().unwrap().contains("changed on the server since"), "{show:#}");

    // The same size, the same inode, one byte rewritten in place.
    let (again, _) = c.json(["deploy", "delta.example.test", "--from", dir, "--expect", "Version two"]);
    assert_eq!((again["sent_files"].as_u64(), again["reused_files"].as_u64()), (Some(0), Some(21)), "{again:#}");
    let page8 = "/var/www/delta.example.test/current/page8.html";
    fleet.sh(0, &format!("printf X | dd of={page8} bs=1 seek=3 conv=notrunc status=none"));
    assert_eq!(fleet.get(0, "delta.example.test", "/page8.html").1, "<p>Xage 8 of Version one</p>\n");
    let (full, status) = c.json(["deploy", "delta.example.test", "--from", dir, "--expect", "Version two"]);
    assert_eq!(status, 0, "{full:#}");
    assert_eq!((full["sent_files"].as_u64(), full["reused_files"].as_u64()), (Some(21), Some(0)), "{full:#}");
    assert_eq!(fleet.get(0, "delta.example.test", "/page8.html").1, "<p>page 8 of Version one</p>\n");
}
