//! Restores into the same site (real restic, real MariaDB, WordPress and
//! Laravel): files and rows come back exactly as backed up, the site
//! serves, undo switches back and forth; a restore that fails its check
//! leaves the site as it was; a database-only restore leaves the files;
//! what the site's user planted is neither followed nor written through.

use chom_tests::stderr_of;
use chom_tests::web::{laravel_app, wordpress_tarball, WebFleet};

const WP: &str = "blog.example.test";
const WP_USER: &str = "w_blog_example_test";
const APP: &str = "app.example.test";
const APP_USER: &str = "w_app_example_test";

/// What a restore must bring back, as content: every file of `shared/`
/// (path and SHA-256; owners and modes are CHOM's, not the backup's) but
/// Laravel's caches of compiled views (made by page views), the live
/// release's files (but .chom-files: the inodes a deploy recorded for the
/// next one, which a restore's new files never have), and the database's
/// rows.
fn state(fleet: &WebFleet, domain: &str, db: &str) -> String {
    let base = format!("/var/www/{domain}");
    let options = wp_options(db);
    fleet.sh(
        0,
        &format!(
            "cd {base}/shared && find . -xdev -path ./storage/framework -prune -o \\( -type f -o -type l \\) -printf '%p %y %l\\n' | sort; \
             find . -xdev -path ./storage/framework -prune -o -type f -exec sha256sum {{}} + | sort; \
             cd {base}/current/ && find . -xdev \\( -path ./bootstrap/cache -o -path ./.chom-files \\) -prune -o -type f \
               -exec sha256sum {{}} + | sort | sha256sum; \
             mysqldump --no-create-info --skip-dump-date --skip-comments --skip-extended-insert --order-by-primary \
               --ignore-table={db}.wp_options {db} | sha256sum; {options}"
        ),
    )
}

/// WordPress's options but what every page view may rewrite (its cron
/// schedule and transients): the restore's health checks are page views.
fn wp_options(db: &str) -> String {
    if db != WP_USER {
        return String::new();
    }
    format!(
        "mysql -N -e \"SELECT option_name, option_value FROM {db}.wp_options \
         WHERE option_name <> 'cron' AND option_name NOT LIKE '%transient%' ORDER BY option_name\" | sha256sum"
    )
}

fn live_release(fleet: &WebFleet, domain: &str) -> String {
    fleet.sh(0, &format!("readlink /var/www/{domain}/current")).trim().trim_start_matches("releases/").to_owned()
}

