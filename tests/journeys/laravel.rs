//! A Laravel site: deployed from a folder, then from a git repository the
//! server fetches itself; composer install, migrations against MariaDB,
//! storage link, caches, the scheduler's cron entry.

use std::os::unix::process::CommandExt;
use std::process::Command;

use chom_tests::stderr_of;
use chom_tests::web::{laravel_app, WebFleet};

#[test]
fn laravel_site_reads_its_database_and_deploys_from_folder_and_git() {
    let fleet = WebFleet::start(2);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let app1 = laravel_app(&work.path().join("r1"), "1");
    let (created, status) = c.json([
        "site",
        "create",
        "app.example.test",
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
    assert_eq!(status, 0, "{created:#}");
    let release1 = created["deploy"]["release"].as_str().unwrap().to_owned();
    let (code, body) = fleet.get(0, "app.example.test", "/");
    assert_eq!(code, 200, "{body}");
    // The greeting comes from the table the migration filled.
    assert!(body.contains("<h1>Hello from Laravel and MariaDB</h1>") && body.contains("release: 1"), "{body}");
    let rows = fleet.sh(0, "mysql -N -e 'SELECT message FROM w_app_example_test.greetings'");
    assert_eq!(rows.trim(), "Hello from Laravel and MariaDB");
    assert_ne!(fleet.get(1, "app.example.test", "/").0, 200, "web1 must not serve it");

    // The PHP-FPM pool runs as the site user; .env and storage are shared.
    let fpm = fleet.sh(0, "ps -o user= -C php-fpm8.2 | sort -u");
    assert!(fpm.lines().any(|u| u.trim() == "w_app_example_test"), "{fpm}");
    let base = "/var/www/app.example.test";
    assert_eq!(fleet.sh(0, &format!("readlink {base}/current/.env")).trim(), format!("{base}/shared/.env"));
    assert_eq!(fleet.sh(0, &format!("readlink {base}/current/storage")).trim(), format!("{base}/shared/storage"));
    assert!(fleet.sh(0, &format!("ls {base}/current/bootstrap/cache")).contains("config.php"));
    // The app ships no vendor/: the deploy ran `composer install --no-dev`.
    assert!(!app1.join("vendor").exists());
    assert!(fleet.sh(0, &format!("ls {base}/current/vendor/composer")).contains("autoload_static.php"));
    let env = fleet.sh(0, &format!("cat {base}/shared/.env"));
    assert!(env.contains("DB_DATABASE=w_app_example_test") && env.contains("APP_KEY=base64:"), "{env}");
    let password = env.lines().find_map(|l| l.strip_prefix("DB_PASSWORD=")).unwrap().to_owned();
    for file in chom_tests::web::data_files(c.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.windows(password.len()).any(|w| w == password.as_bytes()), "DB password in {}", file.display());
    }

    // The scheduler's cron entry runs `schedule:run` as the site user.
    let cron = fleet.sh(0, "cat /etc/cron.d/chom-w_app_example_test");
    let line = cron.lines().find(|l| l.contains("schedule:run")).expect("scheduler entry");
    let command = line.splitn(7, ' ').nth(6).unwrap();
    fleet.sh(0, &format!("runuser -u w_app_example_test -- sh -c '{command}'"));
    assert!(!fleet.sh(0, &format!("cat {base}/shared/storage/logs/schedule.log")).is_empty());

    // Release 2 from a git repository, fetched by the server over git://
    // from this machine's end of the host's veth.
    let repo = work.path().join("git");
    std::fs::create_dir_all(&repo).unwrap();
    let app2 = laravel_app(&repo.join("app.git"), "2");
    let git = |args: &[&str]| {
        let st = Command::new("git").arg("-C").arg(&app2).args(args).status().unwrap();
        assert!(st.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.test", "add", "-A"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "release 2"]);
    let out = Command::new("git").arg("-C").arg(&app2).args(["rev-parse", "HEAD"]).output().unwrap();
    let first_commit = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // main moves on: the first commit is no branch's tip any more.
    std::fs::write(app2.join("RELEASE"), "2-tip\n").unwrap();
    git(&["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qam", "release 2-tip"]);
    let gateway = fleet.lab.hosts()[0].gateway().to_string();
    let listen = gateway.as_str();
    // Its own process group: `git daemon` runs git-daemon as a child,
    // and both must go at the end.
    let mut daemon = Command::new("git")
        .args(["daemon", "--reuseaddr", "--export-all", &format!("--listen={listen}"), "--port=9418"])
        .arg(format!("--base-path={}", repo.display()))
        .arg(&repo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let url = format!("git://{listen}/app.git");
    let (d2, status) =
        c.json(["deploy", "app.example.test", "--git", &url, "--ref", "main", "--expect", "release: 2-tip"]);
    // An older commit, by its short id: the server does not give it out
    // by name, so it is found in the fetched branches.
    let (d2_old, old_status) = c.json([
        "deploy",
        "app.example.test",
        "--git",
        &url,
        "--ref",
        &first_commit[..12],
        "--expect",
        "release: 2</p>",
    ]);
    let missing = c.run(["deploy", "app.example.test", "--git", &url, "--ref", "0123456789ab"]);
    let _ = Command::new("kill").arg("--").arg(format!("-{}", daemon.id())).status();
    let _ = daemon.wait();
    assert_eq!(status, 0, "{d2:#}");
    assert_eq!(old_status, 0, "{d2_old:#}");
    let body = fleet.get(0, "app.example.test", "/").1;
    assert!(body.contains("Hello from Laravel and MariaDB") && body.contains("release: 2</p>"), "{body}");
    assert!(!fleet.sh(0, &format!("ls -A {base}/current")).contains(".git"));
    assert_eq!(missing.status.code(), Some(10));
    assert!(stderr_of(&missing).contains("commit 0123456789ab is not in any branch or tag"), "{}", stderr_of(&missing));

    // A release that fails its check never goes live; rollback is instant.
    let app3 = laravel_app(&work.path().join("r3"), "3");
    let out = c.run(["deploy", "app.example.test", "--from", app3.to_str().unwrap(), "--health-path", "/missing"]);
    assert_eq!(out.status.code(), Some(10), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fleet.get(0, "app.example.test", "/").1.contains("release: 2"));
    let (back, _) = c.json(["rollback", "app.example.test", "--to", &release1]);
    assert_eq!(back["current"], release1.as_str());
    assert!(fleet.get(0, "app.example.test", "/").1.contains("release: 1"));
}
