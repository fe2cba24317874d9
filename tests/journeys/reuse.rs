//! A redeploy links the files it did not send from the live release. What
//! the site's user could write (a build's result, plugins with dashboard
//! updates on) must never be linked as the operator's, nor let that user
//! reach another release through a shared file.

use chom_tests::stderr_of;
use chom_tests::web::{static_site, WebFleet};

const BLOG: &str = "blog.example.test";
const BLOG_USER: &str = "w_blog_example_test";

/// A build runs as the site's user and may rewrite any file of its copy,
/// the manifest included: what it rewrote or added is never linked into a
/// later release as if the operator had sent it.
#[test]
fn a_build_cannot_pass_its_files_off_as_the_operators() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let site = static_site(&work.path().join("site"), "Clean", 5);
    std::fs::create_dir_all(site.join("hooks")).unwrap();
    // The manifest still lists index.html with the hash the operator
    // sent, and now lists the planted page too.
    std::fs::write(
        site.join("hooks/build.sh"),
        "echo '<h1>HACKED</h1>' > index.html\necho planted > planted.html\nsha256sum planted.html >> .chom-manifest\n",
    )
    .unwrap();
    let dir = site.to_str().unwrap();
    c.ok(["site", "create", "built.example.test", "--kind", "static", "--server", "web0"]);
    let (built, status) = c.json(["deploy", "built.example.test", "--from", dir, "--build-hook", "hooks/build.sh"]);
    assert_eq!(status, 0, "{built:#}");
    assert!(fleet.get(0, "built.example.test", "/").1.contains("HACKED"), "the build's result is what goes live");

    let (clean, status) = c.json(["deploy", "built.example.test", "--from", dir, "--expect", "Clean"]);
    assert_eq!(status, 0, "{clean:#}");
    assert_eq!((clean["sent_files"].as_u64(), clean["reused_files"].as_u64()), (Some(1), Some(7)), "{clean:#}");
    assert_eq!(fleet.get(0, "built.example.test", "/").1, "<!doctype html><h1>Clean</h1>\n");
    assert_eq!(fleet.get(0, "built.example.test", "/planted.html").0, 404);
    assert_eq!(fleet.get(0, "built.example.test", "/page4.html").1, "<p>page 4 of Clean</p>\n");
}

/// WordPress deployed from a folder twice: the second release's files are
/// links to the first's. With dashboard updates on, the plugins become the
/// site's user's, each a copy of its own: the user's writes stay in the
/// live release, and every later deploy sends the plugins rather than
/// linking what the user may have written.
#[test]
fn what_the_sites_user_may_write_is_never_shared_with_another_release() {
    let fleet = WebFleet::start(1);
    let c = &fleet.chom;
    let work = tempfile::tempdir().unwrap();
    let wp = work.path().join("wp");
    let st = std::process::Command::new("cp").args(["-rL", "/usr/share/wordpress"]).arg(&wp).status().unwrap();
    assert!(st.success());
    let dir = wp.to_str().unwrap();
    c.ok(["site", "create", BLOG, "--kind", "wordpress", "--server", "web0", "--from", dir]);
    let first = fleet.sh(0, "readlink /var/www/blog.example.test/current").trim().to_owned();
    let (again, status) = c.json(["deploy", BLOG, "--from", dir]);
    assert_eq!(status, 0, "{again:#}");
    // wp-config.php is sent every time (a link into shared/ on the server).
    assert_eq!(again["sent_files"].as_u64(), Some(1), "{again:#}");

    let plugin = "wp-content/plugins/akismet/akismet.php";
    let live = format!("/var/www/blog.example.test/current/{plugin}");
    let stat = |path: &str| fleet.sh(0, &format!("stat -c '%h %U' {path}")).trim().to_owned();
    assert_eq!(stat(&live), "2 root", "the redeploy linked the plugin from the first release");

    c.ok(["site", "dashboard-updates", BLOG, "on"]);
    assert_eq!(stat(&live), format!("1 {BLOG_USER}"));
    let (wrote, said) = fleet.sh_as(0, BLOG_USER, &format!("echo '// the user was here' >> {live}"));
    assert!(wrote, "{said}");
    let sha = |path: &str| fleet.sh(0, &format!("sha256sum < {path}")).trim().to_owned();
    let operators = sha(&format!("/var/www/blog.example.test/{first}/{plugin}"));
    let local = std::process::Command::new("sha256sum").stdin(std::fs::File::open(wp.join(plugin)).unwrap()).output();
    assert_eq!(operators, String::from_utf8_lossy(&local.unwrap().stdout).trim(), "the first release is untouched");
    assert_ne!(sha(&live), operators);

    // A deploy with updates on: the plugins and themes are sent (and
    // wp-config.php), the rest linked, and no attempt fails on the way.
    let (next, status) = c.json(["deploy", BLOG, "--from", dir]);
    assert_eq!(status, 0, "{next:#}");
    let writable = ["wp-content/plugins", "wp-content/themes"].iter().map(|p| walk_count(&wp.join(p))).sum::<u64>();
    assert_eq!(next["sent_files"].as_u64(), Some(writable + 1), "{next:#}");
    assert!(next["reused_files"].as_u64().unwrap() > 1000, "{next:#}");
    assert_eq!(sha(&live), operators, "the new release has the operator's plugin");
    assert_eq!(stat(&live), format!("1 {BLOG_USER}"));
    let (show, _) = c.json(["site", "show", BLOG]);
    let states: Vec<&str> = show["deploys"].as_array().unwrap().iter().map(|d| d["state"].as_str().unwrap()).collect();
    assert!(!states.contains(&"failed"), "{show:#}");
    let out = c.run(["site", "dashboard-updates", BLOG, "off"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
}

fn walk_count(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk_count(&e.path())
            } else {
                u64::from(t.is_file())
            }
        })
        .sum()
}