#[test]
fn wordpress_and_laravel_sites_are_restored_undone_and_redone() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    c.ok(["site", "create", WP, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    let app1 = laravel_app(&work.path().join("r1"), "1");
    c.ok([
        "site",
        "create",
        APP,
        "--kind",
        "laravel",
        "--server",
        "web0",
        "--from",
        app1.to_str().unwrap(),
        "--health-path",
        "/health",
        "--expect",
        "ok",
    ]);
    let uploads = format!("/var/www/{WP}/shared/wp-content/uploads");
    let storage = format!("/var/www/{APP}/shared/storage/app");
    // State A, with what a hostile site's user plants: a link to root's secrets.
    assert!(fleet.sh_as(0, WP_USER, &format!("echo A > {uploads}/note.txt && ln -s /etc/shadow {uploads}/shadow")).0);
    assert!(fleet.sh_as(0, APP_USER, &format!("echo A > {storage}/note.txt && ln -s /etc {storage}/etc")).0);
    // WordPress adds options at its first page views: made before state A,
    // so the restore's own checks (page views) find them there.
    for _ in 0..2 {
        assert_eq!(fleet.get(0, WP, "/").0, 200);
    }
    let wp_a = state(&fleet, WP, WP_USER);
    let app_a = state(&fleet, APP, APP_USER);
    let wp_release_a = live_release(&fleet, WP);
    let wp_backup = c.json_ok(["backup", "create", WP])["id"].to_string();
    let app_backup = c.json_ok(["backup", "create", APP])["id"].to_string();

    // State B: files, rows and (Laravel) the release change.
    assert!(fleet.sh_as(0, WP_USER, &format!("echo B > {uploads}/note.txt && echo new > {uploads}/b.txt")).0);
    fleet.sh(
        0,
        &format!(
            "mysql -e \"UPDATE {WP_USER}.wp_options SET option_value = 'B' WHERE option_name = 'blogdescription'\""
        ),
    );
    assert!(fleet.sh_as(0, APP_USER, &format!("echo B > {storage}/note.txt && rm {storage}/etc")).0);
    fleet.sh(0, &format!("mysql -e \"UPDATE {APP_USER}.greetings SET message = 'Hello B'\""));
    let app2 = laravel_app(&work.path().join("r2"), "2");
    c.ok(["deploy", APP, "--from", app2.to_str().unwrap(), "--health-path", "/health", "--expect", "ok"]);
    let (code, body) = fleet.get(0, APP, "/");
    assert!(code == 200 && body.contains("Hello B") && body.contains("release: 2"), "{code} {body}");
    // Before the restore, the site's user plants a link where the
    // restore will write, pointing out of the site.
    assert!(fleet.sh_as(0, APP_USER, &format!("ln -s /etc/cron.d {storage}/restored")).0);
    let wp_b = state(&fleet, WP, WP_USER);
    let app_b = state(&fleet, APP, APP_USER);
    assert_ne!(wp_a, wp_b);
    let etc_before = fleet.sh(0, "ls -la /etc /etc/cron.d; sha256sum /etc/shadow");

    // A restore whose check fails changes nothing: the site serves B.
    let out = c.run(["backup", "restore", &app_backup, "--health-path", "/health", "--health-text", "not on the page"]);
    assert_ne!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("without the expected text"), "{}", stderr_of(&out));
    assert_eq!(state(&fleet, APP, APP_USER), app_b, "a failed restore leaves the site as it was");
    assert_eq!(fleet.sh(0, "mysql -N -e \"SHOW DATABASES LIKE 'chom\\_%'\""), "", "no scratch database left");
    let loaders = fleet.sh(0, "mysql -N -e \"SELECT user FROM mysql.user WHERE user LIKE 'chom%'\"");
    assert_eq!(loaders, "", "the dump's loading user went with the load");

    // Restored: files, release and rows exactly as backed up, and it serves.
    let r = c.json_ok(["backup", "restore", &wp_backup]);
    assert_ne!(r["release"].as_str().unwrap(), wp_release_a, "a restore is a new release: {r:#}");
    assert_eq!(state(&fleet, WP, WP_USER), wp_a, "WordPress as backed up");
    assert_eq!(fleet.get(0, WP, "/").0, 200);
    let r = c.json_ok(["backup", "restore", &app_backup, "--health-path", "/health", "--health-text", "ok"]);
    assert_eq!(state(&fleet, APP, APP_USER), app_a, "Laravel as backed up");
    let (code, body) = fleet.get(0, APP, "/");
    assert!(
        code == 200 && body.contains("Hello from Laravel and MariaDB") && body.contains("release: 1"),
        "{code} {body}"
    );
    assert_eq!(
        c.json_ok(["site", "show", APP])["site"]["current_release"],
        r["release"],
        "the cache knows what serves"
    );
    // The planted links came back as links of the site's user, followed by no one.
    assert_eq!(
        fleet.sh(0, &format!("stat -c '%F %U' {uploads}/shadow {storage}/etc")),
        format!("symbolic link {WP_USER}\nsymbolic link {APP_USER}\n")
    );
    assert_eq!(
        fleet.sh(0, "ls -la /etc /etc/cron.d; sha256sum /etc/shadow"),
        etc_before,
        "nothing written outside the sites"
    );
    // Owners as CHOM makes them.
    assert_eq!(
        fleet.sh(0, &format!("stat -c '%U:%G %a' /var/www/{WP}/shared /var/www/{WP}/shared/wp-config.php {uploads} {uploads}/note.txt")),
        format!("root:n_blog_example_test 750\nroot:{WP_USER} 640\n{WP_USER}:n_blog_example_test 2750\n{WP_USER}:{WP_USER} 640\n")
    );

    // Undo: B again (release 2, its rows, its files); undo again: A.
    let u = c.json_ok(["backup", "undo", APP]);
    assert_eq!(state(&fleet, APP, APP_USER), app_b, "undo brings back what served before: {u:#}");
    let (code, body) = fleet.get(0, APP, "/");
    assert!(code == 200 && body.contains("Hello B") && body.contains("release: 2"), "{code} {body}");
    c.ok(["backup", "undo", APP]);
    assert_eq!(state(&fleet, APP, APP_USER), app_a, "undo of the undo is the restore");
    c.ok(["backup", "undo", WP]);
    assert_eq!(state(&fleet, WP, WP_USER), wp_b);
    c.ok(["backup", "undo", WP]);
    assert_eq!(state(&fleet, WP, WP_USER), wp_a);

    // Database only: rows as backed up, files as they are now.
    assert!(fleet.sh_as(0, WP_USER, &format!("echo C > {uploads}/note.txt")).0);
    fleet.sh(
        0,
        &format!(
            "mysql -e \"UPDATE {WP_USER}.wp_options SET option_value = 'C' WHERE option_name = 'blogdescription'\""
        ),
    );
    c.ok(["backup", "restore", &wp_backup, "--database"]);
    let desc = fleet.sh(
        0,
        &format!("mysql -N -e \"SELECT option_value FROM {WP_USER}.wp_options WHERE option_name = 'blogdescription'\""),
    );
    assert_ne!(desc.trim(), "C", "the row is as backed up");
    assert_eq!(fleet.sh(0, &format!("cat {uploads}/note.txt")), "C\n", "the files are untouched");
    c.ok(["backup", "undo", WP]);
    let desc = fleet.sh(
        0,
        &format!("mysql -N -e \"SELECT option_value FROM {WP_USER}.wp_options WHERE option_name = 'blogdescription'\""),
    );
    assert_eq!(desc.trim(), "C");

    // A table the site's user named to break out of CHOM's quoting: the
    // undo refuses it and changes nothing.
    fleet.sh(0, &format!("mysql -e 'CREATE TABLE {WP_USER}.`x``; DROP DATABASE mysql; --` (i INT)'"));
    let before = state(&fleet, WP, WP_USER);
    let out = c.run(["backup", "undo", WP]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("which CHOM does not quote"), "{}", stderr_of(&out));
    assert_eq!(state(&fleet, WP, WP_USER), before);
    assert!(fleet.sh(0, "mysql -N -e 'SHOW DATABASES'").lines().any(|l| l == "mysql"));
    fleet.sh(0, &format!("mysql -e 'DROP TABLE {WP_USER}.`x``; DROP DATABASE mysql; --`'"));

    // After a deploy, an undo would lose it: refused.
    let app3 = laravel_app(&work.path().join("r3"), "3");
    c.ok(["deploy", APP, "--from", app3.to_str().unwrap(), "--health-path", "/health", "--expect", "ok"]);
    let out = c.run(["backup", "undo", APP]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("changed since its restore"), "{}", stderr_of(&out));

    // Hostile and wrong input is refused before anything runs.
    for args in [
        vec!["backup", "restore", "99999"],
        vec!["backup", "restore", &wp_backup, "--health-path", "../../etc/shadow"],
        vec!["backup", "restore", &wp_backup, "--health-text", "a\nb"],
        vec!["backup", "restore", "1;id"],
        vec!["backup", "undo", "../etc"],
    ] {
        let out = c.run(&args);
        assert!(matches!(out.status.code(), Some(2) | Some(3)), "{args:?}: {}", stderr_of(&out));
    }
}

