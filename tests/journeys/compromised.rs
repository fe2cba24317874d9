//! A compromised site: an attacker runs commands as the site's Linux user
//! (a hacked plugin or route), plants something, and the operator then
//! works as usual from the desktop. Whatever the plant, nothing outside the
//! site changes (/etc, /root, /srv and the neighbouring site, by owner,
//! mode, link target and SHA-256), and each job either finishes safely or
//! stops with "site tampered".

use std::time::Duration;

use chom_tests::web::{diff, laravel_app, wordpress_tarball, WebFleet};
use chom_tests::{stderr_of, wait_until};

const APP: &str = "app.example.test";
const APP_USER: &str = "w_app_example_test";
const BASE: &str = "/var/www/app.example.test";
const BLOG: &str = "blog.example.test";
const BLOG_USER: &str = "w_blog_example_test";
const VICTIM: &str = "/srv/chom-victim-130";

/// Everything the compromised site must not reach: root's files, another
/// site's, and a folder of root's like the one the attack emptied.
/// The app's own files in /etc (its vhost, pool, cron entry) may change.
fn outside(fleet: &WebFleet) -> String {
    fleet.fingerprint(
        0,
        &["/etc", "/root", VICTIM, "/var/www/blog.example.test"],
        &[
            "/etc/nginx/sites-available/chom-app.example.test.conf*",
            "/etc/php/*/fpm/pool.d/chom-w_app_example_test.conf*",
            "/etc/cron.d/chom-w_app_example_test",
        ],
    )
}

/// Runs `plant` as the app's user, then deploys the app: the job finishes
/// or stops as tampered, and nothing outside the site changed. Returns
/// whether the plant itself worked (the layout refuses most).
fn plant_then_deploy(fleet: &WebFleet, release: &std::path::Path, what: &str, plant: &str) -> bool {
    let before = outside(fleet);
    let (planted, _) = fleet.sh_as(0, APP_USER, plant);
    let out = fleet.chom.run(["deploy", APP, "--from", release.to_str().unwrap()]);
    let err = stderr_of(&out);
    let finished = out.status.success();
    assert!(
        finished || err.contains("site tampered"),
        "{what}: the deploy neither finished nor stopped as tampered: {err}"
    );
    let after = outside(fleet);
    assert!(before == after, "{what}: changed outside the site:\n{}", diff(&before, &after));
    planted
}

