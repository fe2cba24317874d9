//! One file or folder of a backup restored into its site (real restic):
//! beside what is there, as the site's user, never replacing anything.
//! The site's user, hostile, has replaced the lost folder by a link to
//! /etc and points another at /etc: nothing outside the site is written,
//! a link in the backup comes back as a link, and bad paths are refused
//! before anything runs.

use chom_tests::stderr_of;
use chom_tests::web::{wordpress_tarball, WebFleet};

const WP: &str = "blog.example.test";
const WP_USER: &str = "w_blog_example_test";

#[test]
fn a_folder_and_a_file_come_back_beside_the_site_and_nothing_outside_it_is_written() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let tarball = wordpress_tarball(work.path());
    c.ok(["site", "create", WP, "--kind", "wordpress", "--server", "web0", "--tarball", tarball.to_str().unwrap()]);
    let base = format!("/var/www/{WP}");
    let uploads = format!("{base}/shared/wp-content/uploads");
    let (ok, out) = fleet.sh_as(
        0,
        WP_USER,
        &format!(
            "mkdir -p {uploads}/2024/05 && echo photo > {uploads}/2024/05/photo.jpg && \
             echo accents > '{uploads}/2024/Été (1).txt' && ln -s /etc/shadow {uploads}/2024/shadow && \
             ln -s /etc {uploads}/etc"
        ),
    );
    assert!(ok, "{out}");
    let b = c.json_ok(["backup", "create", WP]);
    let id = b["id"].to_string();

    // The folder is lost; the hostile user puts a link to /etc in its place
    // and another folder name that leads to /etc.
    let (ok, out) = fleet.sh_as(
        0,
        WP_USER,
        &format!("rm -rf {uploads}/2024 && ln -s /etc {uploads}/2024 && ln -s /etc {uploads}/old"),
    );
    assert!(ok, "{out}");
    let outside = || fleet.sh(0, "ls -la --time-style=full-iso /etc /etc/cron.d /root; sha256sum /etc/shadow");
    let before = outside();

    // Into shared/restored/ID by default: the folder, as the site's user's.
    let r = c.json_ok(["backup", "restore", &id, "--path", "shared/wp-content/uploads/2024"]);
    let placed = format!("shared/restored/{id}/2024");
    assert_eq!((r["placed"].as_str(), r["files"].as_u64()), (Some(placed.as_str()), Some(3)), "{r:#}");
    let got = format!("{base}/{placed}");
    assert_eq!(
        fleet.sh(0, &format!("cat {got}/05/photo.jpg '{got}/Été (1).txt'; stat -c '%U %F' {got} {got}/05/photo.jpg {got}/shadow; readlink {got}/shadow")),
        format!("photo\naccents\n{WP_USER} directory\n{WP_USER} regular file\n{WP_USER} symbolic link\n/etc/shadow\n")
    );

    // Back where it was: the name is taken (by the user's link), so nothing
    // is replaced; through the link to /etc, the user's own rights stop it.
    let out =
        c.run(["backup", "restore", &id, "--path", "shared/wp-content/uploads/2024", "--into", "wp-content/uploads"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("wp-content/uploads/2024 exists; nothing was changed"), "{}", stderr_of(&out));
    let out = c.run([
        "backup",
        "restore",
        &id,
        "--path",
        "shared/wp-content/uploads/2024",
        "--into",
        "wp-content/uploads/old",
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr_of(&out));
    assert_eq!(outside(), before, "nothing outside the site was written");

    // Once the user removed its link, the folder goes back in place.
    assert!(fleet.sh_as(0, WP_USER, &format!("rm {uploads}/2024")).0);
    let r = c.json_ok([
        "backup",
        "restore",
        &id,
        "--path",
        "shared/wp-content/uploads/2024",
        "--into",
        "wp-content/uploads",
    ]);
    assert_eq!(r["placed"], "shared/wp-content/uploads/2024");
    assert_eq!(fleet.sh(0, &format!("cat {uploads}/2024/05/photo.jpg")), "photo\n");
    assert_eq!(fleet.get(0, WP, "/wp-content/uploads/2024/05/photo.jpg"), (200, "photo\n".into()), "nginx serves it");

    // A file of the backed-up release, beside the first restore.
    let r = c.json_ok(["backup", "restore", &id, "--path", "current/wp-login.php"]);
    assert_eq!(r["placed"], format!("shared/restored/{id}/wp-login.php"));
    let release = b["release"].as_str().unwrap();
    assert_eq!(
        fleet.sh(
            0,
            &format!(
                "cmp {base}/releases/{release}/wp-login.php {base}/shared/restored/{id}/wp-login.php && echo same"
            )
        ),
        "same\n"
    );

    // Refused before anything runs (exit 2), or found missing (exit 10).
    for (args, code) in [
        (vec!["--path", "../../etc/shadow"], 2),
        (vec!["--path", "shared/../../etc/shadow"], 2),
        (vec!["--path", "/etc/shadow"], 2),
        (vec!["--path", "shared/*"], 2),
        (vec!["--path", "shared/wp-content/uploads/2024", "--into", "../../../etc"], 2),
        (vec!["--path", "shared/wp-content/uploads/2024", "--into", "/etc"], 2),
        (vec!["--path", "shared/nothing-here"], 10),
        // Through a link the user made before the backup: root follows it not.
        (vec!["--path", "shared/wp-content/uploads/etc/shadow"], 10),
    ] {
        let out = c.run(["backup", "restore", &id].into_iter().chain(args.iter().copied()));
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr_of(&out));
    }
    assert_eq!(outside(), before, "nothing outside the site was written");
    assert!(!fleet.sh(0, &format!("ls -A {base}/.chom")).contains("restore-path"), "no stage left");
    assert!(fleet.get(0, WP, "/").1.contains("<title>"), "the site serves");
}