/// A WordPress backup restored as a new site on the other server: it
/// serves the same pages from its own database (its own credentials, its
/// own address), and the backed-up site is untouched. The same backup
/// downloaded: tar files and SQL on this computer, and uploaded back as a
/// third site.
#[test]
fn a_backup_restored_as_a_new_site_on_another_server_serves_from_its_own_database() {
    let fleet = WebFleet::start(2);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    c.ok(["site", "create", WP, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    let uploads = format!("/var/www/{WP}/shared/wp-content/uploads");
    assert!(fleet.sh_as(0, WP_USER, &format!("echo A > {uploads}/note.txt && ln -s /etc/shadow {uploads}/shadow")).0);
    fleet.sh(
        0,
        &format!("mysql -e \"UPDATE {WP_USER}.wp_options SET option_value = 'Blog A' WHERE option_name = 'blogname'\""),
    );
    let backup = c.json_ok(["backup", "create", WP])["id"].to_string();
    let source_before = state(&fleet, WP, WP_USER);

    const COPY: &str = "copy.example.test";
    const COPY_USER: &str = "w_copy_example_test";
    let r = c.json_ok(["backup", "restore", &backup, "--to", COPY, "--server", "web1"]);
    assert_eq!(r["domain"], COPY, "{r:#}");
    assert_eq!(c.json_ok(["site", "show", COPY])["site"]["server"], "web1");
    let (code, body) = fleet.get(1, COPY, "/");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("<title>Blog A"), "the same pages: {}", &body[..body.len().min(400)]);
    let query = |q: &str| fleet.sh(1, &format!("mysql -N -e \"{q}\"")).trim().to_owned();
    assert_eq!(
        query(&format!("SELECT option_value FROM {COPY_USER}.wp_options WHERE option_name = 'blogname'")),
        "Blog A"
    );
    assert_eq!(
        query(&format!("SELECT option_value FROM {COPY_USER}.wp_options WHERE option_name = 'home'")),
        format!("http://{COPY}")
    );
    // Its own credentials: its wp-config names its own database and user.
    let config = fleet.sh(1, &format!("cat /var/www/{COPY}/shared/wp-config.php"));
    assert!(config.contains(&format!("define('DB_NAME', '{COPY_USER}')")) && !config.contains(WP_USER), "{config}");
    assert_eq!(fleet.sh(1, &format!("cat /var/www/{COPY}/shared/wp-content/uploads/note.txt")), "A\n");
    assert_eq!(
        fleet.sh(1, &format!("stat -c '%F %U' /var/www/{COPY}/shared/wp-content/uploads/shadow")),
        format!("symbolic link {COPY_USER}\n"),
        "a planted link stays a link of the new site's user"
    );
    assert_eq!(state(&fleet, WP, WP_USER), source_before, "the backed-up site is untouched");
    // Nothing of the transfer is left: no export on web0, no inbox on web1, no folder here.
    assert_eq!(fleet.sh(0, "ls /var/backups/chom/export 2>/dev/null"), "");
    assert_eq!(fleet.sh(1, "ls /var/backups/chom/import 2>/dev/null"), "");
    let leftovers: Vec<_> = std::fs::read_dir(c.data_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("restore-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Downloaded: the release and shared/ as tar files, the dump as SQL.
    let into = work.path().join("download");
    let d = c.json_ok(["backup", "download", &backup, "--to", into.to_str().unwrap()]);
    assert_eq!(d["files"].as_array().unwrap().len(), 4, "{d:#}");
    let list = |f: &str| {
        String::from_utf8(std::process::Command::new("tar").arg("-tvf").arg(into.join(f)).output().unwrap().stdout)
            .unwrap()
    };
    assert!(list("release.tar").contains("./wp-login.php"), "{}", list("release.tar"));
    assert!(list("shared.tar").contains("./wp-content/uploads/note.txt"), "{}", list("shared.tar"));
    let sql = std::fs::read_to_string(into.join("database.sql")).unwrap();
    assert!(sql.contains("Blog A") && sql.contains("CREATE TABLE `wp_options`"));
    assert_eq!(fleet.sh(0, "ls /var/backups/chom/export 2>/dev/null"), "");

    // And back: the downloaded files restored as a third site, on web0.
    const THIRD: &str = "third.example.test";
    c.json_ok(["backup", "upload", into.to_str().unwrap(), "--to", THIRD, "--server", "web0"]);
    let (code, body) = fleet.get(0, THIRD, "/");
    assert!(code == 200 && body.contains("<title>Blog A"), "{code} {}", &body[..body.len().min(400)]);
    let third_db = fleet
        .sh(0, "mysql -N -e \"SELECT option_value FROM w_third_example_test.wp_options WHERE option_name = 'home'\"");
    assert_eq!(third_db.trim(), format!("http://{THIRD}"));
    assert_eq!(fleet.sh(0, "ls /var/backups/chom/import 2>/dev/null"), "", "the inbox went with the restore");
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for args in [
        vec!["backup", "upload", empty.to_str().unwrap(), "--to", THIRD],
        vec!["backup", "upload", into.to_str().unwrap(), "--to", "fourth.example.test"],
    ] {
        let out = c.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
    }

    // Into itself, or with --database, is refused before anything runs.
    for args in [vec!["backup", "restore", &backup, "--to", WP], vec!["backup", "restore", &backup, "--to", "../x"]] {
        let out = c.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
    }
}

/// A Laravel backup restored as a new site on the same server: it serves
/// the backed-up rows from its own database, with its own credentials and
/// the backup's APP_KEY; the backed-up site and its database are untouched.
#[test]
fn a_laravel_backup_restored_as_a_new_site_on_the_same_server() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let app = laravel_app(&work.path().join("app"), "1");
    let health = ["--health-path", "/health", "--expect", "ok"];
    let mut create =
        vec!["site", "create", APP, "--kind", "laravel", "--server", "web0", "--from", app.to_str().unwrap()];
    create.extend(health);
    c.ok(&create);
    fleet.sh(0, &format!("mysql -e \"UPDATE {APP_USER}.greetings SET message = 'Hello from the backup'\""));
    let backup = c.json_ok(["backup", "create", APP])["id"].to_string();
    let source_before = state(&fleet, APP, APP_USER);

    const COPY: &str = "copy.example.test";
    const COPY_USER: &str = "w_copy_example_test";
    c.json_ok(["backup", "restore", &backup, "--to", COPY, "--health-path", "/health", "--health-text", "ok"]);
    let (code, body) = fleet.get(0, COPY, "/");
    assert!(code == 200 && body.contains("Hello from the backup") && body.contains("release: 1"), "{code} {body}");
    let env = |base: &str| fleet.sh(0, &format!("cat /var/www/{base}/shared/.env"));
    let (copy_env, source_env) = (env(COPY), env(APP));
    let line = |env: &str, key: &str| env.lines().find(|l| l.starts_with(key)).unwrap_or("").to_owned();
    assert_eq!(line(&copy_env, "DB_DATABASE="), format!("DB_DATABASE={COPY_USER}"));
    assert_ne!(line(&copy_env, "DB_PASSWORD="), line(&source_env, "DB_PASSWORD="), "its own credentials");
    assert_eq!(line(&copy_env, "APP_KEY="), line(&source_env, "APP_KEY="), "the backup's key, for its encrypted data");
    let rows = fleet.sh(0, &format!("mysql -N -e 'SELECT message FROM {COPY_USER}.greetings'"));
    assert_eq!(rows.trim(), "Hello from the backup");
    assert_eq!(state(&fleet, APP, APP_USER), source_before, "the backed-up site is untouched");
    assert_eq!(fleet.sh(0, "ls /var/backups/chom/export 2>/dev/null"), "", "the export went with the restore");
}