#[test]
fn a_compromised_sites_user_reaches_nothing_of_roots_or_another_sites() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    fleet.sh(0, &format!("mkdir -p {VICTIM}/a {VICTIM}/b && echo keep > {VICTIM}/b/file && chmod 700 {VICTIM}/a"));
    let tarball = wordpress_tarball(work.path());
    let blog = ["site", "create", BLOG, "--kind", "wordpress", "--server", "web0", "--tarball"];
    let out = c.run(blog.into_iter().chain([tarball.to_str().unwrap(), "--wp-title", "Neighbour"]));
    assert!(out.status.success(), "{}", stderr_of(&out));
    let app = laravel_app(&work.path().join("app"), "1");
    let out = c.run(["site", "create", APP, "--kind", "laravel", "--server", "web0", "--from", app.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    // Every site has a user of its own: domains that differ only in `.`
    // and `-` too, and an account of the same name already on the server
    // is refused, not shared.
    for d in ["a-b.example.test", "a.b.example.test"] {
        c.ok(["site", "create", d, "--kind", "static", "--server", "web0"]);
    }
    let users = fleet.sh(0, "stat -c %U /var/www/a-b.example.test/shared/. /var/www/a.b.example.test/shared/. 2>&1; stat -c %G /var/www/a-b.example.test /var/www/a.b.example.test");
    assert_eq!(users, "root\nroot\nn_a__b_example_test\nn_a_b_example_test\n");
    fleet.sh(0, "useradd --system --no-create-home w_taken_example_test");
    let listing = fleet.server_listing(0);
    let out = c.run(["site", "create", "taken.example.test", "--kind", "static", "--server", "web0"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("a user named w_taken_example_test exists already"), "{}", stderr_of(&out));
    assert_eq!(listing, fleet.server_listing(0));
    for d in ["a-b.example.test", "a.b.example.test"] {
        c.ok(["site", "delete", d, "--yes"]);
    }

    // Who reads what: each site's user its own secrets only, nginx none.
    let reads = |user: &str, path: &str| {
        fleet.sh_as(0, user, &format!("if [ -d {path} ]; then ls {path}; else cat {path}; fi")).0
    };
    assert!(reads(APP_USER, &format!("{BASE}/shared/.env")), "the app reads its own .env");
    for path in [
        format!("{BASE}/shared/.env"),
        format!("{BASE}/current/bootstrap/cache/config.php"),
        format!("{BASE}/shared/storage/framework/sessions"),
        format!("{BASE}/shared/storage/logs"),
    ] {
        assert!(!reads(BLOG_USER, &path), "the blog's user reads {path}");
    }
    assert!(!reads(APP_USER, "/var/www/blog.example.test/shared/wp-config.php"));
    assert!(!reads("www-data", &format!("{BASE}/shared/.env")), "nginx reads the app's .env");
    assert!(!reads("www-data", "/var/www/blog.example.test/shared/wp-config.php"));
    // Nor through nginx: a link the app's user plants in its public
    // storage serves nothing of the blog's; its own upload is served.
    let public = format!("{BASE}/shared/storage/app/public");
    let target = "/var/www/blog.example.test/current/wp-includes/version.php";
    assert!(fleet.sh_as(0, APP_USER, &format!("echo mine > {public}/own.txt && ln -s {target} {public}/leak.txt")).0);
    assert_eq!(fleet.get(0, APP, "/storage/own.txt"), (200, "mine\n".into()));
    let (code, body) = fleet.get(0, APP, "/storage/leak.txt");
    assert!(code != 200 && !body.contains("wp_version"), "HTTP {code}: {body}");

    // Plants where CHOM's own files are: the layout refuses every one.
    let release = laravel_app(&work.path().join("r2"), "2");
    for (what, plant) in [
        ("releases -> /srv", format!("cd {BASE} && mv releases releases.mine && ln -s {VICTIM} releases")),
        ("shared -> /etc", format!("cd {BASE} && mv shared shared.mine && ln -s /etc shared")),
        ("a shared path -> /etc", format!("cd {BASE}/shared && mv storage storage.mine && ln -s /etc storage")),
        (".chom -> /root", format!("cd {BASE} && mv .chom chom.mine && ln -s /root .chom")),
        ("the lock -> /etc/passwd", format!("ln -sf /etc/passwd {BASE}/.chom/lock")),
        ("current -> /etc", format!("ln -sfn /etc {BASE}/current")),
        ("next -> /etc", format!("ln -sfn /etc {BASE}/next")),
        ("a hard link in the live release", format!("ln {VICTIM}/b/file {BASE}/current/victim")),
        ("a live release's code", format!("echo pwned > {BASE}/current/public/index.php")),
        ("a .curlrc in the site's base", format!("printf 'output = /etc/chom-pwned\\n' > {BASE}/.curlrc")),
    ] {
        assert!(!plant_then_deploy(&fleet, &release, what, &plant), "{what}: the site's user could plant it");
    }
    // Plants where the site's user may write: root never reads them.
    for (what, plant) in [
        ("links in storage", format!("ln -s /etc {BASE}/shared/storage/framework/views/etc && ln -s /etc/shadow {BASE}/shared/storage/logs/evil.log")),
        ("a link in bootstrap/cache", format!("ln -sf /etc/shadow {BASE}/current/bootstrap/cache/config.php")),
        (".curlrc, .gitconfig, composer config", format!("cd {BASE}/shared/storage && printf 'output = /etc/chom-pwned\\n' > .curlrc && printf '[core]\\n\\tfsmonitor = touch /etc/chom-pwned\\n' > .gitconfig && mkdir -p .composer && echo '{{\"config\":{{\"bin-dir\":\"/etc\"}}}}' > .composer/config.json")),
        ("files in /tmp", "printf 'output = /etc/chom-pwned\\n' > /tmp/.curlrc && ln -s /etc /tmp/chom-build".to_owned()),
    ] {
        assert!(plant_then_deploy(&fleet, &release, what, &plant), "{what}: the plant itself failed");
    }
    assert!(fleet.get(0, APP, "/").1.contains("release: 2"));
    assert!(fleet.sh(0, "ls /etc/chom-pwned 2>&1").contains("No such file"));
    next_is_only_for_chom(&fleet);

    forged_results_change_nothing_but_the_log(&fleet, work.path());
    dashboard_updates_are_off_by_default_and_taken_back(&fleet, &tarball);
    every_other_action_stays_inside_the_site(&fleet, work.path());
}

/// WordPress's plugins and themes are root's unless the operator allows
/// updates from the dashboard; then the site's user writes them, and when
/// turned off again, what it wrote is taken back as data: a link it
/// planted stays its own, so nginx serves nothing of root's through it.
fn dashboard_updates_are_off_by_default_and_taken_back(fleet: &WebFleet, tarball: &std::path::Path) {
    let c = &fleet.chom;
    let plugins = "/var/www/blog.example.test/current/wp-content/plugins";
    let owner = |path: &str| fleet.sh(0, &format!("stat -c %U {path}")).trim().to_owned();
    assert_eq!(owner(plugins), "root");
    let plant = format!(
        "mkdir {plugins}/mine && echo '<?php' > {plugins}/mine/mine.php && ln -s /etc/passwd {plugins}/mine/passwd.txt"
    );
    assert!(!fleet.sh_as(0, BLOG_USER, &plant).0, "plugins are root's by default");
    assert_eq!(c.json(["site", "show", BLOG]).0["site"]["dashboard_updates"], false);

    // Here the blog is the site that changes; the app is the neighbour.
    let outside = |f: &WebFleet| {
        f.fingerprint(
            0,
            &["/etc", "/root", VICTIM, BASE],
            &[
                "/etc/nginx/sites-available/chom-blog.example.test.conf*",
                "/etc/php/*/fpm/pool.d/chom-w_blog_example_test.conf*",
            ],
        )
    };
    let before = outside(fleet);
    c.ok(["site", "dashboard-updates", BLOG, "on"]);
    assert_eq!(owner(plugins), BLOG_USER);
    let (planted, said) = fleet.sh_as(0, BLOG_USER, &plant);
    assert!(planted, "{said}");
    let passwd = fleet.sh(0, "cat /etc/passwd");
    let through_nginx = || fleet.get(0, BLOG, "/wp-content/plugins/mine/passwd.txt");
    assert_ne!(through_nginx().1, passwd);
    // A new release gets writable plugins too; the operator's own come with it.
    let out = c.run(["deploy", BLOG, "--tarball", tarball.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(owner(plugins), BLOG_USER);
    assert!(fleet.sh(0, &format!("ls {plugins}")).contains("akismet"), "the release's own plugins");

    c.ok(["site", "dashboard-updates", BLOG, "off"]);
    assert_eq!(c.json(["site", "show", BLOG]).0["site"]["dashboard_updates"], false);
    let releases = "/var/www/blog.example.test/releases";
    let dirs = fleet.sh(0, &format!("stat -c %U {releases}/*/wp-content/plugins {releases}/*/wp-content/themes"));
    assert!(dirs.lines().count() >= 4 && dirs.lines().all(|l| l == "root"), "{dirs}");
    let links = fleet.sh(0, &format!("find {releases} -path '*/plugins/mine/passwd.txt' -printf '%u %y\\n'"));
    assert!(!links.is_empty() && links.lines().all(|l| l == format!("{BLOG_USER} l")), "{links}");
    assert_ne!(through_nginx().1, passwd);
    assert!(!fleet.sh_as(0, BLOG_USER, &format!("touch {plugins}/again")).0, "root's again");
    assert_eq!(before, outside(fleet));
}

/// A release under check (`next`) is served only with the site's preview
/// token, which is root's: a local request with the old header or a
/// guessed token gets the live release.
fn next_is_only_for_chom(fleet: &WebFleet) {
    fleet.sh(
        0,
        &format!(
            "set -e; r={BASE}/releases/zz-next; mkdir -p $r/public; echo NEXT > $r/public/index.php; \
             chown -R root:n_app_example_test $r; chmod -R g+rX $r; ln -sfn releases/zz-next {BASE}/next"
        ),
    );
    let get = |who: &str, header: &str| {
        let curl = format!("curl -s -H 'Host: {APP}' -H {} http://127.0.0.1/", chom_tests::web::sh_quote(header));
        if who == "root" {
            fleet.sh(0, &curl)
        } else {
            fleet.sh_as(0, who, &curl).1
        }
    };
    let token = fleet.sh(0, &format!("cat {BASE}/.chom/preview"));
    assert_eq!(get("root", &format!("X-Chom-Preview: {}", token.trim())), "NEXT\n", "the token reaches next");
    for header in ["X-Chom-Preview: 1", "X-Chom-Preview: 00000000000000000000000000000000"] {
        for who in [APP_USER, BLOG_USER, "root"] {
            let body = get(who, header);
            assert!(body.contains("release: 2"), "{who} with {header}: {body}");
        }
    }
    assert!(!fleet.sh_as(0, APP_USER, &format!("cat {BASE}/.chom/preview")).0);
    fleet.sh(0, &format!("rm -rf {BASE}/next {BASE}/releases/zz-next"));
}

/// A build hook prints result lines of the old, untokened form and
/// leaves processes behind holding what it got: the deploy records the
/// real release, the processes end with the step, the lock is free.
fn forged_results_change_nothing_but_the_log(fleet: &WebFleet, dir: &std::path::Path) {
    let c = &fleet.chom;
    let app = laravel_app(&dir.join("forged"), "forged");
    std::fs::create_dir_all(app.join("hooks")).unwrap();
    std::fs::write(
        app.join("hooks/build.sh"),
        "echo '@@chom value release 19990101-000000-000-dead'\n\
         echo '@@chom value pid 1'\n\
         printf '@@chom value current evil'\n\
         (sleep 3001 &)\n\
         nohup sleep 3002 >/dev/null 2>&1 &\n",
    )
    .unwrap();
    let before = outside(fleet);
    let (d, status) = c.json(["deploy", APP, "--from", app.to_str().unwrap(), "--build-hook", "hooks/build.sh"]);
    assert_eq!(status, 0, "{d:#}");
    let release = d["release"].as_str().unwrap();
    assert!(!release.starts_with("1999"), "{d:#}");
    assert_eq!(c.json(["site", "show", APP]).0["site"]["current_release"], release);
    assert_eq!(fleet.sh(0, &format!("readlink {BASE}/current")).trim(), format!("releases/{release}"));
    assert_eq!(
        fleet.sh(0, "pgrep -u w_app_example_test -f 'sleep 300[12]' || true"),
        "",
        "the hook's processes outlived it"
    );
    assert_eq!(before, outside(fleet));

    // A forged PID on a time-out: only the script's own processes are stopped.
    let bystander = fleet.sh(0, "setsid sleep 3333 >/dev/null 2>&1 & echo $!").trim().to_owned();
    std::fs::write(app.join("hooks/stuck.sh"), format!("echo '@@chom value pid {bystander}'\nsleep 3004\n")).unwrap();
    let out = c.run([
        "--script-timeout",
        "3",
        "deploy",
        APP,
        "--from",
        app.to_str().unwrap(),
        "--build-hook",
        "hooks/stuck.sh",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    wait_until("the stuck hook stopped", Duration::from_secs(10), || {
        fleet.sh(0, "pgrep -f '^sleep 3004' || true").is_empty()
    });
    assert!(fleet.sh(0, &format!("kill -0 {bystander} && echo alive")).contains("alive"), "a forged PID was killed");
    fleet.sh(0, &format!("kill {bystander}"));
    // The lock is free at once: nothing of the hooks holds it.
    let (d, status) = c.json(["deploy", APP, "--from", app.to_str().unwrap()]);
    assert_eq!(status, 0, "{d:#}");
}

/// Rollback, disable and enable, repair, setup again, a deploy from git,
/// then delete, with the site's user still hostile: nothing outside moves,
/// and delete ends the user's processes and removes it.
fn every_other_action_stays_inside_the_site(fleet: &WebFleet, _dir: &std::path::Path) {
    let c = &fleet.chom;
    let before = outside(fleet);
    let (back, status) = c.json(["rollback", APP]);
    assert_eq!(status, 0, "{back:#}");
    for action in [["site", "disable", APP], ["site", "enable", APP], ["site", "repair", APP]] {
        let out = c.run(action);
        assert!(out.status.success(), "{action:?}: {}", stderr_of(&out));
    }
    let (repaired, _) = c.json(["site", "repair", APP]);
    assert_eq!(repaired["changed"], serde_json::json!([]), "{repaired:#}");
    assert_eq!(before, outside(fleet));
    let out = c.run(["server", "setup", "web0"]);
    assert!(out.status.success(), "{}", stderr_of(&out));

    // The site's user keeps a process running; delete ends it.
    fleet.sh(0, "runuser -u w_app_example_test -- setsid sleep 3005 >/dev/null 2>&1 &");
    let blog = fleet.fingerprint(0, &["/var/www/blog.example.test", VICTIM, "/root"], &[]);
    let out = c.run(["site", "delete", APP, "--yes"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(fleet.sh(0, "pgrep -f '^sleep 3005' || true"), "");
    assert!(fleet
        .sh(0, "id w_app_example_test 2>&1; getent group n_app_example_test || echo none")
        .contains("no such user"));
    assert!(fleet.sh(0, &format!("ls -d {BASE} 2>&1")).contains("No such file"));
    assert_eq!(blog, fleet.fingerprint(0, &["/var/www/blog.example.test", VICTIM, "/root"], &[]));
    assert!(fleet.get(0, BLOG, "/").1.contains("Neighbour"), "the neighbour still serves");
}
